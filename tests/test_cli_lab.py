"""``epson-hil lab up`` / ``lab status`` as subprocesses: lab.json, TLS health, signals, bad inventories."""

from __future__ import annotations

import json
import signal
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cli_support import epson_hil

from harness.lab.labfile import load_lab
from harness.msft.control_client import TierControl

START_TIMEOUT = 60.0


def wait_for_lab_json(process: subprocess.Popen[str], state_dir: Path) -> Path:
    """Poll (bounded) until lab.json appears; fail at once if the process dies first."""
    path = state_dir / "lab.json"
    deadline = time.monotonic() + START_TIMEOUT
    while not path.exists():
        if process.poll() is not None:
            _, err = process.communicate()
            pytest.fail(f"lab up exited {process.returncode} before writing lab.json:\n{err}")
        if time.monotonic() > deadline:
            pytest.fail(f"no lab.json within {START_TIMEOUT:.0f} s")
        time.sleep(0.05)
    return path


@pytest.fixture
def lab_up(tmp_path: Path, inventory_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """A running ``epson-hil lab up`` on the default inventory; killed if a test leaves it running."""
    state_dir = tmp_path / "state"
    process = subprocess.Popen(epson_hil("lab", "up", "--inventory", str(inventory_path), "--state-dir",
                                         str(state_dir)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_lab_json(process, state_dir)
        yield process, state_dir
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)


def stop(process: subprocess.Popen[str], sig: signal.Signals) -> tuple[int, str, str]:
    process.send_signal(sig)
    out, err = process.communicate(timeout=30)
    return process.returncode, out, err


def test_lab_up_writes_lab_json_and_stops_cleanly_on_sigterm(lab_up: tuple[subprocess.Popen[str], Path],
                                                            inventory_path: Path) -> None:
    process, state_dir = lab_up
    path = state_dir / "lab.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["version"] == 1 and data["pid"] == process.pid
    assert [d["name"] for d in data["devices"]] == ["mfp-c5790", "a3-am-c4000", "ent-c21000", "scan-ds790"]
    assert data["inventory"] == str(inventory_path)
    msft = data["msft"]
    tenant_id = "5f1c2a9e-3b7d-4c1e-9a2f-6d8e0b4c7a31"
    assert msft["authority"].startswith("https://") and msft["authority"].endswith("/" + tenant_id)
    assert msft["client_id"] == "3c8a6f2b-9d41-4e7a-b0c5-1f2e3d4a5b6c"
    assert "https://outlook.office.com/SMTP.Send" in msft["scopes"]
    assert Path(msft["ca_bundle"]).is_file() and msft["devicelogin_url"].startswith("https://")
    assert msft["smtp"]["port"] > 0 and msft["smtp"]["server_name"] == "smtp.office365.com"
    assert msft["control"]["url"].startswith("https://") and msft["control"]["token"]
    assert msft["identity"]["port"] > 0 and msft["identity"]["spki_sha256"]
    admin = next(u for u in msft["users"] if u["upn"] == "admin@epsonlab.onmicrosoft.com")
    assert admin["roles"] == ["Global Administrator"] and admin["password"]

    lab = load_lab(state_dir)
    with TierControl(lab.msft.control.url, lab.msft.control.token, lab.msft.ca_bundle) as control:
        assert control.health()["status"] == "ok"
    with requests.Session() as untrusting:  # the tier's certificate is the lab CA's, not a public one
        untrusting.trust_env = False
        with pytest.raises(requests.exceptions.SSLError):
            untrusting.get(lab.msft.control.url + "/health", timeout=10)

    status = subprocess.run(epson_hil("lab", "status", "--state-dir", str(state_dir)), capture_output=True,
                            text=True, timeout=60)
    assert status.returncode == 0, status.stderr
    assert f"pid {process.pid}" in status.stdout and lab.msft.control.url in status.stdout

    code, out, err = stop(process, signal.SIGTERM)
    assert code == 0, err
    assert lab.msft.control.url in out and lab.msft.smtp.server_name in out
    for user in lab.msft.users:  # the summary names addresses, never passwords or the token
        assert user.password not in out + err
    assert lab.msft.control.token not in out + err
    assert not path.exists()
    after = subprocess.run(epson_hil("lab", "status", "--state-dir", str(state_dir)), capture_output=True,
                           text=True, timeout=60)
    assert after.returncode == 1 and "lab.json" in after.stderr


def test_lab_up_stops_cleanly_on_sigint(lab_up: tuple[subprocess.Popen[str], Path]) -> None:
    process, state_dir = lab_up
    code, _, err = stop(process, signal.SIGINT)
    assert code == 0, err
    assert not (state_dir / "lab.json").exists()


def test_a_second_lab_on_the_same_state_dir_is_refused(lab_up: tuple[subprocess.Popen[str], Path],
                                                        inventory_path: Path) -> None:
    process, state_dir = lab_up
    second = subprocess.run(epson_hil("lab", "up", "--inventory", str(inventory_path), "--state-dir",
                                      str(state_dir)), capture_output=True, text=True, timeout=60)
    assert second.returncode == 1 and f"pid {process.pid}" in second.stderr
    assert load_lab(state_dir).pid == process.pid  # the running lab's file is untouched


@pytest.mark.parametrize(("text", "key"), [
    ("msft:\n  tenant:\n    domain: x.onmicrosoft.com\n    users:\n      - {upn: nope, password: p, "
     "display_name: N}\n    apps: []\n", "msft.tenant.users[0].upn"),
    ("devices: []\n", "msft"),
    ("msft:\n  kind: real\n  tenant: {}\n", "msft.kind"),
    ("msft: [unclosed\n", "not valid YAML at line"),
])
def test_a_bad_inventory_exits_2_naming_the_key(tmp_path: Path, text: str, key: str) -> None:
    inventory = tmp_path / "bad.yaml"
    inventory.write_text(text)
    result = subprocess.run(epson_hil("lab", "up", "--inventory", str(inventory), "--state-dir",
                                      str(tmp_path / "state")), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert key in result.stderr and str(inventory) in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "state" / "lab.json").exists()
