"""The suites catch every catalogued firmware defect, and pass on a clean virtual lab.

Each defect is given to one virtual device, and the suite modules that check the guide's claim it breaks are run
against that device alone: at least one test must fail as a device defect. That the clean lab passes every suite
is checked by the nightly run (``test_nightly_run.py``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from harness.lab.outcomes import FailureClass
from harness.sim.defects import NAMES

ROOT = Path(__file__).resolve().parent.parent
SUITES = ROOT / "suites"
BIN = Path(sys.executable).parent

#: Which model shows each defect, and the suite modules whose claims it breaks.
CATCHERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "signin_not_saved_after_ok": ("WF-C5790", ("test_s3_setup",)),
    "signin_saved_without_ok": ("WF-C5790", ("test_s3_setup",)),
    "access_token_never_refreshed": ("WF-C5790", ("test_s7_expiry",)),
    "refresh_token_not_rotated": ("WF-C5790", ("test_s7_expiry",)),
    "certificate_validation_ignored": ("WF-C5790", ("test_s7_certificates",)),
    "starttls_skipped": ("WF-C5790", ("test_sending",)),
    "expired_signin_reported_as_370": ("WF-C5790", ("test_s7_error_codes",)),
    "oauth2_on_extended_network": ("WF-C21000", ("test_s3_setup",)),
    "status_sheet_omits_email_section": ("WF-C5790", ("test_s4_status",)),
    "panel_stale_status": ("WF-C5790", ("test_s4_status",)),
}


def test_every_catalogued_defect_has_suites_that_should_catch_it() -> None:
    assert set(CATCHERS) == set(NAMES)
    for _, modules in CATCHERS.values():
        for module in modules:
            assert (SUITES / f"{module}.py").is_file(), module


def failures_by_class(junit: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        if case.find("failure") is None and case.find("error") is None:
            continue
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        found.setdefault(str(props.get("failure_class", "unclassified")), []).append(case.get("name", ""))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("defect", sorted(CATCHERS))
def test_the_suites_catch_the_defect(defect: str, inventory_path: Path, tmp_path: Path) -> None:
    model, modules = CATCHERS[defect]
    inventory = yaml.safe_load(inventory_path.read_text())
    inventory["devices"] = [{"name": "dut", "model": model, "defects": [defect]}]
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(inventory))
    junit = tmp_path / "junit.xml"
    result = subprocess.run(
        [str(BIN / "pytest"), *(str(SUITES / f"{m}.py") for m in modules), "--inventory", str(path),
         "--infra-retries", "0", "-p", "no:cacheprovider", "-q", "--no-header", f"--junitxml={junit}",
         "-o", "junit_family=xunit2", "--rootdir", str(ROOT)],
        cwd=ROOT, capture_output=True, text=True, timeout=900, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    failures = failures_by_class(junit)
    assert failures.get(FailureClass.DEVICE_DEFECT.value), (
        f"no suite test failed as a device defect on a device with {defect!r}; failures: {failures}\n"
        f"{result.stdout[-3000:]}")
    assert not failures.get(FailureClass.HARNESS_ERROR.value), f"harness errors: {failures}\n{result.stdout[-3000:]}"
