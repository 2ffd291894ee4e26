"""The fixtures suites use: ``lab``, ``device`` (one per inventory device), ``snmp``, ``msft``, ``mailbox``."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from harness.browser import launch_browser
from harness.device.panel import OperatorPanel, Panel, RemotePanel
from harness.device.signin import MsftPageFactory, second_context
from harness.device.snmp import SnmpProbe, probe_sync
from harness.device.webconfig import WebConfig
from harness.lab.inventory import RealMicrosoft
from harness.lab.microsoft import BuiltinSide, Mailbox, MicrosoftSide, RealSide
from harness.lab.session import DeviceUnderTest, LabSession
from harness.lab.yamlfile import InventoryError
from harness.plugin import options
from harness.plugin.hooks import FAILURE_CLASS
from harness.plugin.webconfig_pages import WebConfigPages


@pytest.fixture(scope="session")
def inventory_path(request: pytest.FixtureRequest) -> Path:
    """The inventory file this session tests against (``--inventory``, default the virtual lab's)."""
    return options.inventory_path(request.config)


@pytest.fixture(scope="session")
def run_id(request: pytest.FixtureRequest) -> str:
    """This run's id: ``--run-id``, else the id pytest-xdist shares between workers, else a fresh one."""
    given = request.config.getoption("run_id")
    worker_input = getattr(request.config, "workerinput", {})
    return str(given or worker_input.get("testrunuid") or uuid.uuid4().hex[:12])


@pytest.fixture(scope="session")
def lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, run_id: str) -> Iterator[LabSession]:
    """The lab of this test process: the virtual lab it started (or attached to), or the real lab's devices."""
    config = request.config
    state = config.getoption("lab_state_dir")
    session = LabSession(options.inventory_path(config), tmp_path_factory.mktemp("lab"),
                         state_dir=Path(state) if state else None, run_id=run_id,
                         lease_ttl=config.getoption("lease_ttl"), lease_wait=config.getoption("lease_wait"))
    try:
        session.open()
    except InventoryError as exc:
        pytest.exit(f"epson-hil: {exc}", returncode=4)
    try:
        yield session
    finally:
        session.close()


@pytest.fixture(scope="session")
def msft(lab: LabSession) -> Iterator[MicrosoftSide]:
    """The Microsoft side: the built-in tier of a virtual lab, or the inventory's real tenant."""
    side: BuiltinSide | RealSide
    if lab.lab is not None:
        side = BuiltinSide(lab.lab.msft)
    else:
        assert isinstance(lab.inventory.msft, RealMicrosoft)
        side = RealSide(lab.inventory.msft, str(lab.inventory_path))
    try:
        yield side
    finally:
        side.close()


@pytest.fixture
def mailbox(msft: MicrosoftSide) -> Mailbox:
    """Read the lab's mailboxes (the tier's, or the real tenant's through Graph): messages, clear, wait_for."""
    return Mailbox(msft)


@pytest.fixture
def device(request: pytest.FixtureRequest, lab: LabSession, device_name: str) -> DeviceUnderTest:
    """The device under test: capabilities checked against ``requires``, identity pre-flighted, leased."""
    dut = lab.device(device_name)
    have = dut.capabilities | lab.features
    missing = sorted({cap for mark in request.node.iter_markers("requires") for cap in mark.args} - have)
    if missing:
        pytest.skip(f"{device_name} ({dut.model}) lacks {', '.join(missing)}")
    preflight = lab.preflight(device_name)
    if not preflight.ok:
        pytest.skip(f"pre-flight identity check failed, device not tested: {preflight.message}")
    lab.lease(device_name)
    return dut


@pytest.fixture
def snmp(device: DeviceUnderTest) -> partial[SnmpProbe]:
    """Read the device over SNMP: ``snmp()`` returns a fresh :class:`SnmpProbe`."""
    return partial(probe_sync, device.snmp_host, device.snmp_port, device.snmp_credentials, timeout=2.0, retries=2)


@pytest.fixture(scope="session")
def lab_browser(msft: MicrosoftSide) -> Iterator[Browser]:
    """Chromium for Web Config and Microsoft's pages; with the built-in tier, Microsoft's names resolve to it."""
    resolve, spki = msft.browser_resolution()
    with sync_playwright() as driver:
        browser = launch_browser(driver, resolve=resolve, spki=spki)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def webconfig_pages(lab_browser: Browser) -> Iterator[WebConfigPages]:
    """Each device's Web Config page (a traced context of its own), kept from test to test."""
    pages = WebConfigPages(lab_browser)
    try:
        yield pages
    finally:
        pages.close()


@pytest.fixture
def webconfig(request: pytest.FixtureRequest, device: DeviceUnderTest,
              webconfig_pages: WebConfigPages) -> Iterator[WebConfig]:
    """The device's Web Config logged in as administrator; after a failed test its browser context is replaced."""
    yield webconfig_pages.logged_in(device)
    if FAILURE_CLASS in request.node.stash:
        webconfig_pages.discard(device.name)


@pytest.fixture
def microsoft_pages(lab_browser: Browser) -> MsftPageFactory:
    """Fresh pages (each in its own context) for Microsoft's sign-in, apart from the device's cookies."""
    return lambda: second_context(lab_browser)


@pytest.fixture
def panel(device: DeviceUnderTest, lab: LabSession) -> Iterator[Panel]:
    """The device's control panel: the virtual device's remote panel, or an operator at a real one."""
    if lab.lab is not None and device.kind == "virtual":
        remote = RemotePanel.from_lab(lab.lab, device.name)
        try:
            yield remote
        finally:
            remote.close()
    else:
        yield OperatorPanel()
