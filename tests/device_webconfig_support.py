"""Helpers for the harness-side Web Config tests: a lab browser, a logged-in WebConfig, snapshot and restore."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright

from harness.browser import launch_browser, tier_resolution
from harness.device.webconfig import Downloaded, WebConfig
from harness.lab.labfile import DeviceInfo, LabInfo
from harness.lab.virtual import VirtualLab
from harness.msft.control_client import TierControl

TIMEOUT_MS = 20_000
SNAPSHOT_PASSWORD = "Snapshot-Pa55"


def lab_browser(playwright: Playwright, info: LabInfo) -> Browser:
    """Chromium resolving Microsoft's web names to the lab's tier and trusting only its certificate."""
    return launch_browser(playwright, resolve=tier_resolution(info.msft.identity.port),
                          spki=[info.msft.identity.spki_sha256])


def admin_webconfig(context: BrowserContext, device: DeviceInfo) -> WebConfig:
    """A new page of ``context`` on ``device``'s Web Config, logged in as administrator."""
    wc = WebConfig(context.new_page(), device.webconfig, timeout_ms=TIMEOUT_MS)
    wc.session.log_in(device.admin_password)
    return wc


@contextmanager
def restored(wc: WebConfig) -> Iterator[Downloaded]:
    """Export the device's settings, and import them back afterwards (also after a failure)."""
    snapshot = wc.export.export(SNAPSHOT_PASSWORD)
    try:
        yield snapshot
    finally:
        wc.import_.import_file(snapshot, SNAPSHOT_PASSWORD)


def panel(control: TierControl, device: str, action: str, **args: str) -> dict[str, object]:
    """Press ``action`` on the device's panel through the control API."""
    return control.request("POST", f"/devices/{device}/panel", {"action": action, "args": args})


def power_cycle(control: TierControl, device: str) -> None:
    control.request("POST", f"/devices/{device}/power-cycle")


@pytest.fixture(scope="module")
def lab(inventory_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualLab]:
    with VirtualLab(inventory_path, tmp_path_factory.mktemp("lab")) as running:
        yield running


@pytest.fixture(scope="module")
def info(lab: VirtualLab) -> LabInfo:
    assert lab.info is not None
    return lab.info


@pytest.fixture(scope="module")
def browser(playwright: Playwright, info: LabInfo) -> Iterator[Browser]:
    running = lab_browser(playwright, info)
    yield running
    running.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context()
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()
