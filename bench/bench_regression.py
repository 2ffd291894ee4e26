"""Wall time of the full default regression, serial and with parallel workers, and where the time goes.

Every run is ``epson-hil run`` as a user runs it (results, record and sign-off included): serial first, then
``-n N`` for each N given, back to back so that they see the same load (printed from ``os.getloadavg``). The
serial run also loads ``regression_clock``, which reads the main thread's CPU time (the harness: test code,
page objects, parsing) against the wall time; the rest is waiting on Web Config, the browser, the tier, SNMP.
Prints ratios, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent


def run(inventory: Path, out: Path, workers: int, clock: Path | None = None) -> tuple[float, str]:
    """Wall time of ``epson-hil run [-n workers]`` and pytest's summary line (``... passed, ... skipped``)."""
    argv = [str(Path(sys.executable).parent / "epson-hil"), "run", "--inventory", str(inventory), "--out", str(out),
            "--run-id", f"bench-n{workers}"]
    env = dict(os.environ)
    if workers:
        argv += ["-n", str(workers)]
    if clock is not None:
        argv += ["--", "-p", "regression_clock"]
        env |= {"BENCH_CLOCK": str(clock), "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH),
                                                                                        env.get("PYTHONPATH")]))}
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, check=False, capture_output=True, text=True)
    wall = time.perf_counter() - started
    summary = next((line.strip(" =") for line in reversed(done.stdout.splitlines())
                    if " in " in line and ("passed" in line or "failed" in line)), f"exit {done.returncode}")
    failed = [line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    return wall, "\n".join([summary, *failed])


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inventory", type=Path, default=ROOT / "fixtures" / "virtual-lab.yaml")
    parser.add_argument("-n", "--workers", type=int, action="append",
                        help="parallel workers, repeatable (default: 2, one per core, and 4, one per device)")
    args = parser.parse_args()
    counts = args.workers or [2, 4]
    loads = [load()]
    with tempfile.TemporaryDirectory(prefix="bench-regression-") as tmp:
        out = Path(tmp)
        clock_file = out / "clock.json"
        wall_serial, summary_serial = run(args.inventory, out, 0, clock_file)
        loads.append(load())
        runs = []
        for workers in counts:
            runs.append((workers, *run(args.inventory, out, workers)))
            loads.append(load())
        clock = json.loads(clock_file.read_text()) if clock_file.is_file() else {"cpu": 0.0, "wall": 0.0}
    harness_share = clock["cpu"] / clock["wall"] if clock["wall"] else 0.0
    print(f"full default regression ({args.inventory.name}), wall time of epson-hil run:")
    print(f"  serial  {wall_serial:7.1f} s   (target < 180 s: {'MET' if wall_serial < 180 else 'NOT MET'})   "
          f"{summary_serial}")
    for workers, wall, summary in runs:
        ratio = wall_serial / wall
        print(f"  -n {workers:<4} {wall:7.1f} s   speed-up x{ratio:.2f} "
              f"(target >= x1.5: {'MET' if ratio >= 1.5 else 'NOT MET'})   {summary}")
    print(f"  serial: {harness_share:.0%} of the session in the harness (main-thread CPU), "
          f"{1 - harness_share:.0%} waiting on devices, browser and tier")
    print(f"  load average (1, 5, 15 min) before, then after each run: {' | '.join(loads)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
