"""``epson-hil doctor`` end to end: a fresh lab passes every check; a broken lab fails honestly, exit 1."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import epson_hil

from harness.doctor import Redactor
from harness.lab.labfile import LabInfo, write_lab
from harness.msft.tenant import Tenant, load_tenant
from harness.msft.tier import MicrosoftTier

CHECKS = ["discovery", "device-flow", "admin-consent", "mailbox-sign-in", "token", "smtp-send", "mailbox",
          "smtp-transcript"]
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ")


def doctor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(epson_hil("doctor", *args), capture_output=True, text=True, timeout=240)


def record_in(out: Path) -> dict[str, object]:
    (path,) = out.glob("doctor-*/doctor.json")
    return json.loads(path.read_text())


def assert_no_secret(text: str, tenant: Tenant) -> None:
    assert not [u.upn for u in tenant.users if u.password in text]
    assert not JWT.search(text) and "auth=Bearer" not in text


@pytest.mark.browser
def test_doctor_proves_the_oauth2_story_on_a_fresh_lab(tmp_path: Path, inventory_path: Path) -> None:
    result = doctor("--inventory", str(inventory_path), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if re.match(r"(PASS|FAIL|SKIP) ", line)]
    assert [line.split(":")[0] for line in lines] == [f"PASS {name}" for name in CHECKS]
    assert "all checks passed" in result.stdout
    record = record_in(tmp_path / "out")
    assert record["passed"] is True
    assert [(c["name"], c["status"]) for c in record["checks"]] == [(n, "PASS") for n in CHECKS]  # type: ignore[attr-defined]
    assert_no_secret(result.stdout + result.stderr + json.dumps(record), load_tenant(inventory_path))


@pytest.fixture
def attached_lab(tier: MicrosoftTier, tmp_path: Path) -> Iterator[Path]:
    """A state directory whose lab.json describes the session tier; the tenant is put back afterwards."""
    state_dir = tmp_path / "state"
    write_lab(state_dir, LabInfo(pid=os.getpid(), started_at="2026-01-01T00:00:00+00:00",
                                 inventory="(the test session's tier)", msft=tier.lab_info()))
    with tier.state.restoring():
        yield state_dir


@pytest.mark.browser
def test_doctor_on_a_lab_with_smtp_auth_off_fails_and_says_why(tier: MicrosoftTier, attached_lab: Path,
                                                             tmp_path: Path) -> None:
    tier.state.tenant.user("printer@epsonlab.onmicrosoft.com").smtp_auth_enabled = False  # type: ignore[union-attr]
    result = doctor("--state-dir", str(attached_lab), "--out", str(tmp_path / "out"))
    assert result.returncode == 1, result.stdout + result.stderr
    smtp_line = next(line for line in result.stdout.splitlines() if line.startswith("FAIL smtp-send"))
    assert "5.7.139" in smtp_line and "Mailbox" in smtp_line
    record = record_in(tmp_path / "out")
    statuses = {c["name"]: c["status"] for c in record["checks"]}  # type: ignore[attr-defined]
    assert statuses["token"] == "PASS" and statuses["smtp-send"] == "FAIL"
    assert statuses["mailbox"] == statuses["smtp-transcript"] == "SKIP" and record["passed"] is False
    assert_no_secret(result.stdout + json.dumps(record), tier.state.tenant)


@pytest.mark.browser
def test_doctor_stops_at_the_first_failed_check(tier: MicrosoftTier, attached_lab: Path, tmp_path: Path) -> None:
    tier.state.tenant.apps[0].allow_public_client_flows = False  # Entra refuses the poll, not the device code
    result = doctor("--state-dir", str(attached_lab), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert re.search(r"^FAIL admin-consent: .*AADSTS7000218", result.stdout, re.MULTILINE), result.stdout
    statuses = [c["status"] for c in record_in(tmp_path / "out")["checks"]]  # type: ignore[attr-defined]
    assert statuses == ["PASS", "PASS", "FAIL"] + ["SKIP"] * (len(CHECKS) - 3)


def test_doctor_without_a_running_lab_exits_2(tmp_path: Path) -> None:
    result = doctor("--state-dir", str(tmp_path / "nothing"), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "lab.json" in result.stderr
    assert not (tmp_path / "out").exists()


def test_redactor_hides_secrets_and_finds_leaked_slices() -> None:
    redact = Redactor()
    token = "eyJ" + "k" * 60 + "Zq" + "m" * 60
    redact.add("Pa55-word!", token, None, "ab")  # too-short values are not secrets worth matching
    assert redact(f"user=x auth=Bearer {token} pw Pa55-word! ab") == "user=x auth=Bearer [redacted] pw [redacted] ab"
    assert redact.leaks("a line with " + token[40:90]) == [f"{len(token)}-character secret"]
    assert redact.leaks("Pa55-word") == [] and len(redact.leaks("pw=Pa55-word!")) == 1
