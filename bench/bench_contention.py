"""What running browsers side by side costs: CPU and wall time of one Web Config page load, 1, 2 and 4 at once.

    PYTHONPATH=bench .venv/bin/python bench/bench_contention.py [--loads 100] [--procs 1 2 4]

Each of N processes starts its own virtual lab and Chromium (as each xdist worker does), logs in, and loads Email
Server > Basic ``--loads`` times; each prints its whole tree's CPU per load (``/proc``) and its wall time per load.
One process is the baseline, measured in the same run. Throughput is N loads per wall-time-per-load: if a lone load
already keeps more than one core busy, two cores gain little from parallel browsers. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cpu_tree import tree_cpu

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def one(loads: int) -> None:
    """One process: its own lab and browser, then ``loads`` page loads; prints 'CPU-ms wall-ms' per load."""
    from playwright.sync_api import sync_playwright

    from harness.browser import launch_browser, tier_resolution
    from harness.device.webconfig import WebConfig
    from harness.lab.virtual import VirtualLab

    with tempfile.TemporaryDirectory() as state, VirtualLab(ROOT / "fixtures" / "virtual-lab.yaml",
                                                             Path(state)) as lab, sync_playwright() as playwright:
        assert lab.info is not None
        device = lab.info.devices[0]
        browser = launch_browser(playwright, resolve=tier_resolution(lab.info.msft.identity.port),
                                 spki=[lab.info.msft.identity.spki_sha256])
        wc = WebConfig(browser.new_context().new_page(), device.webconfig)
        wc.session.log_in(device.admin_password)
        page = wc.email_server
        for _ in range(10):
            page.open()
        cpu, wall = tree_cpu(os.getpid()), time.perf_counter()
        for _ in range(loads):
            page.open()
        cpu, wall = tree_cpu(os.getpid()) - cpu, time.perf_counter() - wall
        print(f"{cpu / loads * 1000:.2f} {wall / loads * 1000:.2f}", flush=True)
        browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=100)
    parser.add_argument("--procs", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.loads)
        return 0
    base_throughput = None
    print(f"Email Server page loads, {args.loads} per process, whole-tree CPU per load:")
    for count in args.procs:
        children = [subprocess.Popen([sys.executable, __file__, "--one", "--loads", str(args.loads)],
                                     stdout=subprocess.PIPE, text=True) for _ in range(count)]
        figures = [tuple(map(float, child.communicate()[0].split())) for child in children]
        cpu = statistics.mean(c for c, _ in figures)
        wall = statistics.mean(w for _, w in figures)
        throughput = count / wall * 1000
        base_throughput = base_throughput or throughput
        print(f"  {count} at once: {cpu:5.1f} ms CPU, {wall:6.1f} ms wall a load; "
              f"{throughput:5.1f} loads/s, x{throughput / base_throughput:.2f} of one")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
