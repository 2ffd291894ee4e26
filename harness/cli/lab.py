"""``epson-hil lab up`` and ``epson-hil lab status``: run the virtual lab, or ask whether one is running."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from harness.lab.defaults import DEFAULT_INVENTORY, DEFAULT_STATE_DIR
from harness.lab.labfile import LabInfo, lab_file, load_lab
from harness.lab.yamlfile import InventoryError


def register(sub: Any) -> None:
    lab = sub.add_parser("lab", help="run the virtual lab or check on it")
    lab_sub = lab.add_subparsers(dest="lab_command", required=True, metavar="COMMAND")

    up = lab_sub.add_parser("up", help="start the virtual lab and run until SIGINT or SIGTERM")
    up.add_argument("--inventory", type=Path, default=DEFAULT_INVENTORY, metavar="FILE",
                    help=f"lab inventory YAML (default: {DEFAULT_INVENTORY})")
    up.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, metavar="DIR",
                    help=f"where lab.json, the CA bundle and the tier's keys go (default: {DEFAULT_STATE_DIR})")
    up.set_defaults(func=lab_up)

    status = lab_sub.add_parser("status", help="read lab.json and check the lab answers")
    status.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, metavar="DIR")
    status.set_defaults(func=lab_status)


def summary(lab: LabInfo, state_dir: Path) -> str:
    """A short human description of a running lab: addresses, never passwords or tokens."""
    m = lab.msft
    users = ", ".join(f"{u.upn} ({', '.join(u.roles)})" if u.roles else u.upn for u in m.users)
    rows = [
        ("inventory", lab.inventory),
        ("identity", f"https://{m.identity.host}:{m.identity.port} (as login.microsoftonline.com, microsoft.com)"),
        ("authority", m.authority),
        ("device login", m.devicelogin_url),
        ("SMTP", f"{m.smtp.host}:{m.smtp.port} (STARTTLS, as {m.smtp.server_name})"),
        ("control API", m.control.url),
        ("CA bundle", str(m.ca_bundle)),
        ("test users", users),
        ("lab.json", f"{lab_file(state_dir)} (mode 0600: control token and test passwords)"),
        *((f"device {d.name}", f"{d.model} serial {d.serial}: Web Config {d.webconfig}, "
                               f"SNMP {d.snmp.host}:{d.snmp.port}") for d in lab.devices),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k.ljust(width)}  {v}" for k, v in rows)


def lab_up(args: argparse.Namespace) -> int:
    from harness.lab.virtual import LabBusy, VirtualLab
    from harness.msft.tier import TierError

    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    lab = VirtualLab(args.inventory, args.state_dir)
    try:
        try:
            info = lab.start()
        except InventoryError as exc:
            print(exc, file=sys.stderr)
            return 2
        except (LabBusy, TierError) as exc:
            print(f"epson-hil lab up: {exc}", file=sys.stderr)
            return 1
        print(f"epson-hil virtual lab is up (pid {info.pid})\n{summary(info, args.state_dir)}\n"
              "Stop it with Ctrl-C (SIGINT) or SIGTERM.", flush=True)
        stop.wait()
        print("epson-hil virtual lab: stopping", flush=True)
        return 0
    finally:
        lab.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def lab_status(args: argparse.Namespace) -> int:
    import requests

    from harness.msft.control_client import ControlApiError

    try:
        info = load_lab(args.state_dir)
    except InventoryError as exc:
        print(f"no lab: {exc}", file=sys.stderr)
        return 1
    control = info.msft.control_client()
    try:
        health = control.health()
    except (requests.RequestException, ControlApiError) as exc:
        print(f"lab.json names pid {info.pid}, but its control API does not answer: {exc}", file=sys.stderr)
        return 1
    finally:
        control.close()
    print(f"epson-hil virtual lab is up (pid {info.pid}, since {info.started_at}, lab clock "
          f"{health['clock']['iso']})\n{summary(info, args.state_dir)}")
    return 0
