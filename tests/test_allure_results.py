"""The Allure results a run leaves: valid result files whose attachments exist, device steps without secrets,
failure evidence (screenshots, Playwright traces, SMTP transcripts, sign-in log, SNMP, job history), the failure
class in each failed result, ``environment.properties`` and ``categories.json`` — and no secret in any file.

One real run of a small suite against the virtual lab (one device, a real sign-in through Chromium) is shared
by the tests of this module; the unit tests below it need no lab.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import allure
import allure_commons
import pytest

from harness.reporting.allure_files import (
    categories,
    environment_from_record,
    failure_message,
    read_environment,
    write_categories,
    write_environment,
)
from harness.reporting.allure_html import RESULTS_DIR, AllureCliMissing, AllureHtmlError, render_html
from harness.reporting.browser_evidence import TRACE_MEDIA_TYPE
from harness.reporting.record import DeviceRecord, RunRecord, load_record
from harness.reporting.redaction import register_secret
from harness.reporting.steps import name_device, step

DEVICE = "mfp-c5790"

SUITE = '''
import pytest

from harness.device.signin import sign_in_device

pytestmark = pytest.mark.guide("§3")


def test_signs_in_then_fails(device, webconfig, msft, microsoft_pages, snmp):
    """A device signed in by the guide's steps, then a deliberate failure: all of its evidence is kept."""
    snmp()
    webconfig.certificates.import_certificate(msft.ca_certificate(), filename="lab-ca.pem")
    sign_in_device(webconfig.email_server, microsoft_pages, msft.admin, sender=msft.admin.upn)
    result = webconfig.connection_test.run()
    webconfig.job_history.export_csv()
    print("the administrator typed", msft.admin.password)
    assert not result.ok, f"deliberate failure, signed in as {msft.admin.upn} ({msft.admin.password})"


def test_passes(webconfig):
    webconfig.product.read()


def test_harness_breaks(device):
    raise RuntimeError("the harness broke")
'''

CONFTEST = '''
import json
from pathlib import Path

from harness.reporting.redaction import redactor


def pytest_sessionfinish(session):
    # Outside reports/: the secrets this process learnt, so the test can search the results for each one.
    Path("secrets.json").write_text(json.dumps(sorted(redactor().secrets)))
'''


CLAIMS = """
claims:
  - id: s3-product-status
    section: "§3"
    text: "Web Config shows the product's status."
    tests: [test_suite.py::test_passes]
"""


@pytest.fixture(scope="module")
def allure_run(tmp_path_factory: pytest.TempPathFactory, inventory_path: Path) -> dict[str, Any]:
    """One run of :data:`SUITE` in its own pytest process (its own virtual lab), with ``--alluredir``."""
    where = tmp_path_factory.mktemp("allure-run")
    (where / "test_suite.py").write_text(SUITE)
    (where / "conftest.py").write_text(CONFTEST)
    (where / "suites").mkdir()
    (where / "suites" / "guide-claims.yaml").write_text(CLAIMS)
    run_dir = where / "run"
    results = run_dir / "allure-results"  # where 'epson-hil run' puts them
    done = subprocess.run([sys.executable, "-m", "pytest", "test_suite.py", "--device", DEVICE,
                           "--inventory", str(inventory_path.resolve()), f"--alluredir={results}",
                           f"--report-dir={run_dir}", "--infra-retries=0", "-p", "no:cacheprovider", "-q",
                           "-o", "addopts=", f"--rootdir={where}"],
                          cwd=where, capture_output=True, text=True, timeout=600, check=False)
    return {"output": done.stdout + done.stderr, "results": results, "run_dir": run_dir,
            "secrets": json.loads((where / "secrets.json").read_text()), "by_name": _results_by_name(results)}


def _results_by_name(results: Path) -> dict[str, dict[str, Any]]:
    found = {}
    for path in results.glob("*-result.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        found[data["name"].split("[")[0]] = data
    return found


def _attachments(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from node.get("attachments", [])
    for child in node.get("steps", []):
        yield from _attachments(child)


def _steps(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for child in node.get("steps", []):
        yield child
        yield from _steps(child)


@pytest.mark.browser
@pytest.mark.slow
def test_the_run_leaves_valid_results_whose_attachments_exist(allure_run: dict[str, Any]) -> None:
    assert re.search(r"\b2 failed, 1 passed\b", allure_run["output"]), allure_run["output"][-3000:]
    results = allure_run["results"]
    files = list(results.glob("*-result.json"))
    assert len(files) == 3 and set(allure_run["by_name"]) == {"test_signs_in_then_fails", "test_passes",
                                                               "test_harness_breaks"}
    for path in [*files, *results.glob("*-container.json")]:
        data = json.loads(path.read_text(encoding="utf-8"))
        for attachment in _attachments(data):
            assert (results / attachment["source"]).is_file(), f"{path.name}: {attachment['source']} missing"
    assert not list(results.glob("*.tmp"))


@pytest.mark.browser
@pytest.mark.slow
def test_device_actions_are_steps_naming_the_device_without_parameters(allure_run: dict[str, Any]) -> None:
    failed = allure_run["by_name"]["test_signs_in_then_fails"]
    titles = [s["name"] for s in _steps(failed)]
    for expected in (f"{DEVICE}: import a CA certificate", f"{DEVICE}: run Email Server > Connection Test",
                     f"{DEVICE}: read SNMP identity, status, alerts, supplies and ST2 record",
                     "Microsoft: enter the code at https://microsoft.com/devicelogin and sign in as "
                     "admin@epsonlab.onmicrosoft.com"):
        assert any(t.startswith(expected) for t in titles), f"no step {expected!r} in {titles}"
    assert any(t.startswith(f"{DEVICE}: sign in to Microsoft Exchange Online with OAuth2 as admin@") for t in titles)
    assert any(re.match(rf"{DEVICE}: open \w", t) for t in titles)
    assert not [s for s in _steps(failed) if s.get("parameters")]
    passed = allure_run["by_name"]["test_passes"]
    setup_steps = [s["name"] for s in _steps(passed)] + _fixture_steps(allure_run["results"], passed)
    assert f"{DEVICE}: log in to Web Config as administrator" in setup_steps


def _fixture_steps(results: Path, result: dict[str, Any]) -> list[str]:
    """Step titles of the set-up fixtures of ``result`` (allure keeps them in container files)."""
    titles = []
    for path in results.glob("*-container.json"):
        container = json.loads(path.read_text(encoding="utf-8"))
        if result["uuid"] in container.get("children", []):
            for fixture in container.get("befores", []):
                titles += [s["name"] for s in _steps(fixture)]
    return titles


@pytest.mark.browser
@pytest.mark.slow
def test_a_failed_web_test_keeps_screenshots_traces_and_the_tiers_evidence(allure_run: dict[str, Any]) -> None:
    results = allure_run["results"]
    failed = allure_run["by_name"]["test_signs_in_then_fails"]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for attachment in _attachments(failed):
        by_type.setdefault(attachment["type"], []).append(attachment)
    screenshots = by_type["image/png"]
    assert any(f"Web Config of {DEVICE}" in a["name"] for a in screenshots)
    for shot in screenshots:
        assert (results / shot["source"]).read_bytes().startswith(b"\x89PNG")
    sources = by_type["text/html"]
    assert any(a["name"].startswith(f"page source: Web Config of {DEVICE}") for a in sources)
    assert all("<html" in (results / a["source"]).read_text().lower() for a in sources)
    traces = by_type[TRACE_MEDIA_TYPE]
    assert any(a["name"] == f"Playwright trace: Web Config of {DEVICE}" for a in traces)
    with zipfile.ZipFile(results / traces[0]["source"]) as trace:
        assert any(name.endswith(".trace") for name in trace.namelist())
    transcript = (results / by_type["text/plain"][0]["source"]).read_text()
    assert "AUTH XOAUTH2" in transcript and "STARTTLS" in transcript
    names = [a["name"] for a in _attachments(failed)]
    assert any(n.startswith("SNMP readings of") for n in names)
    assert any(n.startswith("job history CSV") for n in names)
    signin_log = next(a for a in _attachments(failed) if a["name"].startswith("sign-in log"))
    signins = json.loads((results / signin_log["source"]).read_text())
    assert {"upn": "admin@epsonlab.onmicrosoft.com", "flow": "device_code", "status": "success"}.items() <= \
        signins[0].items()
    passed = allure_run["by_name"]["test_passes"]
    assert not [a for a in _attachments(passed) if a["type"] in ("image/png", TRACE_MEDIA_TYPE)]


@pytest.mark.browser
@pytest.mark.slow
def test_failures_carry_their_class_for_the_categories(allure_run: dict[str, Any]) -> None:
    failed = allure_run["by_name"]["test_signs_in_then_fails"]
    broken = allure_run["by_name"]["test_harness_breaks"]
    assert failed["status"] == "failed" and failed["statusDetails"]["message"].startswith("[device defect] ")
    assert broken["status"] == "broken" and broken["statusDetails"]["message"].startswith("[harness error] ")
    assert {"name": "failure_class", "value": "device defect"} in failed["labels"]
    rules = json.loads((allure_run["results"] / "categories.json").read_text())
    assert _category(rules, failed) == "Device defect" and _category(rules, broken) == "Harness error"


@pytest.mark.browser
@pytest.mark.slow
def test_results_are_grouped_as_the_guide_is(allure_run: dict[str, Any]) -> None:
    labels = {(label["name"], label["value"]) for label in allure_run["by_name"]["test_passes"]["labels"]}
    assert {("epic", "Epson OAuth 2.0 guide"), ("feature", "§3"), ("story", "s3-product-status"),
            ("tag", DEVICE)} <= labels
    broken = {(label["name"], label["value"]) for label in allure_run["by_name"]["test_harness_breaks"]["labels"]}
    assert ("feature", "§3") in broken and not any(name == "story" for name, _ in broken)


def _category(rules: list[dict[str, Any]], result: dict[str, Any]) -> str | None:
    """The first category whose rule matches, as Allure 2 matches it (the whole message)."""
    for rule in rules:
        if result["status"] in rule["matchedStatuses"] and \
                re.fullmatch(rule["messageRegex"], result["statusDetails"]["message"]):
            return rule["name"].split(":")[0]
    return None


@pytest.mark.browser
@pytest.mark.slow
def test_environment_names_the_devices_tier_and_harness(allure_run: dict[str, Any]) -> None:
    environment = read_environment(allure_run["results"] / "environment.properties")
    record = load_record(allure_run["run_dir"])
    assert environment["tier"] == "builtin" and environment["harness.version"] == record.harness_version
    assert environment["run.id"] == record.run_id
    assert re.fullmatch(r"([0-9a-f]{40}|unknown)( \(modified\))?", environment["git.revision"])
    device = next(d for d in record.devices if d.name == DEVICE)
    assert environment[f"device.{DEVICE}"] == \
        f"{device.model}, firmware {device.firmware}, serial {device.serial} (virtual)"
    assert device.serial and device.firmware


@pytest.mark.browser
@pytest.mark.slow
def test_the_evidence_is_in_the_run_record_too(allure_run: dict[str, Any]) -> None:
    record = load_record(allure_run["run_dir"])
    failed = next(t for t in record.tests if t.test.endswith("::test_signs_in_then_fails"))
    kinds = {a.kind for a in failed.attachments}
    assert {"screenshot", "page-source", "playwright-trace", "smtp-transcript", "signin-log", "snmp-readings",
            "job-history"} <= kinds
    for attachment in failed.attachments:
        assert (allure_run["run_dir"] / attachment.path).stat().st_size == attachment.size


@pytest.mark.browser
@pytest.mark.slow
def test_no_secret_of_the_run_is_in_any_file_of_the_run(allure_run: dict[str, Any]) -> None:
    secrets = allure_run["secrets"]
    assert "Lab-Admin-Pa55!" in secrets and len(secrets) > 5  # tokens and codes of the sign-in too
    files = [p for p in allure_run["run_dir"].rglob("*") if p.is_file()]
    assert len(files) > 20  # results, attachments, the record
    for path in files:
        data = path.read_bytes()
        blobs = [data]
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                blobs += [archive.read(name) for name in archive.namelist()]
        for blob in blobs:
            text = blob.decode("utf-8", errors="replace")
            leaked = [s for s in secrets if s in text]
            assert not leaked, f"{path.name} holds {len(leaked)} secret(s)"


# --- without a lab -------------------------------------------------------------------------------------------

class StepRecorder:
    """Receives Allure's step hooks as allure-pytest's listener would: the titles and parameters of steps."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, dict[str, str]]] = []

    @allure_commons.hookimpl
    def start_step(self, uuid: str, title: str, params: dict[str, str]) -> None:
        self.steps.append((title, dict(params)))

    @allure_commons.hookimpl
    def stop_step(self, uuid: str, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[StepRecorder]:
    recording = StepRecorder()
    allure_commons.plugin_manager.register(recording)
    try:
        yield recording
    finally:
        allure_commons.plugin_manager.unregister(recording)


class _Page:
    base_url = "http://127.0.0.1:18080"
    title = "Email Server"

    @step("{device}: log in to {self.title} as administrator")
    def log_in(self, password: str) -> str:
        return password


def test_allure_step_would_record_the_password_the_harness_step_does_not(recorder: StepRecorder) -> None:
    """Why the harness has its own step: allure's decorator keeps every argument as a step parameter."""

    @allure.step("log in")
    def allure_log_in(password: str) -> None:
        pass

    @step("log in as {user}")
    def harness_log_in(user: str, password: str) -> None:
        pass

    register_secret("Sup3r-Secret-Pw")
    allure_log_in("Sup3r-Secret-Pw")
    harness_log_in("admin", "Sup3r-Secret-Pw")
    harness_log_in("Sup3r-Secret-Pw", "x")  # a title that would show a secret is redacted
    assert recorder.steps == [("log in", {"password": "'Sup3r-Secret-Pw'"}), ("log in as admin", {}),
                              ("log in as [redacted]", {})]


def test_steps_name_the_device_by_its_inventory_name(recorder: StepRecorder) -> None:
    assert _Page().log_in("whatever-password") == "whatever-password"
    assert recorder.steps[-1][0] == "127.0.0.1:18080: log in to Email Server as administrator"
    name_device("printer-7", "http://127.0.0.1:18080/")
    _Page().log_in("whatever-password")
    assert recorder.steps[-1] == ("printer-7: log in to Email Server as administrator", {})


def test_failure_message_leads_with_the_class_once() -> None:
    assert failure_message("device defect", "AssertionError: no") == "[device defect] AssertionError: no"
    assert failure_message("device defect", "[device defect] x") == "[device defect] x"
    assert failure_message("lab infrastructure", None) == "[lab infrastructure]"


def test_categories_match_each_class_and_only_it(tmp_path: Path) -> None:
    rules = json.loads(write_categories(tmp_path).read_text())
    assert rules == categories() and len(rules) == 3
    for failure in ("device defect", "harness error", "lab infrastructure"):
        message = failure_message(failure, "Error: multi\nline")
        matched = [r["name"] for r in rules if re.fullmatch(r["messageRegex"], message)]
        assert len(matched) == 1 and matched[0].lower().startswith(failure)
    assert not [r for r in rules if re.fullmatch(r["messageRegex"], "AssertionError: [device defect]")]


def test_environment_from_the_run_record_round_trips(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    record = RunRecord(run_id="r1", started=datetime.now(UTC), harness_version="0.1.0", git_revision="abc",
                       git_dirty=True, inventory_path="lab.yaml", inventory_digest="0" * 64, tier="real",
                       devices=[DeviceRecord(name="a3 = Été", model="AM-C4000", kind="real", serial="X1",
                                             firmware="1.0:ü")])
    path = write_environment(tmp_path, environment_from_record(record))
    assert path.read_text().isascii()
    environment = read_environment(path)
    assert environment["device.a3 = Été"] == "AM-C4000, firmware 1.0:ü, serial X1 (real)"
    assert environment["git.revision"] == "abc (modified)" and environment["tier"] == "real"


def test_the_redacting_writer_removes_secrets_from_results_and_attachments(tmp_path: Path) -> None:
    from allure_commons.model2 import StatusDetails, TestResult

    from harness.reporting.allure_files import RedactingFileLogger

    register_secret("Another-Secret-77")
    writer = RedactingFileLogger(tmp_path)
    writer.report_result(TestResult(name="t", uuid="u1", statusDetails=StatusDetails(
        message="AssertionError: Another-Secret-77", trace="password=hunter2-long")))
    writer.report_attached_data("stdout: Another-Secret-77", "a-attachment.txt")
    source = tmp_path / "src.txt"
    source.write_text("Bearer abcdefghijklmnop")
    writer.report_attached_file(str(source), "b-attachment.txt")
    text = "".join(p.read_text() for p in tmp_path.iterdir() if p.name != "src.txt")
    assert "Another-Secret-77" not in text and "hunter2" not in text and "abcdefghijklmnop" not in text
    assert text.count("[redacted]") == 4


# --- the HTML report -----------------------------------------------------------------------------------------

@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("allure") is None,
                    reason="the Allure 3 command line is not installed here (npm install -g allure)")
def test_render_html_builds_the_report_with_the_failure_categories(allure_run: dict[str, Any],
                                                                    tmp_path: Path) -> None:
    shutil.copytree(allure_run["results"], tmp_path / RESULTS_DIR)
    index = render_html(tmp_path)
    assert index == tmp_path / "allure-report" / "index.html" and "<html" in index.read_text().lower()
    rendered = " ".join(p.read_text(errors="replace") for p in index.parent.rglob("*.json"))
    assert "Device defect: the device did not behave as the guide says" in rendered


def test_render_html_says_how_to_get_the_allure_command_line(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / RESULTS_DIR).mkdir()
    (tmp_path / RESULTS_DIR / "0-result.json").write_text("{}")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(AllureCliMissing, match="npm install -g allure"):
        render_html(tmp_path)


def test_render_html_needs_results(tmp_path: Path) -> None:
    with pytest.raises(AllureHtmlError, match="no Allure results"):
        render_html(tmp_path)
