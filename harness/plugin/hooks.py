"""Options, markers, device parametrisation, failure classes and infrastructure retries."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from _pytest.runner import runtestprotocol

from harness.lab.inventory import load_inventory
from harness.lab.outcomes import FailureClass, classify
from harness.lab.yamlfile import InventoryError
from harness.plugin.options import add_options, inventory_path
from harness.reporting.browser_evidence import browser_evidence

FAILURE_CLASS = pytest.StashKey[FailureClass]()
#: The run record's collector, registered under this name when ``--report-dir`` is given.
RECORD_PLUGIN = "epson-hil-run-record"
#: First wait before retrying an infrastructure failure; doubles per attempt.
RETRY_BACKOFF = 1.0


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requires(*capabilities): run only on devices (and labs) that have "
                                       "every capability; skip with the reason otherwise")
    config.addinivalue_line("markers", "destructive: changes a device beyond what the test restores itself")
    config.addinivalue_line("markers", "guide(section, claim): the step or claim of the vendor guide a test checks")
    browser_evidence().snapshots = bool(config.getoption("trace_snapshots", False))
    if config.getoption("devices"):
        selected_devices(config)  # a bad --device is a usage error before anything is collected
    report_dir = config.getoption("report_dir", None)
    if report_dir and not config.pluginmanager.has_plugin(RECORD_PLUGIN):
        from harness.reporting.collector import RunCollector

        config.pluginmanager.register(RunCollector(config, Path(report_dir)), RECORD_PLUGIN)


def selected_devices(config: pytest.Config) -> list[str]:
    """Inventory device names, in inventory order, filtered by ``--device``."""
    path = inventory_path(config)
    try:
        names = [d.name for d in load_inventory(path).devices]
    except InventoryError as exc:
        raise pytest.UsageError(str(exc)) from None
    wanted = config.getoption("devices")
    unknown = [n for n in wanted if n not in names]
    if unknown:
        raise pytest.UsageError(f"--device {unknown[0]}: not in {path} (devices: {', '.join(names)})")
    return [n for n in names if not wanted or n in wanted]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "device_name" in metafunc.fixturenames:
        names = selected_devices(metafunc.config)
        # Session scope runs each device's tests together, in file order: a serial run tests one device after
        # another, as a worker of a parallel run does (one device's time travel or revocation in the shared lab then
        # never falls between another device's tests).
        metafunc.parametrize("device_name", names, ids=names, scope="session")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        name = callspec.params.get("device_name") if callspec is not None else None
        if name is not None:
            # With pytest-xdist --dist loadgroup: one worker per device, its tests in order.
            item.add_marker(pytest.mark.xdist_group(name=name))
            item.user_properties.append(("device", name))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.excinfo is not None and FAILURE_CLASS not in item.stash:
        failure = classify(call.excinfo.value)
        item.stash[FAILURE_CLASS] = failure
        # On the item, so the teardown report (the one JUnit reads properties from) carries it too.
        item.user_properties.append(("failure_class", failure.value))
        report.user_properties.append(("failure_class", failure.value))


def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    """Run a device test, retrying it only when lab infrastructure failed it; every attempt is kept."""
    retries = max(0, int(item.config.getoption("infra_retries")))
    if retries == 0 or "device_name" not in getattr(item, "fixturenames", ()):
        return None  # pytest's own protocol: the harness's tests are never retried
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    attempts: list[dict[str, Any]] = []
    baseline = list(item.user_properties)
    for attempt in range(1, retries + 2):
        if FAILURE_CLASS in item.stash:
            del item.stash[FAILURE_CLASS]
        item.user_properties[:] = baseline
        reports = runtestprotocol(item, nextitem=nextitem, log=False)
        failed = next((r for r in reports if r.failed), None)
        failure = item.stash.get(FAILURE_CLASS, None)
        attempts.append({"attempt": attempt, "outcome": "failed" if failed else "passed",
                         "phase": failed.when if failed else None,
                         "failure_class": failure.value if failed and failure else None,
                         "message": _crash_message(failed) if failed else None,
                         "duration": round(sum(r.duration for r in reports), 3)})
        if failed is None or failure is not FailureClass.LAB_INFRASTRUCTURE or attempt > retries:
            break
        _forget_failed_fixtures(item)
        time.sleep(RETRY_BACKOFF * 2 ** (attempt - 1))
    for report in reports:
        if len(attempts) > 1:
            report.user_properties.append(("attempts", json.dumps(attempts)))
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def _crash_message(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    return str(crash.message) if crash is not None else str(report.longrepr)[:500]


def _forget_failed_fixtures(item: pytest.Item) -> None:
    """Drop fixtures whose set-up failed (pytest caches the failure) so the retry sets them up afresh."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return
    for defs in info.name2fixturedefs.values():
        for fixturedef in defs:
            cached = getattr(fixturedef, "cached_result", None)
            if cached is not None and cached[2] is not None:
                fixturedef.cached_result = None
