"""A pytest plugin: the wall time of every Playwright call, by method and by the harness line that made it.

    PYTHONPATH=bench .venv/bin/pytest suites --device mfp-c5790 -p no:cacheprovider -q -p playwright_calls

Playwright's sync API runs each call as a round trip to its driver and the browser, so a test's wall time is
mostly these calls. The table shows which ones add up (page loads, waits, reads) and where they come from; the
two biggest finds so far were a read costing a round trip per field and a wait backing off to 500 ms.
"""

from __future__ import annotations

import time
import traceback
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright._impl import _sync_base

ROOT = str(Path(__file__).resolve().parents[1]) + "/"
#: Frames of these files are skipped when naming the caller: they only pass calls on.
PASS_THROUGH = ("harness/device/webconfig/base.py", "harness/device/webconfig/reading.py", "harness/reporting/")
ROWS = 40

_calls: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
_original = _sync_base.SyncBase._sync


def _caller() -> str:
    for frame in reversed(traceback.extract_stack(limit=16)[:-2]):
        where = frame.filename.removeprefix(ROOT)
        if where.startswith(("harness/", "suites/")) and not where.startswith(PASS_THROUGH):
            return f"{where}:{frame.lineno}:{frame.name}"
    return "elsewhere"


def _timed(self: Any, coro: Any) -> Any:
    name = f"{getattr(coro, '__qualname__', coro)}  @{_caller()}"
    started = time.perf_counter()
    try:
        return _original(self, coro)
    finally:
        entry = _calls[name]
        entry[0] += 1
        entry[1] += time.perf_counter() - started


def pytest_configure(config: pytest.Config) -> None:
    _sync_base.SyncBase._sync = _timed  # type: ignore[method-assign]


@pytest.hookimpl(hookwrapper=True)
def pytest_sessionfinish(session: pytest.Session) -> Iterator[None]:
    yield
    total = sum(seconds for _, seconds in _calls.values())
    print(f"\n--- Playwright calls: {total:.1f} s of wall time in all")
    print("  seconds  calls  ms/call  call  @caller")
    for name, (count, seconds) in sorted(_calls.items(), key=lambda item: -item[1][1])[:ROWS]:
        print(f"  {seconds:7.1f} {int(count):6d} {seconds / count * 1000:8.1f}  {name}")
