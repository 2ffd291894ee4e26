"""A pytest plugin for bench_regression.py: main-thread CPU and wall time of a run, written as JSON to $BENCH_CLOCK.

The main thread runs the harness (test code, page objects, parsing); the virtual lab serves from other threads
of the same process, so its CPU is not counted as the harness's.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

_state: dict[str, Any] = {"outcomes": {}}


def pytest_sessionstart(session: pytest.Session) -> None:
    _state["cpu0"], _state["wall0"] = time.thread_time(), time.perf_counter()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when == "setup" and not report.passed):
        outcomes = _state["outcomes"]
        outcomes[report.outcome] = outcomes.get(report.outcome, 0) + 1


def pytest_sessionfinish(session: pytest.Session) -> None:
    Path(os.environ["BENCH_CLOCK"]).write_text(json.dumps({
        "cpu": time.thread_time() - _state["cpu0"], "wall": time.perf_counter() - _state["wall0"],
        "outcomes": _state["outcomes"]}))
