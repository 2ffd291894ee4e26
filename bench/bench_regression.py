"""Wall time of the full default regression, serial and with one worker per device, and where the time goes.

Serial: the suites run in this process with a small plugin that reads the main thread's CPU time (the harness:
test code, page objects, parsing) against the wall time; the rest is waiting — on Web Config, the browser, the
tier, SNMP. The virtual lab serves from other threads of the same process, so its CPU is not counted as the
harness's. Parallel: ``epson-hil run -n N`` as a user runs it (workers start labs of their own).
Prints ratios, asserts nothing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


class MainThreadClock:
    """Main-thread CPU time and wall time from the first test's start to the session's end."""

    def __init__(self) -> None:
        self.cpu0 = self.wall0 = 0.0
        self.cpu = self.wall = 0.0
        self.outcomes: dict[str, int] = {}

    def pytest_sessionstart(self, session: Any) -> None:
        self.cpu0, self.wall0 = time.thread_time(), time.perf_counter()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.outcomes[report.outcome] = self.outcomes.get(report.outcome, 0) + 1

    def pytest_sessionfinish(self, session: Any) -> None:
        self.cpu, self.wall = time.thread_time() - self.cpu0, time.perf_counter() - self.wall0


def serial(inventory: Path, out: Path) -> MainThreadClock:
    clock = MainThreadClock()
    pytest.main([str(ROOT / "suites"), "--inventory", str(inventory), "-q", "--no-header", "-p", "no:cacheprovider",
                 f"--junitxml={out / 'serial.xml'}", "--infra-retries", "0"], plugins=[clock])
    return clock


def parallel(inventory: Path, out: Path, workers: int) -> float:
    started = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "epson-hil"), "run", "--inventory", str(inventory),
                    "-n", str(workers), "--out", str(out), "--run-id", "bench-parallel"],
                   cwd=ROOT, check=False, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inventory", type=Path, default=ROOT / "fixtures" / "virtual-lab.yaml")
    parser.add_argument("-n", "--workers", type=int, default=4, help="parallel workers (default 4: one per device)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-regression-") as tmp:
        out = Path(tmp)
        clock = serial(args.inventory, out)
        wall_parallel = parallel(args.inventory, out, args.workers)
    harness_share = clock.cpu / clock.wall if clock.wall else 0.0
    print(f"\nfull default regression: {sum(clock.outcomes.values())} tests {clock.outcomes}")
    print(f"  serial                {clock.wall:7.1f} s   (target < 180 s: {'MET' if clock.wall < 180 else 'NOT MET'})")
    print(f"  -n {args.workers:<2}                 {wall_parallel:7.1f} s   speed-up x{clock.wall / wall_parallel:.2f} "
          f"(target >= x1.5: {'MET' if clock.wall / wall_parallel >= 1.5 else 'NOT MET'})")
    print(f"  serial time in the harness (main-thread CPU) {harness_share:.0%}, waiting on devices, browser and "
          f"tier {1 - harness_share:.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
