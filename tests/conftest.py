"""Fixtures shared by the harness's own tests: a running built-in Microsoft tier and a lab browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from harness.browser import launch_browser, tier_resolution
from harness.msft.tenant import Tenant, load_tenant
from harness.msft.tier import MicrosoftTier


@pytest.fixture
def default_tenant(inventory_path: Path) -> Tenant:
    """The inventory's tenant, freshly loaded (a new copy for each test)."""
    return load_tenant(inventory_path)


@pytest.fixture(scope="session")
def tier(inventory_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MicrosoftTier]:
    """One built-in tier for the session, on the inventory's tenant with a virtual clock.

    Tests that change tenant switches restore them; tests that need a pristine tenant start their own tier.
    """
    with MicrosoftTier(load_tenant(inventory_path), tmp_path_factory.mktemp("tier")) as running:
        yield running


@pytest.fixture
def unconsented_tenant(tier: MicrosoftTier) -> Iterator[Tenant]:
    """The session tier's tenant as before the guide's first sign-in (no consent); all put back afterwards."""
    with tier.state.restoring() as live:
        live.consent_grants = []
        yield live


@pytest.fixture(scope="session")
def lab_ca_bundle(tier: MicrosoftTier) -> Path:
    return tier.ca_bundle


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """One Playwright driver for the session (the sync API allows one per thread)."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def tier_browser(playwright: Playwright, tier: MicrosoftTier) -> Iterator[Browser]:
    """Chromium that resolves Microsoft's web host names to the session tier and trusts only its certificate."""
    browser = launch_browser(playwright, resolve=tier_resolution(tier.identity_port),
                             spki=[tier.server_cert.spki_sha256_b64])
    yield browser
    browser.close()
