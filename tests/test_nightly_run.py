"""A whole nightly run, as `make run` does it: every suite on the virtual lab, plus one device with a defect.

One regression feeds every check here: the clean devices pass every suite; the defective device fails as a
device defect, with a screenshot and a Playwright trace; the run record, the sign-off, Allure and the history are
complete and agree; and no secret of the run is in any file under the run's output, inside archives included.
The secrets are looked for by value (every password the inventory holds) and by shape (tokens, device codes,
XOAUTH2 blobs), independently of the redaction filter under test.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import sqlite3
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import yaml

from harness.lab.outcomes import FailureClass
from harness.reporting.record import AttachmentKind, Outcome, RunRecord, load_record

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CLEAN_DEVICES = ("mfp-c5790", "a3-am-c4000", "ent-c21000", "scan-ds790")
DEFECTIVE = "dut-defect"
#: Breaks only §4's status checks, on pages a browser has open: a failure with a screenshot and a trace.
DEFECT = "status_sheet_omits_email_section"

#: Credentials by shape: the tier's JWTs, refresh tokens and device codes, and XOAUTH2 in the clear or base64.
SECRET_SHAPES = {
    "JWT": re.compile(rb"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    "refresh token": re.compile(rb"1\.A[A-Za-z0-9_-]{100,}"),
    "device code": re.compile(rb"DAQABIQEAAAD[A-Za-z0-9_-]{60,}"),
    "XOAUTH2": re.compile(rb"user=[^\s\x01]+\x01auth=Bearer"),
    "XOAUTH2 base64": re.compile(rb"dXNlcj0[A-Za-z0-9+/]{40,}"),
}


@dataclass
class NightlyRun:
    out: Path
    run_dir: Path
    returncode: int
    stdout: str
    secrets: dict[str, str]  # what it is -> the secret value


def inventory_secrets(inventory: dict) -> dict[str, str]:
    """Every password and client secret the inventory holds, named by where it is."""
    found = {f"admin password of {d['name']}": d["admin_password"] for d in inventory["devices"]}
    tenant = inventory["msft"]["tenant"]
    found |= {f"password of {u['upn']}": u["password"] for u in tenant["users"] if u.get("password")}
    found |= {f"secret of app {a['client_id']}": a["client_secret"] for a in tenant["apps"] if a.get("client_secret")}
    return found


@pytest.fixture(scope="module")
def nightly(tmp_path_factory: pytest.TempPathFactory, inventory_path: Path) -> NightlyRun:
    work = tmp_path_factory.mktemp("nightly")
    inventory = yaml.safe_load(inventory_path.read_text())
    inventory["devices"].append({"name": DEFECTIVE, "model": "WF-C5790", "defects": [DEFECT]})
    for device in inventory["devices"]:
        # Distinct, unguessable admin passwords: the factory default (the serial) is printed in every report.
        device["admin_password"] = f"Canary-{uuid.uuid4().hex[:12]}!"
    path = work / "inventory.yaml"
    path.write_text(yaml.safe_dump(inventory))
    out = work / "reports"
    result = subprocess.run(
        [str(BIN / "epson-hil"), "run", "--inventory", str(path), "--out", str(out), "--run-id", "nightly",
         "-n", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=2400)
    return NightlyRun(out, out / "nightly", result.returncode, result.stdout + result.stderr,
                      inventory_secrets(inventory))


@pytest.fixture(scope="module")
def record(nightly: NightlyRun) -> RunRecord:
    assert (nightly.run_dir / "run.json").is_file(), nightly.stdout[-5000:]
    return load_record(nightly.run_dir)


@pytest.mark.slow
def test_the_clean_devices_pass_every_suite_and_the_defective_one_fails(nightly: NightlyRun,
                                                                       record: RunRecord) -> None:
    assert nightly.returncode == 1, nightly.stdout[-5000:]
    for device in CLEAN_DEVICES:
        assert f"[{device}] PASS" in nightly.stdout, nightly.stdout[-5000:]
    failed = [t for t in record.tests if t.outcome in (Outcome.FAILED, Outcome.ERROR)]
    assert failed, "the defective device failed no test"
    assert {t.device for t in failed} == {DEFECTIVE}, [(t.device, t.test, t.message) for t in failed]
    assert {t.failure_class for t in failed} == {FailureClass.DEVICE_DEFECT.value}
    assert {t.section for t in failed} == {"§4"}


@pytest.mark.slow
def test_the_record_is_complete(record: RunRecord) -> None:
    assert record.finished is not None and record.tier == "builtin"
    assert {d.name for d in record.devices} == {*CLEAN_DEVICES, DEFECTIVE}
    assert all(d.serial and d.firmware and d.mac for d in record.devices)
    assert record.expected and not record.missing()
    assert all(t.section for t in record.tests if t.device)
    assert any(m.name and m.unit for t in record.tests for m in t.measurements)


@pytest.mark.slow
def test_every_attachment_is_on_disk_with_its_digest(nightly: NightlyRun, record: RunRecord) -> None:
    attachments = [a for t in record.tests for a in t.attachments]
    assert attachments
    for attachment in attachments:
        data = (nightly.run_dir / attachment.path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == attachment.sha256, attachment.path
        assert len(data) == attachment.size
    for test in record.tests:
        if test.outcome is Outcome.FAILED:
            kinds = {a.kind for a in test.attachments}
            assert {AttachmentKind.SCREENSHOT, AttachmentKind.PAGE_SOURCE, AttachmentKind.TRACE} <= kinds, \
                (test.nodeid, kinds)


@pytest.mark.slow
def test_the_signoff_is_not_ready_and_names_the_failures(nightly: NightlyRun) -> None:
    pdf = nightly.run_dir / "signoff.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "NOT READY" in text
    assert DEFECTIVE in text and "device defect" in text


@pytest.mark.slow
def test_allure_results_reference_files_that_exist(nightly: NightlyRun) -> None:
    results = nightly.run_dir / "allure-results"
    files = list(results.glob("*-result.json"))
    assert files
    for path in files:
        result = json.loads(path.read_text())
        for attachment in _allure_attachments(result):
            assert (results / attachment["source"]).is_file(), (path.name, attachment)
    assert (results / "environment.properties").is_file()
    assert json.loads((results / "categories.json").read_text())


@pytest.mark.slow
def test_the_run_is_in_the_history(nightly: NightlyRun) -> None:
    with sqlite3.connect(nightly.out / "history.sqlite") as db:
        assert db.execute("SELECT count(*) FROM runs WHERE run_id = 'nightly'").fetchone() == (1,)


@pytest.mark.slow
def test_no_secret_of_the_run_is_in_any_output_file(nightly: NightlyRun, record: RunRecord) -> None:
    assert any(a.kind is AttachmentKind.TRACE for t in record.tests for a in t.attachments)
    needles = {f"{what} ({form})": value for what, secret in nightly.secrets.items()
               for form, value in _encodings(secret).items()}
    hits = []
    files = [p for p in nightly.out.rglob("*") if p.is_file()]
    assert len(files) > 20
    for path in files:
        for where, data in _contents(path.relative_to(nightly.out).as_posix(), path.read_bytes()):
            hits += [f"{where}: {what}" for what, needle in needles.items() if needle in data]
            hits += [f"{where}: {shape}" for shape, pattern in SECRET_SHAPES.items() if pattern.search(data)]
    assert not hits, "\n".join(hits[:50])


def _encodings(secret: str) -> dict[str, bytes]:
    return {"plain": secret.encode(), "url": quote(secret, safe="").encode(),
            "form": quote_plus(secret).encode(), "json": json.dumps(secret)[1:-1].encode(),
            "base64": base64.b64encode(secret.encode()).rstrip(b"=")}


def _contents(where: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    """The bytes of a file, of each member of an archive (recursively) and the text of a PDF."""
    yield where, data
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                yield from _contents(f"{where}!{name}", archive.read(name))
    elif data[:5] == b"%PDF-":
        text = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout
        yield f"{where} (text)", text


def _allure_attachments(node: dict) -> Iterator[dict]:
    yield from node.get("attachments", [])
    for step in node.get("steps", []):
        yield from _allure_attachments(step)
