"""Recorded runs for the sign-off tests: a run record written to a run directory, as the collector would."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw

from harness.reporting.record import (
    RECORD_NAME,
    Attachment,
    AttachmentKind,
    Attempt,
    Claim,
    DeviceRecord,
    ExpectedTest,
    Measurement,
    Outcome,
    RunRecord,
    TestRecord,
)

START = datetime(2025, 3, 4, 2, 0, tzinfo=UTC)
SETUP = "suites/test_s3_setup.py::test_s3_sign_in_with_the_device_code"
STATUS = "suites/test_s4_status.py::test_s4_status_sheet_says_signed_in"
FAX = "suites/test_s5_fax_server.py::test_s5_fax_server_signs_in"
E360 = "suites/test_s7_error_codes.py::test_s7_360_no_connection_when_the_server_name_does_not_resolve"
E370 = "suites/test_s7_error_codes.py::test_s7_370_sign_in_again_after_the_grant_was_revoked"
SECTIONS = {SETUP: "§3", STATUS: "§4", FAX: "§5", E360: "§7", E370: "§7"}
DEVICES = ("mfp-c5790", "a3-am-c4000")
#: The A3 model has a fax server; the business MFP does not, so its fax test is skipped and not expected.
EXPECTED = {"mfp-c5790": (SETUP, STATUS, E360, E370), "a3-am-c4000": (SETUP, STATUS, FAX, E360, E370)}
CLAIMS = [
    Claim(id="s3-sign-in", section="§3", text="Sign In shows a code; after sign-in the status is “Signed in”.",
          tests=[SETUP]),
    Claim(id="s4-status", section="§4", text="The status sheet shows the OAuth 2.0 status.",
          tests=["test_s4_status_sheet_says_signed_in"]),  # named by function, as a catalogue may
    Claim(id="s5-fax", section="§5", text="The fax server's e-mail settings sign in with OAuth2.", tests=[FAX]),
    Claim(id="s7-360", section="§7", text="Error 360: no connection to the e-mail service.", tests=[E360]),
    Claim(id="s6-unchecked", section="§6", text="Each user signs in on the panel for Scan to My Email.", tests=[]),
]


def result(test: str, device: str | None, outcome: Outcome = Outcome.PASSED, **fields: object) -> TestRecord:
    """A result as the collector records it."""
    return TestRecord.model_validate({
        "nodeid": f"{test}[{device}]", "test": test, "device": device, "section": SECTIONS.get(test),
        "title": test.rsplit("::", 1)[-1].replace("_", " "), "outcome": outcome, "started": START,
        "duration": 1.5, **fields})


def passing_run(run_id: str = "20250304T020000Z-a1b2c3") -> RunRecord:
    """Every expected test ran and passed; the fax test was skipped where the model has no fax."""
    tests = [result(t, d, measurements=_sign_in_time(t, d)) for d, ts in EXPECTED.items() for t in ts]
    tests.append(result(FAX, "mfp-c5790", Outcome.SKIPPED, skip_reason="mfp-c5790 lacks fax_server"))
    return RunRecord(
        run_id=run_id, started=START, finished=START + timedelta(minutes=42), harness_version="0.1.0",
        git_revision="3e6499b0c0ffee", host="lab-ci-1", command=["epson-hil", "run"],
        inventory_path="fixtures/virtual-lab.yaml", inventory_digest="ab" * 32, tier="builtin", exit_status=0,
        devices=[DeviceRecord(name="mfp-c5790", model="WF-C5790", kind="virtual", address="127.0.0.1:8081",
                              serial="X5A1000123", mac="64:EB:8C:00:00:01", firmware="07.59.LW14NB",
                              capabilities=["oauth2_email", "scan_to_email"]),
                 DeviceRecord(name="a3-am-c4000", model="AM-C4000", kind="virtual", address="127.0.0.1:8082",
                              serial="X7B2000456", mac="64:EB:8C:00:00:02", firmware="10.02.AM31PA",
                              capabilities=["oauth2_email", "scan_to_email", "fax_server"])],
        tests=tests, expected=[ExpectedTest(test=t, device=d, section=SECTIONS[t]) for d, ts in EXPECTED.items()
                               for t in ts],
        claims=CLAIMS)


def _sign_in_time(test: str, device: str) -> list[Measurement]:
    if test != SETUP:
        return []
    value = 4.2 if device == "mfp-c5790" else 7.9
    return [Measurement(name="sign-in time", value=value, unit="s", low=0.0, high=30.0)]


def replace(record: RunRecord, test: str, device: str, new: TestRecord | None) -> RunRecord:
    """The record with the result of (test, device) replaced by ``new``, or removed when None."""
    tests = [t for t in record.tests if (t.test, t.device) != (test, device)]
    return record.model_copy(update={"tests": [*tests, new] if new else tests})


def screenshot(run_dir: Path, name: str, colour: str = "#d32f2f") -> Attachment:
    """A PNG screenshot written under the run directory, as an attachment of the record."""
    folder = run_dir / "attachments"
    folder.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (640, 400), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 620, 120), fill=colour)
    draw.text((40, 60), "Email Server > Basic", fill="white")
    path = folder / name
    image.save(path)
    data = path.read_bytes()
    return Attachment(name=f"failure screenshot {name}", kind=AttachmentKind.SCREENSHOT, media_type="image/png",
                      path=f"attachments/{name}", sha256=hashlib.sha256(data).hexdigest(), size=len(data))


def failing_run(run_dir: Path) -> RunRecord:
    """One failure of each class (with the device's words in French, typography and Japanese), one gap."""
    record = passing_run()
    record = replace(record, SETUP, "mfp-c5790", result(
        SETUP, "mfp-c5790", Outcome.FAILED, failure_class="device defect", phase="call",
        message="AssertionError: Current Status is 'Signed in' but the token was not saved <after OK>",
        device_words="État : « Connecté » — “Signed in” 認証に失敗しました。",
        attachments=[screenshot(run_dir, "setup-mfp.png")],
        measurements=[Measurement(name="sign-in time", value=41.0, unit="s", low=0.0, high=30.0, passed=False)]))
    record = replace(record, STATUS, "a3-am-c4000", result(
        STATUS, "a3-am-c4000", Outcome.ERROR, failure_class="harness error", phase="setup",
        message="KeyError: 'status_sheet' & friends"))
    record = replace(record, E370, "a3-am-c4000", result(
        E370, "a3-am-c4000", Outcome.FAILED, failure_class="lab infrastructure", phase="call",
        message="InfraError: device unreachable at 127.0.0.1:8082",
        attempts=[Attempt(attempt=1, outcome=Outcome.FAILED, failure_class="lab infrastructure"),
                  Attempt(attempt=2, outcome=Outcome.FAILED, failure_class="lab infrastructure")]))
    return replace(record, E360, "mfp-c5790", None)


def write_run(run_dir: Path, record: RunRecord) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / RECORD_NAME).write_text(record.model_dump_json(indent=2), encoding="utf-8")
    return run_dir


def pdf_text(path: Path) -> str:
    """The PDF's text as ``pdftotext -layout`` reads it (UTF-8)."""
    done = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def pdf_images(path: Path) -> list[tuple[int, int, int]]:
    """(page, width, height) of each image the PDF embeds (soft masks left out), from ``pdfimages -list``."""
    done = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, check=True, text=True)
    rows = [line.split() for line in done.stdout.splitlines()[2:]]
    return [(int(r[0]), int(r[3]), int(r[4])) for r in rows if r[2] == "image"]
