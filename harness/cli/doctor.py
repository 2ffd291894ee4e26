"""``epson-hil doctor``: start (or attach to) a lab and prove the OAuth 2.0 e-mail story end to end."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from harness.lab.defaults import DEFAULT_INVENTORY
from harness.lab.labfile import MsftInfo
from harness.lab.yamlfile import InventoryError


def register(sub: Any) -> None:
    doctor = sub.add_parser("doctor", help="prove the whole OAuth 2.0 e-mail story against a lab, one check a line")
    where = doctor.add_mutually_exclusive_group()
    where.add_argument("--inventory", type=Path, metavar="FILE",
                       help=f"start a fresh virtual lab from this inventory (default: {DEFAULT_INVENTORY})")
    where.add_argument("--state-dir", type=Path, metavar="DIR",
                       help="attach to the lab running from DIR (its lab.json) instead of starting one")
    doctor.add_argument("--out", type=Path, default=Path("reports"), metavar="DIR",
                        help="write DIR/<run-id>/doctor.json (default: reports)")
    doctor.add_argument("--mailbox", metavar="UPN",
                        help="the printer's mailbox user (default: the first user without an admin role)")
    doctor.add_argument("--admin", metavar="UPN", help="the consenting administrator (default: the first "
                                                       "Global Administrator)")
    doctor.set_defaults(func=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    from harness.lab.labfile import load_lab
    from harness.lab.virtual import VirtualLab
    from harness.msft.tier import TierError

    try:
        if args.state_dir is not None:
            return diagnose(load_lab(args.state_dir).msft, args)
        with tempfile.TemporaryDirectory(prefix="epson-hil-doctor-") as state_dir, \
                VirtualLab(args.inventory or DEFAULT_INVENTORY, Path(state_dir)) as lab:
            assert lab.info is not None
            return diagnose(lab.info.msft, args)
    except InventoryError as exc:
        print(exc, file=sys.stderr)
        return 2
    except TierError as exc:
        print(f"epson-hil doctor: the virtual lab did not start: {exc}", file=sys.stderr)
        return 1


def diagnose(msft: MsftInfo, args: argparse.Namespace) -> int:
    from harness.doctor import Doctor, write_report

    try:
        doctor = Doctor(msft, mailbox=args.mailbox, admin=args.admin, echo=lambda line: print(line, flush=True))
    except KeyError as exc:
        print(f"epson-hil doctor: {exc.args[0]}", file=sys.stderr)
        return 2
    report = doctor.run()
    path = write_report(report, args.out)
    failed = [c.name for c in report.checks if c.status != "PASS"]
    verdict = "all checks passed" if report.passed else f"FAILED: {', '.join(failed)}"
    print(f"epson-hil doctor {report.run_id}: {verdict}; record in {path}")
    return 0 if report.passed else 1
