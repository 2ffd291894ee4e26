"""``epson-hil``: the command line. Each command group is one module here with a ``register(subparsers)``."""

from __future__ import annotations

import argparse
import sys

from harness.cli import capture, doctor, lab, probe, report, run, sim

#: Command modules, each adding its sub-commands (``run``, ``capture``, ``report`` slot in here).
COMMANDS = (lab, run, doctor, probe, sim, capture, report)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="epson-hil",
        description="Hardware-in-the-loop certification of Epson devices' OAuth 2.0 e-mail with Exchange Online.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; the return value is the process's exit status."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    return int(args.func(args))
