"""CPU and wall time of one Web Config page load, per Chromium build and with or without trace snapshots.

    PYTHONPATH=bench .venv/bin/python bench/bench_page_load.py [--loads 40] [--rounds 2]

A virtual lab serves the devices; one logged-in context loads Email Server > Basic ``--loads`` times, and the CPU
of this process's whole tree (Chromium, Playwright's driver, the lab) is read from ``/proc`` before and after.
The baseline is Debian's full ``chromium`` without tracing, measured in the same run; variants are interleaved
round by round so that load from other processes falls on all of them alike. Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cpu_tree import tree_cpu
from playwright.sync_api import Browser, Playwright, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.browser import chromium_args, tier_resolution  # noqa: E402
from harness.device.webconfig import WebConfig  # noqa: E402
from harness.lab.labfile import DeviceInfo, LabInfo  # noqa: E402
from harness.lab.virtual import VirtualLab  # noqa: E402

BUILDS = {"chromium": "/usr/bin/chromium", "headless-shell": "/usr/bin/chromium-headless-shell"}


def launch(playwright: Playwright, executable: str, info: LabInfo) -> Browser:
    return playwright.chromium.launch(executable_path=executable, headless=True,
                                      args=chromium_args(tier_resolution(info.msft.identity.port),
                                                         [info.msft.identity.spki_sha256]))


def per_load(browser: Browser, device: DeviceInfo, loads: int, trace: bool) -> tuple[float, float]:
    """(CPU ms, wall ms) of one page load, averaged over ``loads``."""
    context = browser.new_context()
    try:
        if trace:
            context.tracing.start(snapshots=True, screenshots=False, sources=False)
        wc = WebConfig(context.new_page(), device.webconfig)
        wc.session.log_in(device.admin_password)
        page = wc.email_server
        page.open()
        cpu, wall = tree_cpu(os.getpid()), time.perf_counter()
        for _ in range(loads):
            page.open()
        cpu, wall = tree_cpu(os.getpid()) - cpu, time.perf_counter() - wall
        if trace:
            context.tracing.stop()
        return cpu / loads * 1000, wall / loads * 1000
    finally:
        context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    builds = {name: path for name, path in BUILDS.items() if Path(path).exists()}
    if "chromium" not in builds:
        print("Debian's chromium (the baseline) is not installed")
        return 2
    variants = [(name, trace) for name in builds for trace in (False, True)]
    results: dict[tuple[str, bool], list[tuple[float, float]]] = {v: [] for v in variants}
    with tempfile.TemporaryDirectory() as state, VirtualLab(ROOT / "fixtures" / "virtual-lab.yaml",
                                                             Path(state)) as lab, sync_playwright() as playwright:
        assert lab.info is not None
        device = lab.info.devices[0]
        browsers = {name: launch(playwright, path, lab.info) for name, path in builds.items()}
        for _ in range(args.rounds):
            for name, trace in variants:
                results[(name, trace)].append(per_load(browsers[name], device, args.loads, trace))
        for browser in browsers.values():
            browser.close()
    base_cpu = statistics.median(c for c, _ in results[("chromium", False)])
    print(f"one Email Server page load, {args.loads} loads x {args.rounds} rounds (median of rounds):")
    for (name, trace), runs in results.items():
        cpu, wall = statistics.median(c for c, _ in runs), statistics.median(w for _, w in runs)
        label = f"{name}{' + trace snapshots' if trace else ''}"
        print(f"  {label:34s} {cpu:6.1f} ms CPU  {wall:6.1f} ms wall  CPU x{cpu / base_cpu:.2f} of chromium")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
