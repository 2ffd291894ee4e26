"""A pytest plugin that counts browser page loads (main-frame navigations) per test and per call site.

Chromium's ~100 ms of CPU per page load is most of a regression's CPU (see README.md), so the count of loads,
and who asked for each, is the figure to cut. Load it beside the suites::

    PYTHONPATH=bench .venv/bin/pytest suites --device mfp-c5790 -p no:cacheprovider -q -p page_loads

It prints the loads per test phase (setup, call, teardown), per fixture and per call site (the suite or fixture
line, and the page object method that navigated), and writes them as JSON to ``$PAGE_LOADS`` if set. Beside each
test's loads it prints the CPU seconds the whole process tree (Chromium included) spent on it, from ``/proc``.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections import Counter
from collections.abc import Generator
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import greenlet
import pytest
from cpu_tree import tree_cpu
from playwright.sync_api import Frame, Page
from playwright.sync_api._generated import Browser, BrowserContext

ROOT = Path(__file__).resolve().parent.parent
_state: dict[str, Any] = {"phase": "session", "fixture": None}
_loads: list[dict[str, str]] = []
_cpu: dict[str, float] = {}


def _caller_frame() -> FrameType | None:
    """The frame of the code that made the Playwright call (the sync API runs handlers in another greenlet)."""
    current = greenlet.getcurrent()
    root = current
    while root.parent is not None:
        root = root.parent
    return sys._getframe(1) if root is current else root.gr_frame


def _sites(frame: FrameType | None) -> tuple[str, str]:
    """The outermost suite/fixture line and the innermost page-object method on the stack."""
    outer, inner = "?", "?"
    for entry in traceback.extract_stack(frame):
        path = Path(entry.filename)
        if not path.is_relative_to(ROOT) or ".venv" in path.parts:
            continue
        rel = path.relative_to(ROOT)
        where = f"{rel}:{entry.name}"
        if outer == "?" and (rel.parts[0] == "suites" or rel.name == "fixtures.py"):
            outer = f"{where}:{entry.lineno}"
        if rel.parts[:2] == ("harness", "device"):
            inner = where
    return outer, inner


def _on_navigated(frame: Frame) -> None:
    if frame.parent_frame is not None:
        return
    parts = urlsplit(frame.url)
    outer, inner = _sites(_caller_frame())
    _loads.append({"test": _state.get("test", ""), "phase": _state["phase"], "fixture": _state["fixture"] or "",
                   "url": f"{parts.netloc}{parts.path}", "outer": outer, "inner": inner})


def _watch_page(page: Page) -> None:
    page.on("framenavigated", _on_navigated)


def _watch_context(context: BrowserContext) -> BrowserContext:
    context.on("page", _watch_page)
    return context


_new_context = Browser.new_context
Browser.new_context = lambda self, *a, **k: _watch_context(_new_context(self, *a, **k))  # type: ignore[method-assign]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    _state.update(test=item.nodeid, phase="setup", cpu0=tree_cpu(os.getpid()))
    yield
    _state["phase"] = "call"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    _state["phase"] = "teardown"
    before = tree_cpu(os.getpid())
    yield
    _state["phase"] = "between"
    # The last teardown also ends the session (Chromium exits, its CPU leaves the tree): count up to its start then.
    _cpu[item.nodeid] = max(tree_cpu(os.getpid()), before) - _state["cpu0"]


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[Any]) -> Generator[None, None, None]:
    outer, _state["fixture"] = _state["fixture"], fixturedef.argname
    yield
    _state["fixture"] = outer


def pytest_terminal_summary(terminalreporter: Any) -> None:
    write = terminalreporter.write_line
    write(f"page loads: {len(_loads)}")
    tables = {
        "per phase": Counter(load["phase"] for load in _loads),
        "per fixture (setup)": Counter(load["fixture"] for load in _loads if load["phase"] == "setup"),
        "per URL": Counter(load["url"] for load in _loads),
        "per call site (outermost suite/fixture line -> page object method)":
            Counter(f"{load['phase']:8} {load['outer']} -> {load['inner']}" for load in _loads),
    }
    for title, counts in tables.items():
        write(f"--- {title}")
        for key, n in counts.most_common(40):
            write(f"{n:5d}  {key}")
    loads = Counter(load["test"] for load in _loads)
    write("--- per test: page loads, CPU seconds of the whole process tree")
    for test, cpu in sorted(_cpu.items(), key=lambda item: -item[1]):
        write(f"{loads[test]:5d} {cpu:6.1f} s  {test}")
    out = os.environ.get("PAGE_LOADS")
    if out:
        Path(out).write_text(json.dumps(_loads, indent=1))
