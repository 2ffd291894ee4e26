"""CPU and wall time of one navigation with the lab's Chromium flags, against Playwright's own defaults.

    PYTHONPATH=bench .venv/bin/python bench/bench_navigation.py [--loads 30] [--rounds 3]

Playwright's defaults leave Chromium's RenderDocument on: every cross-document navigation gets a new frame host in
the browser and a new frame in the renderer. The lab's flags (``harness.browser.chromium_args``) turn it off. Two
browsers, one per set of flags, each load Email Server > Basic and ``about:blank`` ``--loads`` times, interleaved
round by round; the CPU is the whole tree's (Chromium, Playwright's driver, the lab), read from ``/proc``.
The baseline is Playwright's defaults, measured in the same run. Figures are printed, not asserted.
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
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.browser import LAB_DISABLED_FEATURES, chromium_args, chromium_executable, tier_resolution  # noqa: E402
from harness.device.webconfig import WebConfig  # noqa: E402
from harness.lab.virtual import VirtualLab  # noqa: E402


def per_navigation(page: Page, url: str, loads: int) -> tuple[float, float]:
    """(CPU ms, wall ms) of one ``goto(url)``, averaged over ``loads``."""
    page.goto(url)
    cpu, wall = tree_cpu(os.getpid()), time.perf_counter()
    for _ in range(loads):
        page.goto(url)
    return (tree_cpu(os.getpid()) - cpu) / loads * 1000, (time.perf_counter() - wall) / loads * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state, VirtualLab(ROOT / "fixtures" / "virtual-lab.yaml",
                                                             Path(state)) as lab, sync_playwright() as playwright:
        assert lab.info is not None
        device = lab.info.devices[0]
        lab_args = chromium_args(tier_resolution(lab.info.msft.identity.port), [lab.info.msft.identity.spki_sha256])
        # Without the lab's --disable-features, Playwright's own list is the last one and applies.
        playwright_defaults = [a for a in lab_args if not a.startswith("--disable-features=")]
        flags = {"Playwright's defaults": playwright_defaults,
                 f"lab flags (off: {', '.join(LAB_DISABLED_FEATURES)})": lab_args}
        executable = chromium_executable(playwright)
        pages: dict[str, Page] = {}
        for name, argv in flags.items():
            browser = playwright.chromium.launch(executable_path=executable, headless=True, args=argv)
            wc = WebConfig(browser.new_context().new_page(), device.webconfig)
            wc.session.log_in(device.admin_password)
            wc.email_server.open()
            pages[name] = wc.page
        targets = {"Email Server": next(iter(pages.values())).url, "about:blank": "about:blank"}
        results: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for _ in range(args.rounds):
            for name, page in pages.items():
                for target, url in targets.items():
                    results.setdefault((target, name), []).append(per_navigation(page, url, args.loads))
    print(f"one navigation, {args.loads} loads x {args.rounds} rounds (median of rounds), {executable or 'bundled'}:")
    for target in targets:
        base = statistics.median(c for c, _ in results[(target, "Playwright's defaults")])
        for name in flags:
            runs = results[(target, name)]
            cpu, wall = statistics.median(c for c, _ in runs), statistics.median(w for _, w in runs)
            print(f"  {target:13s} {name:36s} {cpu:6.1f} ms CPU  {wall:6.1f} ms wall  CPU x{cpu / base:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
