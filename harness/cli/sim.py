"""``epson-hil sim defects`` and ``epson-hil sim models``: what the virtual devices can be and can be given."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(sub: Any) -> None:
    sim = sub.add_parser("sim", help="the virtual Epson devices: models and firmware defects")
    sim_sub = sim.add_subparsers(dest="sim_command", required=True, metavar="COMMAND")
    defects = sim_sub.add_parser("defects", help="list the firmware defects a virtual device can be given")
    defects.add_argument("--json", action="store_true", help="machine-readable output")
    defects.set_defaults(func=list_defects)
    models = sim_sub.add_parser("models", help="list the virtual models and their capabilities")
    models.add_argument("--json", action="store_true", help="machine-readable output")
    models.set_defaults(func=list_models)


def list_defects(args: argparse.Namespace) -> int:
    from harness.sim.defects import CATALOGUE

    if args.json:
        print(json.dumps([d.__dict__ for d in CATALOGUE], indent=2))
        return 0
    for d in CATALOGUE:
        print(f"{d.name}\n    {d.summary}\n    shows in: {d.observable} (guide {d.guide})")
    return 0


def list_models(args: argparse.Namespace) -> int:
    from harness.sim.models import list_models as catalogue

    rows = [{"model": m.model, "firmware": m.firmware, "capabilities": sorted(str(c) for c in m.capabilities)}
            for m in catalogue()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        print(f"{row['model']:<10} {row['firmware']:<14} {', '.join(row['capabilities'])}")
    return 0
