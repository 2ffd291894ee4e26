"""harness.msft.real against the built-in tier: msal's device flow with Chromium signing in, the Graph mailbox
reader, and the pre-flight of the guide's prerequisites with each tenant switch off and on.

Every test that changes the session tenant restores it (``pristine``: ``TierState.restoring``).
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from playwright.sync_api import Browser
from smtp_support import ALICE, PRINTER, access_token, auth_xoauth2, open_session, scan_message

from harness.lab.inventory import SecretRef
from harness.lab.labfile import MsftInfo
from harness.lab.yamlfile import InventoryError
from harness.msft.real import (
    ConsentRequired,
    DeviceFlow,
    Finding,
    GraphError,
    GraphMailbox,
    IdentityError,
    InvalidClientSecret,
    MailMessage,
    MailNotReceived,
    PublicClientFlowsDisabled,
    RealTenant,
    SignInDeclined,
    SignInTimedOut,
    SmtpEndpoint,
    TenantUnreachable,
    preflight,
    preflight_lab,
)
from harness.msft.real.preflight import (
    CONDITIONAL_ACCESS,
    CONSENT,
    MAILBOX_SMTP_AUTH,
    PUBLIC_CLIENT_FLOWS,
    SECURITY_DEFAULTS,
    TENANT_SMTP_AUTH,
)
from harness.msft.signin_page import MicrosoftDeviceLogin
from harness.msft.tenant import SMTP_SEND, AppRegistration, Tenant
from harness.msft.tier import MicrosoftTier

ADMIN = "admin@epsonlab.onmicrosoft.com"
READER = "epson-hil Mail Reader"
SECRET_ENV = "EPSON_HIL_TEST_MAIL_READER_SECRET"
TENANT_DISABLED = ("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. "
                   "Visit https://aka.ms/smtp_auth_disabled for more information.")


@pytest.fixture
def pristine(tier: MicrosoftTier) -> Iterator[Tenant]:
    """The session tenant, every field restored after the test (switches, consent, users, apps)."""
    with tier.state.restoring() as live:
        yield live


def lab_tenant(tier: MicrosoftTier) -> RealTenant:
    return RealTenant.from_lab(MsftInfo.model_validate(tier.lab_info()))


def password(tier: MicrosoftTier, upn: str) -> str:
    user = tier.state.tenant.user(upn)
    assert user is not None
    return user.password


def browser_sign_in(browser: Browser, tier: MicrosoftTier, upn: str, *, accept: bool = True,
                    expect: str = "signed_in") -> Callable[[DeviceFlow], None]:
    """What a person does with a device code: the sign-in pages in a fresh browser context."""
    def sign_in(flow: DeviceFlow) -> None:
        context = browser.new_context()
        try:
            outcome = MicrosoftDeviceLogin(context.new_page()).complete(
                flow.verification_uri, flow.user_code, upn, password(tier, upn), accept=accept)
        finally:
            context.close()
        assert outcome.status == expect, outcome
    return sign_in


def reader(tier: MicrosoftTier) -> AppRegistration:
    return next(a for a in tier.state.tenant.apps if a.display_name == READER)


def mailbox(tier: MicrosoftTier, monkeypatch: pytest.MonkeyPatch, secret: str | None = None,
            **options: float) -> GraphMailbox:
    app = reader(tier)
    monkeypatch.setenv(SECRET_ENV, secret or app.client_secret or "")
    return GraphMailbox.from_lab(MsftInfo.model_validate(tier.lab_info()), app.client_id, SecretRef(env=SECRET_ENV),
                                 **options)


def send(tier: MicrosoftTier, subject: str, to: str = ALICE) -> None:
    client, _ = open_session(tier)
    try:
        assert auth_xoauth2(client, PRINTER, access_token(tier))[0] == 235
        assert client.send_message(scan_message(PRINTER, [to], subject)) == {}
    finally:
        client.quit()


def by_prerequisite(findings: list[Finding]) -> dict[str, Finding]:
    return {f.prerequisite: f for f in findings}


# --- the device flow ----------------------------------------------------------------------------------------

@pytest.mark.browser
def test_device_flow_through_msal_signs_in_with_a_browser(tier: MicrosoftTier, tier_browser: Browser,
                                                          pristine: Tenant) -> None:
    flow = lab_tenant(tier).start_device_flow()
    assert flow.verification_uri == "https://microsoft.com/devicelogin"
    assert len(flow.user_code) == 9 and flow.user_code in flow.message
    assert flow.user_code not in repr(flow)
    assert flow.poll() is None  # nobody has signed in yet
    browser_sign_in(tier_browser, tier, ADMIN)(flow)
    result = flow.wait(timeout=30)
    assert result.upn == ADMIN and result.tenant_id == tier.state.tenant.tenant_id
    assert SMTP_SEND in result.scopes and result.refresh_token
    assert result.access_token not in repr(result) and result.refresh_token not in repr(result)
    assert tier.state.tokens.validate_access_token(result.access_token).upn == ADMIN


@pytest.mark.browser
def test_a_declined_sign_in_is_typed(tier: MicrosoftTier, tier_browser: Browser, pristine: Tenant) -> None:
    flow = lab_tenant(tier).start_device_flow()
    browser_sign_in(tier_browser, tier, ADMIN, accept=False, expect="declined")(flow)
    with pytest.raises(SignInDeclined) as refused:
        flow.wait(timeout=30)
    assert refused.value.error == "authorization_declined" and "AADSTS70000" in str(refused.value)


def test_public_client_flows_off_is_refused_at_the_poll_with_7000218(tier: MicrosoftTier, pristine: Tenant) -> None:
    pristine.apps[0].allow_public_client_flows = False
    flow = lab_tenant(tier).start_device_flow()  # Entra still hands out the code
    with pytest.raises(PublicClientFlowsDisabled) as refused:
        flow.poll()
    assert refused.value.aadsts == 7000218 and str(refused.value).startswith("AADSTS7000218 (invalid_client): ")
    assert "Trace ID" not in str(refused.value)


def test_waiting_is_bounded_when_nobody_signs_in(tier: MicrosoftTier) -> None:
    flow = lab_tenant(tier).start_device_flow()
    with pytest.raises(SignInTimedOut, match="nobody completed the sign-in within 1 s"):
        flow.wait(timeout=1)
    assert flow.poll() is None  # the flow itself is still pending and usable


def test_an_unknown_tenant_quotes_aadsts90002(tier: MicrosoftTier) -> None:
    tenant = RealTenant(f"https://localhost:{tier.identity_port}/not-our-tenant.example", tier.client_id,
                        ca_bundle=tier.ca_bundle)
    with pytest.raises(IdentityError) as refused:
        tenant.start_device_flow()
    assert refused.value.aadsts == 90002 and "not-our-tenant.example" in refused.value.description


def test_an_unreachable_tenant_is_infrastructure(tier: MicrosoftTier) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        tenant = RealTenant(f"https://localhost:{port}/{tier.state.tenant.tenant_id}", tier.client_id,
                            ca_bundle=tier.ca_bundle)
        with pytest.raises(TenantUnreachable, match=f"localhost:{port}"):
            tenant.start_device_flow()
    with pytest.raises(ValueError, match="https://"):
        RealTenant(f"http://localhost:{tier.identity_port}/x", tier.client_id)


# --- the Graph mailbox reader -------------------------------------------------------------------------------

def test_wait_for_polls_until_the_message_arrives(tier: MicrosoftTier, monkeypatch: pytest.MonkeyPatch) -> None:
    reader_box = mailbox(tier, monkeypatch, poll_interval=0.1)
    since = tier.state.clock.now()
    first, second = f"First {secrets.token_hex(4)}", f"Second {secrets.token_hex(4)}"
    send(tier, first)
    polls: list[str] = []

    def is_second(message: MailMessage) -> bool:
        if message.subject == first and not polls:
            polls.append("first seen")
            send(tier, second)  # arrives only after this poll: the reader must poll again to see it
        return message.subject == second

    found = reader_box.wait_for(ALICE, is_second, timeout=15, since=since)
    assert polls == ["first seen"]
    assert found.subject == second and found.sender == PRINTER and found.to == (ALICE,)
    assert isinstance(found.received_at, datetime) and found.received_at.tzinfo is not None
    assert found.has_attachments and [(a.name, a.content_type) for a in found.attachments] == [
        ("scan0001.pdf", "application/pdf")]
    assert found.attachments[0].size == len(b"%PDF-1.4\n") + 256 * 8
    assert found.body.startswith("Scanned document attached.")
    listed = reader_box.messages(ALICE, since=since)
    assert [m.subject for m in listed if m.subject in (first, second)] == [second, first]  # newest first


def test_wait_for_gives_up_at_its_deadline(tier: MicrosoftTier, monkeypatch: pytest.MonkeyPatch) -> None:
    reader_box = mailbox(tier, monkeypatch, poll_interval=0.05)
    with pytest.raises(MailNotReceived, match=f"no matching message in {ALICE} within 0 s"):
        reader_box.wait_for(ALICE, lambda m: False, timeout=0.3, since=tier.state.clock.now())


def test_the_reader_gets_a_fresh_token_when_graph_refuses_an_expired_one(
        tier: MicrosoftTier, monkeypatch: pytest.MonkeyPatch) -> None:
    reader_box = mailbox(tier, monkeypatch)
    reader_box.messages(PRINTER, since=tier.state.clock.now())
    cached = reader_box.token()
    tier.state.clock.advance(tier.state.tenant.tokens.access_token_lifetime_max + 60)  # type: ignore[attr-defined]
    reader_box.messages(PRINTER, since=tier.state.clock.now())  # 401 for the cached token, then a fresh one
    assert reader_box.token() != cached


def test_the_reader_refuses_with_typed_errors(tier: MicrosoftTier, monkeypatch: pytest.MonkeyPatch,
                                              pristine: Tenant) -> None:
    with pytest.raises(InvalidClientSecret, match="AADSTS7000215"):
        mailbox(tier, monkeypatch, secret="wrong-secret").messages(ALICE)
    monkeypatch.delenv(SECRET_ENV)
    unset = GraphMailbox.from_lab(MsftInfo.model_validate(tier.lab_info()), reader(tier).client_id,
                                  SecretRef(env=SECRET_ENV))
    with pytest.raises(InventoryError, match=SECRET_ENV):
        unset.messages(ALICE)
    reader(tier).app_roles = []
    with pytest.raises(GraphError) as denied:
        mailbox(tier, monkeypatch).messages(ALICE)
    assert (denied.value.status, denied.value.code) == (403, "ErrorAccessDenied")


# --- pre-flight ---------------------------------------------------------------------------------------------

def run_preflight(tier: MicrosoftTier, **options: Any) -> dict[str, Finding]:
    return by_prerequisite(preflight_lab(MsftInfo.model_validate(tier.lab_info()), PRINTER, **options))


def test_preflight_of_a_tenant_set_up_as_the_guide_says(tier: MicrosoftTier, pristine: Tenant) -> None:
    findings = run_preflight(tier, token=access_token(tier, PRINTER))
    assert set(findings) == {PUBLIC_CLIENT_FLOWS, SECURITY_DEFAULTS, TENANT_SMTP_AUTH,
                             MAILBOX_SMTP_AUTH.format(upn=PRINTER)}
    assert all(f.ok is True and not f.fix for f in findings.values()), findings
    assert findings[TENANT_SMTP_AUTH].evidence == "235 2.7.0 Authentication successful"


def test_preflight_names_smtp_auth_off_for_the_tenant(tier: MicrosoftTier, pristine: Tenant) -> None:
    pristine.smtp_auth_enabled = False
    findings = run_preflight(tier, token=access_token(tier, PRINTER))
    tenant = findings[TENANT_SMTP_AUTH]
    assert tenant.ok is False and tenant.evidence == TENANT_DISABLED
    assert "Set-TransportConfig -SmtpClientAuthenticationDisabled $false" in tenant.fix
    assert findings[MAILBOX_SMTP_AUTH.format(upn=PRINTER)].ok is None
    assert findings[SECURITY_DEFAULTS].ok is True
    assert "MISSING" in str(tenant) and "Fix: " in str(tenant)


def test_preflight_names_smtp_auth_off_for_the_mailbox(tier: MicrosoftTier, pristine: Tenant) -> None:
    pristine.user(PRINTER).smtp_auth_enabled = False  # type: ignore[union-attr]
    findings = run_preflight(tier, token=access_token(tier, PRINTER))
    mailbox_finding = findings[MAILBOX_SMTP_AUTH.format(upn=PRINTER)]
    assert mailbox_finding.ok is False and "disabled for the Mailbox" in mailbox_finding.evidence
    assert mailbox_finding.evidence.startswith("535 5.7.139 ")
    assert mailbox_finding.fix.endswith(f"Set-CASMailbox -Identity {PRINTER} -SmtpClientAuthenticationDisabled $false")
    assert findings[TENANT_SMTP_AUTH].ok is None


def test_preflight_names_security_defaults(tier: MicrosoftTier, pristine: Tenant) -> None:
    pristine.security_defaults = True
    findings = run_preflight(tier, token=access_token(tier, PRINTER))
    defaults = findings[SECURITY_DEFAULTS]
    assert defaults.ok is False and "security defaults" in defaults.evidence and "5.7.139" in defaults.evidence
    assert "turn off security defaults in entra id" in defaults.fix.lower()
    assert findings[TENANT_SMTP_AUTH].ok is None


def test_preflight_names_public_client_flows_off(tier: MicrosoftTier, pristine: Tenant) -> None:
    pristine.apps[0].allow_public_client_flows = False
    findings = run_preflight(tier, token=access_token(tier, PRINTER))
    public = findings[PUBLIC_CLIENT_FLOWS]
    assert public.ok is False and "AADSTS7000218" in public.evidence
    assert '"Allow public client flows: Yes"' in public.fix
    assert findings[TENANT_SMTP_AUTH].ok is True  # the supplied token still tries SMTP


def test_preflight_without_a_token_says_what_it_could_not_check(tier: MicrosoftTier) -> None:
    findings = run_preflight(tier)
    assert findings[PUBLIC_CLIENT_FLOWS].ok is True
    unchecked = [findings[k] for k in (SECURITY_DEFAULTS, TENANT_SMTP_AUTH, MAILBOX_SMTP_AUTH.format(upn=PRINTER))]
    assert all(f.ok is None and "no SMTP.Send token" in f.evidence for f in unchecked)
    assert str(unchecked[0]).startswith("NOT CHECKED")


def test_an_unreachable_smtp_server_is_infrastructure(tier: MicrosoftTier) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        endpoint = SmtpEndpoint(address=("127.0.0.1", closed.getsockname()[1]), ca_bundle=tier.ca_bundle)
        with pytest.raises(TenantUnreachable, match=r"smtp\.office365\.com:587"):
            preflight(lab_tenant(tier), PRINTER, smtp=endpoint, token=access_token(tier, PRINTER))


@pytest.mark.browser
def test_preflight_signs_in_through_the_device_flow(tier: MicrosoftTier, tier_browser: Browser,
                                                    pristine: Tenant) -> None:
    pristine.grant_consent(tier.client_id, [SMTP_SEND], ADMIN, on_behalf_of_org=True)
    pristine.smtp_auth_enabled = False
    findings = run_preflight(tier, sign_in=browser_sign_in(tier_browser, tier, PRINTER), sign_in_timeout=30)
    assert findings[CONSENT].ok is True and findings[CONDITIONAL_ACCESS].ok is True
    assert PRINTER in findings[CONSENT].evidence
    assert findings[TENANT_SMTP_AUTH].ok is False and findings[TENANT_SMTP_AUTH].evidence == TENANT_DISABLED


@pytest.mark.browser
def test_preflight_reports_missing_consent(tier: MicrosoftTier, tier_browser: Browser, pristine: Tenant) -> None:
    pristine.consent_grants = []
    findings = run_preflight(tier, sign_in=browser_sign_in(tier_browser, tier, PRINTER, expect="error"),
                             sign_in_timeout=30)
    consent = findings[CONSENT]
    assert consent.ok is False and "AADSTS65001" in consent.evidence and "Consent on behalf" in consent.fix
    assert findings[TENANT_SMTP_AUTH].ok is None


def test_typed_errors_keep_entras_words() -> None:
    from harness.msft.real.errors import identity_error

    error = identity_error({"error": "invalid_grant", "error_codes": [65001], "suberror": "consent_required",
                            "error_description": "AADSTS65001: The user or administrator has not consented. "
                                                 "Trace ID: x Correlation ID: y Timestamp: z"})
    assert isinstance(error, ConsentRequired) and error.suberror == "consent_required"
    assert error.description == "The user or administrator has not consented."
