"""The plugin's command-line options and where their defaults come from."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.lab.defaults import DEFAULT_INVENTORY


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("epson-hil", "Epson OAuth 2.0 e-mail hardware-in-the-loop")
    group.addoption("--inventory", action="store", default=None, metavar="FILE",
                    help=f"lab inventory YAML (default: {DEFAULT_INVENTORY} of the checkout)")
    group.addoption("--device", action="append", default=[], metavar="NAME", dest="devices",
                    help="test only this inventory device (repeatable; default: every device)")
    group.addoption("--lab-state-dir", action="store", default=None, metavar="DIR",
                    help="attach to the virtual lab running there ('epson-hil lab up'), and keep leases there")
    group.addoption("--lease-ttl", action="store", type=float, default=120.0, metavar="SECONDS",
                    help="time-to-live of a device lease (renewed by a heartbeat; default 120)")
    group.addoption("--lease-wait", action="store", type=float, default=0.0, metavar="SECONDS",
                    help="how long to wait for a device another run holds (default: do not wait)")
    group.addoption("--infra-retries", action="store", type=int, default=2, metavar="N",
                    help="retry a test failed by lab infrastructure up to N times (default 2)")
    group.addoption("--run-id", action="store", default=None, metavar="ID",
                    help="this run's id (leases, records); default: xdist's run id or a fresh one")
    group.addoption("--report-dir", action="store", default=None, metavar="DIR", dest="report_dir",
                    help="write the run record (DIR/run.json) and keep evidence under DIR/attachments/; "
                         "everything there is redacted ('epson-hil run' passes reports/<run-id>)")
    group.addoption("--trace-snapshots", action="store_true", default=False, dest="trace_snapshots",
                    help="record DOM snapshots in the Playwright traces kept for failed tests (the page before and "
                         "after every action; about 15%% more CPU); a failure keeps its pages' HTML either way")


def inventory_path(config: pytest.Config) -> Path:
    """The inventory file of this session, resolved against the checkout's root."""
    given = config.getoption("--inventory")
    path = Path(given) if given else Path(config.rootpath) / DEFAULT_INVENTORY
    if not path.is_file():
        raise pytest.UsageError(f"--inventory: no such file: {path}")
    return path.resolve()
