"""The pytest side of the Allure results: failure evidence, the tier's evidence per test, failure classes,
``environment.properties`` and ``categories.json`` — all through the redaction filter.

Per test: each watched browser context starts a trace chunk; on a failure every open page is photographed and
the chunks saved (``browser_evidence``); after tear-down the tier's new SMTP sessions and sign-in log entries
are attached (``tier_evidence``); a failed result's message is led by its failure class and carries it as a
label, so the categories match. At the end of the session (the controller, under pytest-xdist) the
environment and categories files are written into the alluredir.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from allure_commons.model2 import Label, StatusDetails
from allure_pytest.utils import ALLURE_LABEL_MARK
from pluggy import Result

from harness.lab.inventory import BuiltinMicrosoft, load_inventory
from harness.lab.outcomes import FailureClass
from harness.lab.session import LabSession
from harness.lab.yamlfile import InventoryError
from harness.plugin.options import inventory_path
from harness.reporting.allure_files import (
    environment_from_record,
    environment_properties,
    failure_message,
    install_redacting_writer,
    write_categories,
    write_environment,
)
from harness.reporting.browser_evidence import browser_evidence
from harness.reporting.claims import claims_by_test
from harness.reporting.collector import (
    device_capabilities,
    device_record,
    git_revision,
    harness_version,
    inventory_devices,
    run_claims,
    section_of,
    test_id,
)
from harness.reporting.record import RECORD_NAME, load_record
from harness.reporting.steps import name_device
from harness.reporting.tier_evidence import TierEvidence

FAILURE_LABEL = "failure_class"
#: The Allure epic every suite result belongs to; features are the guide's sections.
GUIDE_EPIC = "Epson OAuth 2.0 guide"
_SESSIONS = pytest.StashKey[list[LabSession]]()
_TIER = pytest.StashKey[TierEvidence]()
_CAPTURED = pytest.StashKey[bool]()
_ALLUREDIR = pytest.StashKey[Path | None]()


def _alluredir(config: pytest.Config) -> Path | None:
    value = getattr(config.option, "allure_report_dir", None)
    return Path(value).absolute() if value else None  # as allure-pytest takes it: before any chdir


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SESSIONS] = []
    alluredir = _alluredir(config)
    config.stash[_ALLUREDIR] = alluredir
    if alluredir is not None:
        install_redacting_writer(config.add_cleanup)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.stash.get(_ALLUREDIR, None) is None:
        return
    by_test = claims_by_test(run_claims(config))
    for item in items:
        for label_type, value in guide_labels(item, by_test):
            item.add_marker(getattr(pytest.mark, ALLURE_LABEL_MARK)(value, label_type=label_type))


def guide_labels(item: pytest.Item, claims: dict[str, list[str]]) -> list[tuple[str, str]]:
    """Allure labels that group results as the guide does: section (feature), claim (story), device (tag)."""
    labels = [("epic", GUIDE_EPIC)]
    section = section_of(item)
    if section:
        labels.append(("feature", section))
    labels += [("story", claim) for claim in claims.get(test_id(item.nodeid), [])]
    callspec = getattr(item, "callspec", None)
    device = callspec.params.get("device_name") if callspec is not None else None
    if device:
        labels.append(("tag", str(device)))
    return labels


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest,
                         ) -> Generator[None, Result[Any], None]:
    outcome = yield
    if fixturedef.argname != "lab" or outcome.excinfo is not None:
        return
    session = outcome.get_result()
    if not isinstance(session, LabSession):
        return
    config = request.config
    config.stash[_SESSIONS].append(session)
    for device in session.devices.values():
        name_device(device.name, device.webconfig_url, f"{device.snmp_host}:{device.snmp_port}")
    if session.lab is not None and _TIER not in config.stash:
        tier = TierEvidence(session.lab.msft.control_client())
        tier.skip_existing()
        config.stash[_TIER] = tier
        config.add_cleanup(tier.control.close)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    item.stash[_CAPTURED] = False
    browser_evidence().begin_test()
    yield


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None],
                              ) -> Generator[None, Result[pytest.TestReport], None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if not report.failed:
        return
    if not item.stash.get(_CAPTURED, False):
        item.stash[_CAPTURED] = True
        browser_evidence().keep_failure()
    failure = dict(report.user_properties).get(FAILURE_LABEL)  # the plugin's classification (hooks.py)
    if failure is not None:
        _mark_allure_result(item.config, FailureClass(str(failure)))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    yield
    tier = item.config.stash.get(_TIER, None)
    if tier is not None:
        tier.attach_new()
    browser_evidence().end_test()


def _mark_allure_result(config: pytest.Config, failure: FailureClass) -> None:
    """Lead the Allure result's message with the failure class and label it, so categories.json matches."""
    listener = config.pluginmanager.get_plugin("allure_listener")
    if listener is None:
        return
    result = listener.allure_logger.get_test(None)
    if result is None:
        return
    details = result.statusDetails or StatusDetails()
    details.message = failure_message(failure, details.message)
    result.statusDetails = details
    result.labels = [label for label in result.labels if label.name != FAILURE_LABEL]
    result.labels.append(Label(name=FAILURE_LABEL, value=failure.value))


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session) -> Iterator[None]:
    yield  # after every plugin's own: the run record is written by then
    config = session.config
    alluredir = config.stash.get(_ALLUREDIR, None)
    if alluredir is None or hasattr(config, "workerinput"):
        return  # pytest-xdist workers leave the run's files to the controller
    write_categories(alluredir)
    write_environment(alluredir, _environment(config))


def _environment(config: pytest.Config) -> dict[str, str]:
    """From the run record when this run writes one, else from what this process saw of the lab."""
    report_dir = getattr(config.option, "report_dir", None)
    if report_dir and (Path(report_dir) / RECORD_NAME).is_file():
        return environment_from_record(load_record(Path(report_dir)))
    path = inventory_path(config)
    sessions = config.stash.get(_SESSIONS, [])
    if sessions:
        lab = sessions[0]
        builtin, devices = lab.builtin, [device_record(lab, name) for name in lab.devices]
    else:
        try:
            inventory = load_inventory(path)
        except InventoryError:
            return {"harness.version": harness_version(), "inventory": str(path)}  # the run failed on it already
        builtin = isinstance(inventory.msft, BuiltinMicrosoft)
        devices = list(inventory_devices(inventory, device_capabilities(inventory)).values())
    revision, dirty = git_revision(Path(config.rootpath))
    return environment_properties(harness_version=harness_version(), git_revision=revision, git_dirty=dirty,
                                  tier="builtin" if builtin else "real", inventory=str(path), devices=devices)
