"""What the benchmarks share: servers in a child process, timed client threads, interleaved rounds, medians.

The servers run in a spawned child process so that client threads and server loops do not share a GIL; the child
answers "cpu" with its CPU time so far, which gives the server's CPU per operation independently of client speed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

DEFAULT_INVENTORY = Path(__file__).resolve().parent.parent / "fixtures" / "virtual-lab.yaml"

#: A client thread's work: entered once per thread and measurement, it gives the operation to repeat.
Work = Callable[[], AbstractContextManager[Callable[[], None]]]


# --- server side (child process) ---------------------------------------------------------------------------
def answer_until_stopped(conn: Connection, info: dict[str, Any]) -> None:
    """Send ``info`` to the parent, then answer its "cpu" requests until it says anything else."""
    conn.send(info)
    while conn.recv() == "cpu":
        conn.send(time.process_time())


class ServerProcess:
    """A spawned child running ``target(conn, *args)``, which calls :func:`answer_until_stopped` once serving."""

    def __init__(self, target: Callable[..., None], *args: Any) -> None:
        self._conn, theirs = multiprocessing.Pipe()
        self._child = multiprocessing.get_context("spawn").Process(target=target, args=(theirs, *args), daemon=True)
        self._child.start()
        if not self._conn.poll(120):
            self._child.kill()
            raise RuntimeError("the benchmark's servers did not start within 120 s")
        self.info: dict[str, Any] = self._conn.recv()

    def cpu(self) -> float:
        """The child's CPU time (user + system) so far, in seconds."""
        self._conn.send("cpu")
        return float(self._conn.recv())

    def stop(self) -> None:
        self._conn.send("stop")
        self._child.join(15)
        if self._child.is_alive():
            self._child.kill()


# --- client side ----------------------------------------------------------------------------------------------
@dataclass
class Result:
    """One measurement of one server: operations done in ``seconds`` and the CPU both sides spent."""

    name: str
    count: int
    errors: int
    seconds: float
    server_cpu: float
    client_cpu: float
    first_error: str = ""

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.server_cpu / max(self.count, 1)

    @property
    def client_cpu_ms(self) -> float:
        return 1000 * self.client_cpu / max(self.count, 1)


def load(name: str, work: Work, threads: int, seconds: float, cpu: Callable[[], float],
         failures: tuple[type[BaseException], ...]) -> Result:
    """Repeat ``work`` in ``threads`` threads for ``seconds``; exceptions in ``failures`` count as errors."""
    counts = [0] * threads
    errors = [0] * threads
    first_error: list[str] = []
    deadline = time.monotonic() + seconds

    def worker(i: int) -> None:
        with work() as operation:
            while time.monotonic() < deadline:
                try:
                    operation()
                    counts[i] += 1
                except failures as exc:
                    errors[i] += 1
                    first_error.append(f"{type(exc).__name__}: {exc}"[:300])

    cpu_before, client_before, started = cpu(), time.process_time(), time.monotonic()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed, cpu_used = time.monotonic() - started, cpu() - cpu_before
    return Result(name, sum(counts), sum(errors), elapsed, cpu_used, time.process_time() - client_before,
                  first_error[0] if first_error else "")


def median(results: list[Result]) -> Result:
    """The run with the median rate."""
    ordered = sorted(results, key=lambda r: r.rate)
    return ordered[len(ordered) // 2]


def interleaved(works: dict[str, Work], args: argparse.Namespace, cpu: Callable[[], float],
                failures: tuple[type[BaseException], ...], warmup: float = 0.5) -> dict[str, list[Result]]:
    """A short warm-up of each server, then ``args.rounds`` rounds each measuring every server in turn."""
    for name, work in works.items():  # imports, first handshakes, caches
        load(name, work, args.threads, warmup, cpu, failures)
    runs: dict[str, list[Result]] = {name: [] for name in works}
    for _ in range(args.rounds):
        for name, work in works.items():
            runs[name].append(load(name, work, args.threads, args.seconds, cpu, failures))
    return runs


def add_arguments(parser: argparse.ArgumentParser, threads: int = 4) -> None:
    """The options every benchmark takes: client threads, length and number of measurements, inventory."""
    parser.add_argument("--threads", type=int, default=threads, help="client threads")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved measurements per server")
    parser.add_argument("--inventory", default=str(DEFAULT_INVENTORY))


def print_table(runs: dict[str, list[Result]], unit: str) -> None:
    """One line per server: the median run's figures, then every run's rate."""
    print(f"{'server':<12}{unit + 's':>10}{'errors':>8}{'per s':>9}{f'server CPU ms/{unit}':>24}"
          f"{f'client CPU ms/{unit}':>24}   every run (per s)")
    for name, results in runs.items():
        r = median(results)
        spread = ", ".join(f"{run.rate:.0f}" for run in results)
        print(f"{name:<12}{r.count:>10}{r.errors:>8}{r.rate:>9.1f}{r.cpu_ms:>24.3f}{r.client_cpu_ms:>24.3f}"
              f"   {spread}")
    for name, results in runs.items():
        failed = next((r.first_error for r in results if r.first_error), "")
        if failed:
            print(f"first error of {name}: {failed}")


def total_errors(runs: Iterable[list[Result]]) -> int:
    return sum(r.errors for results in runs for r in results)
