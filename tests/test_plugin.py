"""The pytest plugin, run as a lab would run it: devices as parameters, capabilities, failure classes, retries."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.lab.labfile import LabInfo, load_lab, write_lab
from harness.lab.leases import Holder, LeaseBusy
from harness.lab.outcomes import FailureClass, classify
from harness.lab.session import LabSession
from harness.lab.virtual import VirtualLab

pytest_plugins = ["pytester"]

DEVICES = ["mfp-c5790", "a3-am-c4000", "ent-c21000", "scan-ds790"]


def run(pytester: pytest.Pytester, inventory: Path, source: str, *args: str) -> tuple[pytest.RunResult, ET.Element]:
    pytester.makepyfile(test_suite=source)
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest_subprocess("--inventory", str(inventory), f"--junitxml={junit}",
                                           "-p", "no:cacheprovider", *args)
    return result, ET.parse(junit).getroot()


def properties(root: ET.Element, name_part: str) -> dict[str, str]:
    case = next(c for c in root.iter("testcase") if name_part in c.get("name", ""))
    return {p.get("name", ""): p.get("value", "") for p in case.iter("property")}


def test_every_inventory_device_becomes_a_parameter(pytester: pytest.Pytester, inventory_path: Path) -> None:
    result, _ = run(pytester, inventory_path, """
        def test_identity(device, snmp):
            assert snmp().identity.serial == device.serial
        """, "-v")
    result.assert_outcomes(passed=4)
    for name in DEVICES:
        result.stdout.fnmatch_lines([f"*test_identity?{name}?*PASSED*"])


def test_device_option_selects_and_unknown_device_is_a_usage_error(pytester: pytest.Pytester,
                                                                    inventory_path: Path) -> None:
    result, _ = run(pytester, inventory_path, "def test_one(device_name):\n    pass\n", "--device", "scan-ds790")
    result.assert_outcomes(passed=1)
    pytester.makepyfile(test_other="def test_one(device_name):\n    pass\n")
    bad = pytester.runpytest_subprocess("--inventory", str(inventory_path), "--device", "nope", "test_other.py")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*--device nope: not in *virtual-lab.yaml (devices: mfp-c5790, *"])


def test_requires_skips_devices_without_the_capability_and_says_why(pytester: pytest.Pytester,
                                                                     inventory_path: Path) -> None:
    result, _ = run(pytester, inventory_path, """
        import pytest

        @pytest.mark.requires("fax_server_email", "tenant_control")
        def test_fax(device):
            assert device.has("fax_server_email")
        """, "-rs")
    result.assert_outcomes(passed=1, skipped=3)
    result.stdout.fnmatch_lines(["*scan-ds790 (DS-790WN) lacks fax_server_email*"])


def test_failures_are_classified_and_only_infrastructure_is_retried(pytester: pytest.Pytester,
                                                                     inventory_path: Path) -> None:
    result, root = run(pytester, inventory_path, """
        import pytest
        from harness.device.errors import InfraError

        ATTEMPTS = {}

        def test_defect(device):
            assert device.model == "not this model"

        def test_harness_bug(device):
            raise KeyError("a bug in the harness")

        def test_flaky_lab(device):
            ATTEMPTS[device.name] = ATTEMPTS.get(device.name, 0) + 1
            if ATTEMPTS[device.name] == 1:
                raise InfraError("the device did not answer")

        def test_lab_down(device):
            raise ConnectionRefusedError("tier unreachable")
        """, "--device", "mfp-c5790", "--infra-retries", "1")
    result.assert_outcomes(passed=1, failed=3)
    assert properties(root, "test_defect")["failure_class"] == FailureClass.DEVICE_DEFECT
    assert "attempts" not in properties(root, "test_defect")
    assert properties(root, "test_harness_bug")["failure_class"] == FailureClass.HARNESS_ERROR
    flaky = json.loads(properties(root, "test_flaky_lab")["attempts"])
    assert [a["outcome"] for a in flaky] == ["failed", "passed"]
    assert flaky[0]["failure_class"] == FailureClass.LAB_INFRASTRUCTURE and "did not answer" in flaky[0]["message"]
    down = properties(root, "test_lab_down")
    assert down["failure_class"] == FailureClass.LAB_INFRASTRUCTURE
    assert [a["outcome"] for a in json.loads(down["attempts"])] == ["failed", "failed"]


def test_groups_each_devices_tests_for_xdist(pytester: pytest.Pytester, inventory_path: Path) -> None:
    pytester.makepyfile(test_suite="def test_a(device_name):\n    pass\n")
    pytester.makeconftest("""
        def pytest_collection_finish(session):
            for item in session.items:
                print("GROUP", item.name, item.get_closest_marker("xdist_group").kwargs["name"])
        """)
    result = pytester.runpytest_subprocess("--inventory", str(inventory_path), "-s")
    for name in DEVICES:
        result.stdout.fnmatch_lines([f"GROUP test_a?{name}? {name}"])


def test_a_serial_run_tests_one_device_after_another_in_file_order(pytester: pytest.Pytester,
                                                                    inventory_path: Path) -> None:
    """Every test of one device, across modules, before the next device's: as each parallel worker runs them."""
    pytester.makepyfile(test_a="def test_one(device_name):\n    pass\n\ndef test_two(device_name):\n    pass\n",
                        test_b="def test_three(device_name):\n    pass\n")
    result = pytester.runpytest_subprocess("--inventory", str(inventory_path), "--collect-only", "-q",
                                           "--device", "scan-ds790", "--device", "mfp-c5790")
    ids = [line for line in result.stdout.lines if "::" in line]
    assert ids == [f"{module}::{test}[{device}]" for device in ("mfp-c5790", "scan-ds790")
                   for module, test in (("test_a.py", "test_one"), ("test_a.py", "test_two"),
                                        ("test_b.py", "test_three"))]


def test_classification_of_common_exceptions() -> None:
    import requests

    assert classify(TimeoutError()) is FailureClass.LAB_INFRASTRUCTURE
    assert classify(requests.ConnectionError()) is FailureClass.LAB_INFRASTRUCTURE
    assert classify(requests.HTTPError()) is FailureClass.DEVICE_DEFECT
    assert classify(AssertionError()) is FailureClass.DEVICE_DEFECT
    with pytest.raises(pytest.fail.Exception) as did_not_raise, pytest.raises(ValueError):
        pass
    assert classify(did_not_raise.value) is FailureClass.DEVICE_DEFECT
    assert classify(TypeError()) is FailureClass.HARNESS_ERROR


def test_a_device_that_is_not_who_the_inventory_says_is_not_tested(pytester: pytest.Pytester,
                                                                     inventory_path: Path, tmp_path: Path) -> None:
    with VirtualLab(inventory_path, tmp_path / "state") as lab:
        info = load_lab(lab.state_dir)
        devices = [d.model_copy(update={"serial": "X0WRONG000"}) if d.name == "mfp-c5790" else d
                   for d in info.devices]
        write_lab(lab.state_dir, LabInfo.model_validate({**info.model_dump(), "devices": devices}))
        result, _ = run(pytester, inventory_path, "def test_x(device):\n    pass\n",
                        "--lab-state-dir", str(lab.state_dir), "-rs")
    result.assert_outcomes(passed=3, skipped=1)
    result.stdout.fnmatch_lines(["*pre-flight identity check failed*mfp-c5790*serial 'X5DJ004127' "
                                 "(inventory: 'X0WRONG000')*"])


def test_two_sessions_never_lease_the_same_device(inventory_path: Path, tmp_path: Path) -> None:
    with VirtualLab(inventory_path, tmp_path / "state") as lab:
        first = LabSession(inventory_path, tmp_path / "a", state_dir=lab.state_dir, run_id="run-a").open()
        second = LabSession(inventory_path, tmp_path / "b", state_dir=lab.state_dir, run_id="run-b").open()
        try:
            first.lease("mfp-c5790")
            with pytest.raises(LeaseBusy, match="run-a"):
                second.lease("mfp-c5790")
            second.lease("scan-ds790")
            first.close()
            assert second.lease("scan-ds790").holder == Holder.current("run-b")
            assert second.lease("mfp-c5790")  # released when the first session closed
        finally:
            first.close()
            second.close()


def test_the_mailbox_fixture_reads_what_a_device_sends(pytester: pytest.Pytester, inventory_path: Path) -> None:
    result, _ = run(pytester, inventory_path, """
        import pytest

        @pytest.mark.requires("remote_panel", "scan_to_email")
        def test_scan(device, panel, mailbox, msft):
            address = msft.users[0].upn
            mailbox.clear(address)
            assert mailbox.messages(address) == []
            outcome = panel.scan_to_email(address)
            assert not outcome.sent and outcome.error_code is not None  # no sign-in set up: Exchange refuses
            assert mailbox.messages(address) == []
        """, "--device", "scan-ds790")
    result.assert_outcomes(passed=1)
