"""The pytest plugin that builds the run record and writes ``<report-dir>/run.json`` through the redactor.

Works alone and under pytest-xdist. Each test process (a worker, or the only process) opens evidence around
each test and puts what only it knows in the teardown report's ``hil_record`` property (the test's guide
section, title, device, the device's own words, evidence); at its end it hands the controller the expected
tests, the device facts pre-flight read and the secrets it learned (``workeroutput``, in memory only). The
controller turns reports into :class:`TestRecord` s, writes ``run.json`` and redacts every file of the run
directory that evidence did not already write redacted.

"Expected" is every (test, device under test) the collection produced, before ``-k`` narrowed it, whose
``requires`` capabilities the device (with the lab's features) has. ``--device`` chooses the devices under test
(the run's scope, so the others are neither listed nor expected). A test skipped for any other reason, a
pre-flight mismatch included, stays expected: the record keeps it as skipped with the reason, and the sign-off
counts it as not run. Lab-wide tests (no device) are recorded but never expected.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Collection, Generator
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypeVar

import pytest

from harness.device.errors import DeviceError
from harness.lab.inventory import BuiltinMicrosoft, Inventory, RealDeviceEntry, load_inventory
from harness.lab.outcomes import FailureClass, classify
from harness.lab.session import VIRTUAL_LAB_FEATURES, LabSession
from harness.plugin.options import inventory_path
from harness.reporting import evidence
from harness.reporting.claims import CLAIMS_FILE, claims_by_test, load_claims
from harness.reporting.record import (
    RECORD_NAME,
    Attempt,
    Claim,
    DeviceRecord,
    ExpectedTest,
    Outcome,
    RunRecord,
    TestRecord,
)
from harness.reporting.redaction import redactor

_T = TypeVar("_T")

#: The user property carrying a test's record data (JSON) from its process to the controller.
RECORD_PROPERTY = "hil_record"
#: The ``workeroutput`` key of a worker's expected tests, device facts and secrets.
WORKER_OUTPUT = "hil_record"
#: Longest traceback kept per test.
MAX_LONGREPR = 20_000


def test_id(nodeid: str) -> str:
    """``suites/test_x.py::test_name`` of a node id, without its parameters."""
    return nodeid.split("[", 1)[0]


def lab_features(inventory: Inventory) -> frozenset[str]:
    """What the lab offers beyond the devices (``requires`` may ask for it too)."""
    return VIRTUAL_LAB_FEATURES if isinstance(inventory.msft, BuiltinMicrosoft) else frozenset()


def device_capabilities(inventory: Inventory) -> dict[str, frozenset[str]]:
    """Each inventory device's own capabilities (a virtual device's come from its model)."""
    found: dict[str, frozenset[str]] = {}
    for entry in inventory.devices:
        if isinstance(entry, RealDeviceEntry):
            caps = frozenset(entry.capabilities)
        else:
            from harness.sim.models import get_model  # a virtual device's capabilities are its model's

            caps = frozenset(str(c) for c in get_model(entry.model).capabilities)
        found[entry.name] = caps
    return found


def expected_tests(items: list[pytest.Item], capabilities: dict[str, frozenset[str]],
                   features: frozenset[str] = frozenset()) -> list[ExpectedTest]:
    """Every (device test, inventory device) whose ``requires`` the device (with the lab) meets, in order."""
    expected: dict[tuple[str, str], ExpectedTest] = {}
    for item in items:
        if "device_name" not in getattr(item, "fixturenames", ()):
            continue
        needs = {cap for mark in item.iter_markers("requires") for cap in mark.args}
        test = test_id(item.nodeid)
        for device, caps in capabilities.items():
            if needs <= caps | features and (test, device) not in expected:
                expected[(test, device)] = ExpectedTest(test=test, device=device, section=section_of(item))
    return list(expected.values())


def run_claims(config: pytest.Config) -> list[Claim]:
    """The claims catalogue of the suites this session runs (none when the checkout has no catalogue)."""
    path = Path(config.rootpath) / "suites" / CLAIMS_FILE.name
    return load_claims(path) if path.is_file() else []


def section_of(item: pytest.Item) -> str | None:
    mark = item.get_closest_marker("guide")
    return str(mark.args[0]) if mark is not None and mark.args else None


def title_of(item: pytest.Item) -> str:
    """The first paragraph of the test's docstring on one line (a quote of the guide often wraps)."""
    doc = inspect.cleandoc(getattr(getattr(item, "function", None), "__doc__", None) or "")
    return " ".join(doc.split("\n\n", 1)[0].split())


def device_words(exc: BaseException) -> str | None:
    """What the device itself said, when the failure quotes it (Web Config's result lines, the panel's text)."""
    messages = getattr(exc, "messages", None)
    if messages:
        return " | ".join(str(m) for m in messages)
    said = getattr(exc, "message", None)
    if isinstance(said, str) and said:
        return said
    if isinstance(exc, DeviceError):
        return str(exc) or None
    return None


def device_record(lab: LabSession, name: str) -> DeviceRecord:
    """A device as the lab knows it, with serial, MAC and firmware as pre-flight read them over SNMP."""
    dut = lab.device(name)
    info = next((d for d in lab.lab.devices if d.name == name), None) if lab.lab is not None else None
    checked = lab.preflighted(name)
    firmware = dut.firmware
    if checked is not None and checked.firmware and not dut.firmware.upper().endswith(checked.firmware.upper()):
        firmware = checked.firmware  # the device runs other firmware than the inventory says: report what it runs
    address = dut.snmp_host if dut.kind == "real" else dut.webconfig_url
    return DeviceRecord(name=name, model=dut.model, kind=dut.kind, address=address,
                        serial=(checked.serial if checked and checked.serial else dut.serial),
                        mac=(checked.mac if checked and checked.mac else dut.mac) or None,
                        firmware=firmware, capabilities=sorted(dut.capabilities),
                        locator_profile=dut.locator_profile, defects=list(info.defects) if info else [])


def inventory_devices(inventory: Inventory, capabilities: dict[str, frozenset[str]]) -> dict[str, DeviceRecord]:
    """Every inventory device as the inventory alone describes it (devices no test reached keep these facts)."""
    records = {}
    for entry in inventory.devices:
        real = isinstance(entry, RealDeviceEntry)
        records[entry.name] = DeviceRecord(
            name=entry.name, model=entry.model, kind=entry.kind,
            address=entry.address if isinstance(entry, RealDeviceEntry) else None,
            serial=entry.serial, mac=entry.mac or None, firmware=entry.firmware,
            capabilities=sorted(capabilities.get(entry.name, frozenset())), locator_profile=entry.locator_profile,
            defects=[] if real else list(getattr(entry, "defects", [])))
    return records


def redact_strings(value: Any) -> Any:
    """Every string in a JSON-shaped value through the redactor (field by field, so the JSON stays valid)."""
    if isinstance(value, str):
        return redactor().redact_text(value)
    if isinstance(value, list):
        return [redact_strings(v) for v in value]
    if isinstance(value, dict):
        return {k: redact_strings(v) for k, v in value.items()}
    return value


def git_revision(root: Path) -> tuple[str | None, bool]:
    """The checkout's commit and whether tracked files differ from it (None when not a git checkout)."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return None, False
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=30)
        return head.stdout.strip(), bool(dirty.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return None, False


def harness_version() -> str:
    try:
        return version("epson-hil")
    except PackageNotFoundError:
        return "unknown"


class RunCollector:
    """Registered by the plugin when ``--report-dir`` is given; see the module's description."""

    def __init__(self, config: pytest.Config, run_dir: Path) -> None:
        self.config = config
        self.run_dir = Path(run_dir)
        self.is_worker = hasattr(config, "workerinput")
        self.started = datetime.now(UTC)
        self.expected: dict[tuple[str, str], ExpectedTest] = {}
        self.device_facts: dict[str, DeviceRecord] = {}
        self.reports: dict[str, list[pytest.TestReport]] = defaultdict(list)
        self.payloads: dict[str, dict[str, Any]] = {}
        self.test_started: dict[str, float] = {}
        self.words: dict[str, str] = {}
        self.run_dir.mkdir(parents=True, exist_ok=True)
        evidence.set_run_dir(self.run_dir)

    # --- in each test process ----------------------------------------------------------------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> Any:
        # Before -k/-m deselect anything: what was deselected stays expected, so it shows as a gap.
        inventory = load_inventory(inventory_path(self.config))
        capabilities = self._under_test(device_capabilities(inventory))
        for e in expected_tests(items, capabilities, lab_features(inventory)):
            self.expected.setdefault((e.test, e.device), e)
        return (yield)

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.test_started[nodeid] = time.time()
        evidence.start_test(nodeid)

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        evidence.finish_test()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]
                                  ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if report.failed and call.excinfo is not None and item.nodeid not in self.words:
            words = device_words(call.excinfo.value)
            if not words and classify(call.excinfo.value) is FailureClass.DEVICE_DEFECT:
                words = evidence.last_said()  # an assertion on what the device showed: quote what it showed last
            if words:
                self.words[item.nodeid] = words
        if report.when == "teardown":
            report.user_properties.append((RECORD_PROPERTY, json.dumps(self._payload(item))))
        return report

    def _payload(self, item: pytest.Item) -> dict[str, Any]:
        callspec = getattr(item, "callspec", None)
        device = callspec.params.get("device_name") if callspec is not None else None
        lab = (getattr(item, "funcargs", None) or {}).get("lab")
        if isinstance(lab, LabSession) and device is not None:
            self.device_facts[device] = device_record(lab, device)
        kept = evidence.current()
        payload = {
            "test": test_id(item.nodeid), "device": device, "section": section_of(item), "title": title_of(item),
            "started": self.test_started.get(item.nodeid), "device_words": self.words.pop(item.nodeid, None),
            "attachments": [a.model_dump(mode="json") for a in kept.attachments] if kept else [],
            "measurements": [m.model_dump(mode="json") for m in kept.measurements] if kept else [],
        }
        return redact_strings(payload)  # this process knows the secrets of its own lab

    # --- where the record is written (the controller, or the only process) --------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.is_worker:
            return
        # Taken off the report, so JUnit XML does not repeat it as a property.
        for prop in [p for p in report.user_properties if p[0] == RECORD_PROPERTY]:
            report.user_properties.remove(prop)
            self.payloads[report.nodeid] = json.loads(str(prop[1]))
        self.reports[report.nodeid].append(report)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        output = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)
        if not output:
            return
        data = json.loads(output)
        redactor().register(*data["secrets"])
        for e in data["expected"]:
            expected = ExpectedTest.model_validate(e)
            self.expected.setdefault((expected.test, expected.device), expected)
        for name, facts in data["devices"].items():
            self.device_facts[name] = DeviceRecord.model_validate(facts)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        evidence.set_run_dir(None)
        if self.is_worker:
            self.config.workeroutput[WORKER_OUTPUT] = json.dumps({  # type: ignore[attr-defined]
                "expected": [e.model_dump(mode="json") for e in self.expected.values()],
                "devices": {n: d.model_dump(mode="json") for n, d in self.device_facts.items()},
                "secrets": sorted(redactor().secrets),
            })
            return
        record = self.build(int(exitstatus))
        write_record(record, self.run_dir)
        redact_run_dir(self.run_dir, keep={a.sha256 for t in record.tests for a in t.attachments})

    def build(self, exit_status: int) -> RunRecord:
        """The run record of everything reported so far."""
        path = inventory_path(self.config)
        inventory = load_inventory(path)
        devices = self._under_test(inventory_devices(inventory, device_capabilities(inventory)))
        devices.update(self.device_facts)
        claims = self._claims()
        by_test = claims_by_test(claims)
        revision, dirty = git_revision(Path(self.config.rootpath))
        tests = [test_record(nodeid, reports, self.payloads.get(nodeid, {}), by_test)
                 for nodeid, reports in self.reports.items()]
        return RunRecord(
            run_id=self._run_id(), started=self.started, finished=datetime.now(UTC),
            harness_version=harness_version(), git_revision=revision, git_dirty=dirty, host=socket.gethostname(),
            command=["pytest", *self.config.invocation_params.args], inventory_path=str(path),
            inventory_digest=hashlib.sha256(path.read_bytes()).hexdigest(),
            tier="builtin" if isinstance(inventory.msft, BuiltinMicrosoft) else "real", exit_status=exit_status,
            devices=list(devices.values()), tests=tests, expected=list(self.expected.values()), claims=claims)

    def _under_test(self, by_device: dict[str, _T]) -> dict[str, _T]:
        """Only the devices this run tests: ``--device`` narrows the run's scope, unlike ``-k``, which leaves gaps."""
        wanted = self.config.getoption("devices")
        return {name: value for name, value in by_device.items() if not wanted or name in wanted}

    def _claims(self) -> list[Claim]:
        return run_claims(self.config)

    def _run_id(self) -> str:
        return str(self.config.getoption("run_id") or self.run_dir.name)


def test_record(nodeid: str, reports: list[pytest.TestReport], payload: dict[str, Any],
                claims: dict[str, list[str]]) -> TestRecord:
    """One test's record from its setup, call and teardown reports and what its process sent along."""
    props = dict(reports[-1].user_properties) if reports else {}
    failed = next((r for r in reports if r.failed), None)
    skipped = next((r for r in reports if r.skipped), None)
    skip_reason = None
    if failed is not None:
        outcome = Outcome.FAILED if failed.when == "call" else Outcome.ERROR
    elif skipped is not None:
        outcome, skip_reason = Outcome.SKIPPED, _skip_reason(skipped)
    else:
        outcome = Outcome.PASSED
    failure_class = next((str(v) for r in reports for k, v in r.user_properties if k == "failure_class"), None)
    message = _crash_message(failed) if failed is not None else None
    duration = round(sum(r.duration for r in reports), 3)
    attempts = [Attempt.model_validate(a) for a in json.loads(str(props["attempts"]))] if "attempts" in props else [
        Attempt(attempt=1, outcome=Outcome.PASSED if outcome is Outcome.SKIPPED else outcome,
                phase=failed.when if failed else None, failure_class=failure_class if failed else None,
                message=message, duration=duration)]
    if outcome is Outcome.SKIPPED:
        attempts = []  # a skipped test made no attempt
    test = payload.get("test") or test_id(nodeid)
    started = payload.get("started")
    return TestRecord(
        nodeid=nodeid, test=test, device=payload.get("device") or _str_or_none(props.get("device")),
        section=payload.get("section"),
        claims=claims.get(test, []), title=payload.get("title") or "", outcome=outcome,
        skip_reason=redactor().redact_text(skip_reason) if skip_reason else None,
        failure_class=failure_class if failed else None, phase=failed.when if failed else None,
        message=redactor().redact_text(message) if message else None, device_words=payload.get("device_words"),
        longrepr=redactor().redact_text(str(failed.longrepr))[:MAX_LONGREPR] if failed else None,
        attempts=attempts, started=datetime.fromtimestamp(started, UTC) if started else None, duration=duration,
        measurements=payload.get("measurements", []), attachments=payload.get("attachments", []))


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _skip_reason(report: pytest.TestReport) -> str:
    if getattr(report, "wasxfail", None) is not None:
        return f"expected to fail: {report.wasxfail}" if report.wasxfail else "expected to fail"
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _crash_message(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    return str(crash.message) if crash is not None else str(report.longrepr)[:500]


def write_record(record: RunRecord, run_dir: Path) -> Path:
    """Write ``run.json`` atomically, every string of it through the redactor."""
    clean = RunRecord.model_validate(redact_strings(record.model_dump(mode="json")))
    path = Path(run_dir) / RECORD_NAME
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".run.", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(clean.model_dump_json(indent=2))
    os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; the record is as readable as the rest of the report
    os.replace(tmp, path)
    return path


def redact_run_dir(run_dir: Path, keep: Collection[str] = ()) -> None:
    """Redact every file under ``run_dir`` (JUnit XML, Allure results) but evidence already written redacted."""
    for path in sorted(Path(run_dir).rglob("*")):
        if not path.is_file() or path.name == RECORD_NAME:
            continue
        if keep and hashlib.sha256(path.read_bytes()).hexdigest() in keep:
            continue
        try:
            redactor().redact_file(path)
        except OSError as exc:  # a file another process holds open is reported, not silently left
            print(f"epson-hil: could not redact {path}: {exc}", file=sys.stderr)
