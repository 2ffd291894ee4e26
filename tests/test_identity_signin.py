"""The device code flow end to end: msal on the device side, Chromium on Microsoft's sign-in pages.

Each test restores the tenant switches and session revocations it touches. The lab clock only moves
forward; when it does, msal's own clock is moved with it (the client machine's clock moves too).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import msal
import pytest
import requests
import time_machine
from playwright.sync_api import Browser, Page

from harness.msft.errors import PAGE_MESSAGES
from harness.msft.identity.pages import UNKNOWN_CODE
from harness.msft.signin_page import DeviceLoginOutcome, MicrosoftDeviceLogin
from harness.msft.tenant import SMTP_SEND, ConditionalAccessPolicy, Tenant
from harness.msft.tier import MicrosoftTier
from harness.msft.tokens import InvalidToken

pytestmark = pytest.mark.browser

SCOPES = [SMTP_SEND]  # msal adds openid, profile and offline_access itself
ADMIN = "admin@epsonlab.onmicrosoft.com"
PRINTER = "printer@epsonlab.onmicrosoft.com"
ALICE = "alice@epsonlab.onmicrosoft.com"
DAY = 86400
MsalFactory = Callable[..., msal.PublicClientApplication]


# --- fixtures and helpers -------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def tenant(unconsented_tenant: Tenant) -> Tenant:
    """The session tier's tenant without any consent; its switches and revocations restored afterwards."""
    return unconsented_tenant


@pytest.fixture
def page(tier_browser: Browser) -> Iterator[Page]:
    context = tier_browser.new_context()
    yield context.new_page()
    context.close()


@pytest.fixture
def msal_app(tier: MicrosoftTier) -> Iterator[Callable[..., msal.PublicClientApplication]]:
    """Makes a fresh msal client per step (msal caches a 400 answer for 60 s per app); closes their sessions."""
    sessions: list[requests.Session] = []

    def make(cache: msal.TokenCache | None = None) -> msal.PublicClientApplication:
        session = requests.Session()
        session.verify = str(tier.ca_bundle)
        session.trust_env = False
        sessions.append(session)
        return msal.PublicClientApplication(tier.client_id, authority=tier.authority, instance_discovery=False,
                                            http_client=session, token_cache=cache)

    yield make
    for session in sessions:  # an idle TLS keep-alive would hold up the tier's shutdown
        session.close()


def client_clock(tier: MicrosoftTier) -> AbstractContextManager[Any]:
    """Move this process's clock (msal's) to the lab clock's time, ticking on."""
    return time_machine.travel(datetime.fromtimestamp(tier.state.clock.now(), UTC), tick=True)


def advance_lab(tier: MicrosoftTier, seconds: float) -> None:
    tier.state.clock.advance(seconds)  # type: ignore[attr-defined]


def sign_in(tier: MicrosoftTier, page: Page, flow: dict[str, Any], upn: str, **options: Any) -> DeviceLoginOutcome:
    password = options.pop("password", None) or tier.state.tenant.user(upn).password  # type: ignore[union-attr]
    return MicrosoftDeviceLogin(page).complete(flow["verification_uri"], flow["user_code"], upn, password, **options)


def poll_once(app: msal.PublicClientApplication, flow: dict[str, Any]) -> dict[str, Any]:
    """One poll of the token endpoint, as a device does between its waits."""
    return app.acquire_token_by_device_flow(flow, exit_condition=lambda _flow: True)


def signins(tier: MicrosoftTier, upn: str) -> list[tuple[str, str, int]]:
    return [(e.flow, e.status, e.error_code) for e in tier.state.signins.events(upn)]


# --- the whole story ------------------------------------------------------------------------------------
def test_admin_consents_for_org_then_msal_refreshes_until_idle_expiry(
        tier: MicrosoftTier, page: Page, tenant: Tenant, msal_app: MsalFactory,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    cache = msal.TokenCache()
    with client_clock(tier):
        app = msal_app(cache)
        flow = app.initiate_device_flow(scopes=SCOPES)
        outcome = sign_in(tier, page, flow, ADMIN)
        assert page.url == "https://login.microsoftonline.com/common/login"
        result = app.acquire_token_by_device_flow(flow)

    assert outcome.signed_in, outcome
    assert outcome.steps == ("code", "username", "password", "consent")
    assert outcome.message == ("You have signed in to the Epson Device Email application on your device. "
                               "You may now close this window.")
    assert "access_token" in result, result
    claims = tier.state.tokens.validate_access_token(result["access_token"])
    assert (claims.upn, claims.app_id, claims.tid) == (ADMIN, tier.client_id, tenant.tenant_id)
    assert "SMTP.Send" in claims.scopes
    assert result["id_token_claims"]["preferred_username"] == ADMIN
    assert tenant.has_consent(tier.client_id, ALICE, SCOPES), "org-wide consent was not recorded"
    (account,) = app.get_accounts()

    advance_lab(tier, 2 * 3600)
    with client_clock(tier):
        refreshed = msal_app(cache).acquire_token_silent(SCOPES, account=account)
    assert refreshed and refreshed["token_source"] == "identity_provider"
    assert tier.state.tokens.validate_access_token(refreshed["access_token"]).upn == ADMIN
    with pytest.raises(InvalidToken, match="expired"):
        tier.state.tokens.validate_access_token(result["access_token"])

    advance_lab(tier, 91 * DAY)
    with client_clock(tier):
        failed = msal_app(cache).acquire_token_silent_with_error(SCOPES, account=account)
    assert failed and failed["error"] == "invalid_grant" and failed["error_codes"] == [700082], failed

    log = signins(tier, ADMIN)
    assert log[-3:] == [("device_code", "success", 0), ("refresh_token", "success", 0),
                        ("refresh_token", "failure", 700082)]
    secrets = [flow["user_code"], flow["device_code"], tenant.user(ADMIN).password,  # type: ignore[union-attr]
               result["access_token"], result["refresh_token"], refreshed["refresh_token"]]
    ours = [r.getMessage() for r in caplog.records if r.name.split(".")[0] in ("harness", "uvicorn", "starlette")]
    assert not [line for line in ours if any(s in line for s in secrets)]


def test_devicelogin_redirects_to_the_login_host(tier: MicrosoftTier, page: Page) -> None:
    page.goto("https://microsoft.com/devicelogin")
    assert page.url == "https://login.microsoftonline.com/common/oauth2/deviceauth"
    assert page.get_by_role("heading", name="Enter code").is_visible()
    assert page.get_by_text("Enter the code displayed on your app or device.").is_visible()
    page.goto(tier.devicelogin_url)
    assert page.url == tier.devicelogin_url and page.get_by_label("Code", exact=True).is_visible()


def test_existing_consent_skips_the_permissions_page_and_revocation_ends_refresh(
        tier: MicrosoftTier, page: Page, tenant: Tenant, msal_app: MsalFactory) -> None:
    tenant.grant_consent(tier.client_id, SCOPES, ADMIN, on_behalf_of_org=True)
    cache = msal.TokenCache()
    with client_clock(tier):
        app = msal_app(cache)
        flow = app.initiate_device_flow(scopes=SCOPES)
        outcome = sign_in(tier, page, flow, PRINTER)
        result = app.acquire_token_by_device_flow(flow)
        assert outcome.signed_in and outcome.steps == ("code", "username", "password")
        assert tier.state.tokens.validate_access_token(result["access_token"]).upn == PRINTER
        (account,) = app.get_accounts()

        tier.state.tokens.revoke_user(PRINTER)
        failed = msal_app(cache).acquire_token_silent_with_error(SCOPES, account=account,
                                                                      force_refresh=True)
    assert failed and failed["error"] == "invalid_grant" and failed["error_codes"] == [50173], failed
    assert signins(tier, PRINTER)[-1] == ("refresh_token", "failure", 50173)


# --- refusals -------------------------------------------------------------------------------------------
def test_conditional_access_on_device_code_flow_blocks_with_53003(
        tier: MicrosoftTier, page: Page, tenant: Tenant, msal_app: MsalFactory) -> None:
    tenant.grant_consent(tier.client_id, SCOPES, ADMIN, on_behalf_of_org=True)
    tenant.conditional_access = [ConditionalAccessPolicy(name="Block device code", users=[ALICE],
                                                         applies_to="device_code")]
    app = msal_app()
    flow = app.initiate_device_flow(scopes=SCOPES)
    outcome = sign_in(tier, page, flow, ALICE)
    assert outcome.status == "error" and outcome.message == PAGE_MESSAGES[53003]
    assert page.get_by_role("heading", name="You cannot access this right now").is_visible()
    result = poll_once(app, flow)
    assert result["error"] == "invalid_grant" and result["error_codes"] == [53003]
    assert result["suberror"] == "message_only"
    (event,) = [e for e in tier.state.signins.events(ALICE) if e.error_code == 53003]
    assert event.policy == "Block device code" and event.flow == "device_code"


def test_conditional_access_for_all_sign_ins_also_blocks_refresh(
        tier: MicrosoftTier, page: Page, tenant: Tenant, msal_app: MsalFactory) -> None:
    tenant.grant_consent(tier.client_id, SCOPES, ADMIN, on_behalf_of_org=True)
    cache = msal.TokenCache()
    app = msal_app(cache)
    flow = app.initiate_device_flow(scopes=SCOPES)
    assert sign_in(tier, page, flow, PRINTER).signed_in
    assert "access_token" in app.acquire_token_by_device_flow(flow)
    tenant.conditional_access = [ConditionalAccessPolicy(name="Block printers", users=[PRINTER])]
    (account,) = app.get_accounts()
    failed = msal_app(cache).acquire_token_silent_with_error(SCOPES, account=account, force_refresh=True)
    assert failed and failed["error_codes"] == [53003], failed


def test_non_admin_without_org_consent_needs_admin_approval_65001(
        tier: MicrosoftTier, page: Page, msal_app: MsalFactory) -> None:
    app = msal_app()
    flow = app.initiate_device_flow(scopes=SCOPES)
    outcome = sign_in(tier, page, flow, ALICE)
    assert outcome.status == "error" and outcome.message == PAGE_MESSAGES[65001]
    assert outcome.steps == ("code", "username", "password")
    assert page.get_by_role("heading", name="Need admin approval").is_visible()
    result = poll_once(app, flow)
    assert result["error"] == "invalid_grant" and result["error_codes"] == [65001]
    assert result["suberror"] == "consent_required"
    assert signins(tier, ALICE)[-1] == ("device_code", "failure", 65001)


def test_admin_cancelling_the_permissions_page_declines_the_device(
        tier: MicrosoftTier, page: Page, tenant: Tenant, msal_app: MsalFactory) -> None:
    app = msal_app()
    flow = app.initiate_device_flow(scopes=SCOPES)
    outcome = sign_in(tier, page, flow, ADMIN, accept=False)
    assert outcome.status == "declined" and outcome.message == PAGE_MESSAGES[70000]
    assert poll_once(app, flow)["error"] == "authorization_declined"
    assert not tenant.has_consent(tier.client_id, ADMIN, SCOPES)


def test_permissions_page_shows_app_publisher_permission_and_org_checkbox(
        tier: MicrosoftTier, page: Page, msal_app: MsalFactory) -> None:
    flow = msal_app().initiate_device_flow(scopes=SCOPES)
    page.goto(flow["verification_uri"])
    page.get_by_label("Code", exact=True).fill(flow["user_code"])
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Email, phone, or Skype").fill(ADMIN)
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Password").fill(tier.state.tenant.user(ADMIN).password)  # type: ignore[union-attr]
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Permissions requested").wait_for()
    for text in ("Epson Device Email", "Seiko Epson Corporation", "Send emails from mailboxes using SMTP AUTH",
                 "SMTP.Send", "Maintain access to data you have given it access to"):
        assert page.get_by_text(text).first.is_visible(), text
    assert page.get_by_role("checkbox", name="Consent on behalf of your organization").is_visible()
    assert page.get_by_role("button", name="Accept").is_visible()


def test_wrong_code_is_refused_on_the_page_and_the_device_keeps_waiting(
        tier: MicrosoftTier, page: Page, msal_app: MsalFactory) -> None:
    app = msal_app()
    flow = app.initiate_device_flow(scopes=SCOPES)
    wrong = "".join("A" if ch != "A" else "B" for ch in flow["user_code"])
    outcome = sign_in(tier, page, {**flow, "user_code": wrong}, ADMIN)
    assert outcome.status == "error" and outcome.message == UNKNOWN_CODE
    assert outcome.steps == ("code",)
    assert poll_once(app, flow)["error"] == "authorization_pending"


def test_wrong_password_is_shown_logged_and_a_retry_succeeds(
        tier: MicrosoftTier, page: Page, tenant: Tenant, msal_app: MsalFactory) -> None:
    tenant.grant_consent(tier.client_id, SCOPES, ADMIN, on_behalf_of_org=True)
    app = msal_app()
    flow = app.initiate_device_flow(scopes=SCOPES)
    outcome = sign_in(tier, page, flow, PRINTER, password="not-the-password")
    assert outcome.status == "error" and outcome.message == PAGE_MESSAGES[50126]
    assert poll_once(app, flow)["error"] == "authorization_pending"
    assert signins(tier, PRINTER)[-1] == ("device_code", "failure", 50126)
    # The same page takes a second try, as Microsoft's does.
    page.get_by_label("Password").fill(tenant.user(PRINTER).password)  # type: ignore[union-attr]
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("You have signed in to the").wait_for()
    assert "access_token" in msal_app().acquire_token_by_device_flow(flow)


def test_expired_device_code_fails_on_the_page_and_at_the_poll(
        tier: MicrosoftTier, page: Page, msal_app: MsalFactory) -> None:
    app = msal_app()
    flow = app.initiate_device_flow(scopes=SCOPES)
    assert poll_once(app, flow)["error"] == "authorization_pending"
    advance_lab(tier, 16 * 60)
    outcome = sign_in(tier, page, flow, ADMIN)
    assert outcome.status == "error" and outcome.message == PAGE_MESSAGES[70019]
    expired = poll_once(msal_app(), flow)
    assert expired["error"] == "expired_token" and expired["error_codes"] == [70020]
