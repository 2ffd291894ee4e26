"""The virtual device's engine against the real tier: device-code sign-in, sending, error codes, expiry.

Devices reach the tier only through their resolver and trust it only after its CA is imported. Sign-ins that
are under test are completed by Chromium on the tier's pages; tests about sending start from a sign-in the
tier's token service issues. Every tenant switch, consent and revocation a test changes is restored.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from dataclasses import replace

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser
from sim_engine_support import (
    ADMIN,
    ALICE,
    BOB,
    EXCHANGE,
    PRINTER,
    make_device,
    oauth2_settings,
    seeded_signin,
    wait_until,
)

from harness.msft.signin_page import MicrosoftDeviceLogin
from harness.msft.tenant import SMTP_SEND, ConditionalAccessPolicy, Tenant
from harness.msft.tier import MicrosoftTier
from harness.pki import LabCA
from harness.sim.device import (
    NOT_SIGNED_IN_MESSAGE,
    SERVERLESS_SUCCESS_MESSAGE,
    PendingSignIn,
    VirtualDevice,
    user_slot,
)
from harness.sim.engine import (
    ABOUT_TO_EXPIRE_AFTER,
    NOT_SAVED_ON_OK_DEFECT,
    SAVED_WITHOUT_OK_DEFECT,
    SCAN_TO_EMAIL,
    DeviceEngine,
    expiry_message,
)
from harness.sim.jobhistory import Job
from harness.sim.mailer import (
    IGNORE_VALIDATION_DEFECT,
    NO_REFRESH_DEFECT,
    NO_ROTATION_DEFECT,
    SKIP_STARTTLS_DEFECT,
    WRONG_EXPIRY_CODE_DEFECT,
    xoauth2_blob,
)
from harness.sim.settings import ServerlessSettings, ServerlessUser
from harness.sim.status import DeviceState

DAY = 86400
PASSWORDS = {ADMIN: "Lab-Admin-Pa55!", PRINTER: "Printer-Mailbox-Pa55!", ALICE: "Alice-User-Pa55!"}
TENANT_DISABLED = ("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. "
                   "Visit https://aka.ms/smtp_auth_disabled for more information.")


# --- fixtures -------------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def tenant(tier: MicrosoftTier) -> Iterator[Tenant]:
    """The session tenant with organisation consent for the devices' app; switches and revocations restored."""
    with tier.state.restoring() as live:
        live.grant_consent(tier.client_id, [SMTP_SEND], ADMIN, on_behalf_of_org=True)
        yield live


@pytest.fixture
def device(tier: MicrosoftTier) -> VirtualDevice:
    return make_device(tier)


@pytest.fixture
def engine(device: VirtualDevice) -> Iterator[DeviceEngine]:
    running = DeviceEngine(device)
    yield running
    running.close()


@pytest.fixture
def signed_in(device: VirtualDevice, tier: MicrosoftTier) -> VirtualDevice:
    """The device with printer@'s sign-in stored in the e-mail slot (and the fax slot)."""
    device.save_signin("email", seeded_signin(tier))
    device.save_signin("fax", seeded_signin(tier))
    return device


@pytest.fixture
def sign_in_with_browser(tier_browser: Browser) -> Iterator[object]:
    """Completes a device's pending sign-in on the tier's pages as a person would."""
    contexts = []

    def complete(pending: PendingSignIn, upn: str, *, accept: bool = True, org_consent: bool = True) -> object:
        context = tier_browser.new_context()
        contexts.append(context)
        login = MicrosoftDeviceLogin(context.new_page())
        return login.complete(pending.verification_uri, pending.user_code, upn, PASSWORDS[upn],
                              consent_for_organization=org_consent, accept=accept)

    yield complete
    for context in contexts:
        context.close()


def finished(pending: PendingSignIn) -> PendingSignIn:
    """Wait (bounded) until the device's poller has an answer for ``pending``."""
    return wait_until(lambda: pending if pending.state != "polling" else None, what="the device's poll")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mail_for(tier: MicrosoftTier, address: str, subject: str | None = None) -> list:
    return [m for m in tier.state.mail.messages(address) if subject is None or m.subject == subject]


# --- sign-in --------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_signin_completed_in_browser_is_saved_only_after_ok(engine: DeviceEngine, device: VirtualDevice,
                                                            tenant: Tenant, tier: MicrosoftTier,
                                                            sign_in_with_browser) -> None:
    tenant.consent_grants = []  # the administrator consents for the organisation, as the guide's step 11
    pending = engine.start_signin("email", EXCHANGE)
    assert pending.state == "polling"
    assert pending.verification_uri == "https://microsoft.com/devicelogin"
    assert pending.user_code and pending.user_code in pending.message
    assert "https://microsoft.com/devicelogin" in pending.message

    outcome = sign_in_with_browser(pending, ADMIN)
    assert outcome.signed_in, outcome
    finished(pending)
    assert pending.state == "signed_in"
    assert pending.result is not None and pending.result.account == ADMIN
    assert device.signin("email") is None, "the sign-in must not be saved before OK"

    stored = engine.confirm_signin("email")
    assert stored is not None and stored.account == ADMIN and stored.client_id == tier.client_id
    assert device.signin("email") == stored
    assert "email" not in device.pending
    assert tenant.has_consent(tier.client_id, BOB, [SMTP_SEND]), "organisation consent was given"
    assert engine.confirm_signin("email") is None, "OK again has nothing new to save"


@pytest.mark.browser
def test_new_signin_replaces_the_stored_one_only_on_ok(engine: DeviceEngine, signed_in: VirtualDevice,
                                                       sign_in_with_browser) -> None:
    before = signed_in.signin("email")
    pending = engine.start_signin("email", EXCHANGE)
    assert sign_in_with_browser(pending, ADMIN).signed_in
    finished(pending)
    assert signed_in.signin("email") == before
    assert engine.confirm_signin("email").account == ADMIN
    assert signed_in.signin("email").account == ADMIN


@pytest.mark.browser
def test_declined_signin_fails_with_the_reason(engine: DeviceEngine, device: VirtualDevice, tenant: Tenant,
                                               sign_in_with_browser) -> None:
    tenant.consent_grants = []  # so that the permissions page asks, and the administrator cancels
    pending = engine.start_signin("email", EXCHANGE)
    assert sign_in_with_browser(pending, ADMIN, accept=False).status == "declined"
    finished(pending)
    assert (pending.state, pending.error_code) == ("failed", 70000)
    assert "declined" in pending.error
    assert engine.confirm_signin("email") is None and device.signin("email") is None


@pytest.mark.browser
def test_conditional_access_blocks_the_signin(engine: DeviceEngine, tenant: Tenant, sign_in_with_browser) -> None:
    tenant.conditional_access = [ConditionalAccessPolicy(name="Block device code", users=[ADMIN],
                                                         applies_to="device_code")]
    pending = engine.start_signin("email", EXCHANGE)
    assert sign_in_with_browser(pending, ADMIN).status == "error"
    finished(pending)
    assert (pending.state, pending.error_code) == ("failed", 53003)
    assert "conditional access" in pending.error


def test_signin_expires_on_the_lab_clock(engine: DeviceEngine, tier: MicrosoftTier) -> None:
    pending = engine.start_signin("email", EXCHANGE)
    tier.state.clock.advance(16 * 60)
    finished(pending)
    assert (pending.state, pending.error_code) == ("failed", 70020)
    assert "expired" in pending.error


def test_slow_down_adds_five_seconds_to_the_interval(engine: DeviceEngine, device: VirtualDevice,
                                                     tenant: Tenant) -> None:
    tenant.tokens.device_code_interval = 2
    pending = engine.start_signin("email", EXCHANGE)
    assert pending.interval == 2
    with device.lock:
        pending.interval = 1  # poll faster than told: the identity provider answers slow_down
    wait_until(lambda: pending.interval == 6, what="slow_down to be honoured")
    assert pending.state == "polling"


def test_unreachable_identity_provider_fails_the_signin_with_360(tier: MicrosoftTier) -> None:
    device = make_device(tier, import_ca=False)
    engine = DeviceEngine(device)
    pending = engine.start_signin("email", EXCHANGE)
    assert (pending.state, pending.error_code) == ("failed", 360)
    assert "certificate not trusted" in pending.error
    device.resolver.remove("login.microsoftonline.com", 443)
    assert "cannot resolve" in engine.start_signin("email", EXCHANGE).error


def test_power_cycle_loses_the_signin_in_progress_but_keeps_the_saved_one(engine: DeviceEngine,
                                                                          signed_in: VirtualDevice) -> None:
    saved = signed_in.signin("email")
    engine.start_signin("email", EXCHANGE)
    signed_in.power_cycle()
    assert engine.confirm_signin("email") is None
    assert signed_in.signin("email") == saved


def test_outlook_com_signs_in_under_consumers(engine: DeviceEngine, tier: MicrosoftTier) -> None:
    assert engine.tenant_for("Outlook.com") == "consumers"
    assert engine.start_signin("email", "Outlook.com").state == "polling"
    pinned = DeviceEngine(engine.device, tenant_hint=tier.state.tenant.tenant_id)
    try:
        assert pinned.tenant_for("Outlook.com") == tier.state.tenant.tenant_id
        assert pinned.start_signin("email", "Outlook.com").state == "polling"
    finally:
        pinned.close()


# --- sending --------------------------------------------------------------------------------------------
def test_scan_to_email_arrives_with_the_pdf_from_the_sender(engine: DeviceEngine, signed_in: VirtualDevice,
                                                            tier: MicrosoftTier) -> None:
    tier.state.mail.clear(ALICE)
    job = engine.scan_to_email(ALICE, pages=2)
    assert job.error_code is None, job.detail
    assert (job.type, job.result, job.pages, job.sender, job.recipient) == (SCAN_TO_EMAIL, "Succeeded", 2,
                                                                            PRINTER, ALICE)
    assert job.file_name.startswith("img") and job.file_name.endswith(".pdf")
    [message] = mail_for(tier, ALICE)
    assert message.from_ == PRINTER and message.authenticated_as == PRINTER and message.to == (ALICE,)
    [attachment] = message.attachments
    assert (attachment.filename, attachment.content_type) == (job.file_name, "application/pdf")
    assert signed_in.jobs.last() == job
    assert signed_in.signin("email").last_used_at == tier.state.clock.now()


def test_access_token_is_refreshed_when_stale_and_refresh_token_rotated(engine: DeviceEngine,
                                                                        signed_in: VirtualDevice,
                                                                        tier: MicrosoftTier) -> None:
    before = signed_in.signin("email")
    assert engine.notify(ALICE, "toner low").error_code is None
    assert signed_in.signin("email").access_token == before.access_token, "a fresh token is not refreshed"
    tier.state.clock.advance(2 * 3600)
    job = engine.notify(ALICE, "paper low")
    assert job.error_code is None, job.detail
    after = signed_in.signin("email")
    assert after.access_token != before.access_token
    assert after.refresh_token != before.refresh_token
    assert after.access_expires_at > tier.state.clock.now() + 300
    assert after.signed_in_at == before.signed_in_at and after.account == PRINTER


def test_refresh_within_five_minutes_of_expiry(engine: DeviceEngine, signed_in: VirtualDevice,
                                               tier: MicrosoftTier) -> None:
    before = signed_in.signin("email")
    tier.state.clock.advance(before.access_expires_at - tier.state.clock.now() - 120)
    assert engine.notify(ALICE, "soon stale").error_code is None
    assert signed_in.signin("email").access_token != before.access_token


def test_after_91_idle_days_the_signin_has_expired_361(engine: DeviceEngine, signed_in: VirtualDevice,
                                                       tier: MicrosoftTier) -> None:
    tier.state.clock.advance(91 * DAY)
    job = engine.scan_to_email(ALICE)
    assert (job.error_code, job.result) == (361, "Error code 361")
    assert "AADSTS700082" in job.detail
    assert NOT_SIGNED_IN_MESSAGE in signed_in.panel_messages


def test_revoked_signin_must_sign_in_again_370(engine: DeviceEngine, signed_in: VirtualDevice,
                                               tier: MicrosoftTier) -> None:
    tier.state.clock.advance(1)
    tier.state.tokens.revoke_user(PRINTER)
    assert engine.scan_to_email(ALICE).error_code is None, "an access token is not revocable"
    tier.state.clock.advance(2 * 3600)
    job = engine.scan_to_email(ALICE)
    assert job.error_code == 370 and "AADSTS50173" in job.detail


def test_withdrawn_consent_must_sign_in_again_370(engine: DeviceEngine, signed_in: VirtualDevice,
                                                  tenant: Tenant, tier: MicrosoftTier) -> None:
    tenant.consent_grants = []
    tier.state.clock.advance(2 * 3600)
    job = engine.scan_to_email(ALICE)
    assert job.error_code == 370 and "AADSTS65001" in job.detail


def test_not_signed_in_is_370_with_the_guides_panel_message(engine: DeviceEngine, device: VirtualDevice,
                                                            tier: MicrosoftTier) -> None:
    sessions = len(tier.smtp.transcripts())
    job = engine.scan_to_email(ALICE)
    assert (job.error_code, job.recipient) == (370, ALICE)
    assert device.panel_messages == [NOT_SIGNED_IN_MESSAGE]
    assert len(tier.smtp.transcripts()) == sessions, "no SMTP session without a sign-in"
    device.save_signin("email", seeded_signin(tier))
    assert engine.scan_to_email(ALICE).error_code is None
    assert NOT_SIGNED_IN_MESSAGE not in device.panel_messages


@pytest.mark.parametrize("case", ["unresolvable", "closed port", "untrusted certificate"])
def test_unreachable_email_service_is_360(case: str, tier: MicrosoftTier) -> None:
    device = make_device(tier, import_ca=case != "untrusted certificate")
    device.save_signin("email", seeded_signin(tier))
    if case == "unresolvable":
        device.update(email=oauth2_settings(smtp_server="smtp.nowhere.example"))
    elif case == "closed port":
        device.resolver.set("smtp.office365.com", 587, ("127.0.0.1", closed_port()))
    engine = DeviceEngine(device)
    job = engine.scan_to_email(ALICE)
    assert job.error_code == 360, job.detail
    expected = {"unresolvable": "Cannot resolve", "closed port": "connection refused",
                "untrusted certificate": "not trusted"}[case]
    assert expected in job.detail
    assert NOT_SIGNED_IN_MESSAGE not in device.panel_messages


def test_unreachable_identity_provider_when_refreshing_is_360(engine: DeviceEngine, signed_in: VirtualDevice,
                                                              tier: MicrosoftTier) -> None:
    signed_in.resolver.set("login.microsoftonline.com", 443, ("127.0.0.1", closed_port()))
    assert engine.scan_to_email(ALICE).error_code is None, "a fresh access token needs no identity provider"
    tier.state.clock.advance(2 * 3600)
    job = engine.scan_to_email(ALICE)
    assert job.error_code == 360 and "Cannot connect to the sign-in service" in job.detail


def test_failed_job_puts_the_device_in_warning_with_an_alert(device: VirtualDevice, tier: MicrosoftTier) -> None:
    engine = DeviceEngine(device)
    status = device.status
    engine.scan_to_email(ALICE)
    snapshot = status.snapshot()
    assert snapshot.state is DeviceState.WARNING
    assert snapshot.alerts[-1].description == "Error code 370: You need to sign in to the cloud service again."
    status.raise_alert("Paper jam in tray 1")  # not the mail engine's: a later send must leave it
    device.save_signin("email", seeded_signin(tier))
    assert engine.scan_to_email(ALICE).error_code is None
    after = status.snapshot()
    assert after.state is DeviceState.IDLE
    assert [a.description for a in after.alerts] == ["Paper jam in tray 1"], "the mail alert is cleared"


def test_smtp_auth_disabled_for_the_tenant_is_312_with_exchanges_reply(engine: DeviceEngine,
                                                                       signed_in: VirtualDevice,
                                                                       tenant: Tenant) -> None:
    tenant.smtp_auth_enabled = False
    job = engine.scan_to_email(ALICE)
    assert job.error_code == 312
    assert job.detail == TENANT_DISABLED


def test_sender_other_than_the_account_is_refused_313(engine: DeviceEngine, signed_in: VirtualDevice) -> None:
    signed_in.update(email=oauth2_settings(sender=ALICE))
    job = engine.scan_to_email(BOB)
    assert job.error_code == 313 and "SendAsDenied" in job.detail


def test_validation_off_sends_despite_an_untrusted_server(tier: MicrosoftTier) -> None:
    device = make_device(tier, import_ca=False)
    device.save_signin("email", seeded_signin(tier))
    device.update(email=oauth2_settings(cert_validation=False))
    engine = DeviceEngine(device)
    assert not engine.certificate_warning("email")
    job = engine.scan_to_email(ALICE)
    assert job.error_code is None, job.detail


@pytest.mark.parametrize("method, reply", [("SMTP AUTH", "535 5.7.139"), ("Off", "530 5.7.57")])
def test_basic_and_no_authentication_are_refused_312(method: str, reply: str, tier: MicrosoftTier) -> None:
    device = make_device(tier)
    device.update(email=oauth2_settings(auth_method=method, account=PRINTER, password="Printer-Mailbox-Pa55!"))
    job = DeviceEngine(device).scan_to_email(ALICE)
    assert job.error_code == 312 and job.detail.startswith(reply), job.detail


def test_fax_goes_through_the_fax_server_settings(engine: DeviceEngine, signed_in: VirtualDevice,
                                                  tier: MicrosoftTier) -> None:
    signed_in.sign_out("email")
    job = engine.fax_via_server(BOB)
    assert job.error_code is None, job.detail
    assert mail_for(tier, BOB, "Fax")[-1].attachments[0].content_type == "application/pdf"


def test_secrets_never_reach_logs_or_jobs(engine: DeviceEngine, signed_in: VirtualDevice, tier: MicrosoftTier,
                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    tier.state.clock.advance(2 * 3600)
    old = signed_in.signin("email")
    jobs = [engine.scan_to_email(ALICE)]
    tier.state.clock.advance(91 * DAY)
    jobs.append(engine.scan_to_email(ALICE))
    new = signed_in.signin("email")
    secrets = {old.access_token, old.refresh_token, new.access_token, new.refresh_token,
               xoauth2_blob(new.account, new.access_token)}
    text = caplog.text + repr(jobs) + repr(new) + repr(signed_in.pending)
    assert [j.error_code for j in jobs] == [None, 361]
    assert not [s for s in secrets if s in text]


# --- connection test and certificate warning ------------------------------------------------------------
class _PlainSmtp:
    """A loopback SMTP server that offers no STARTTLS (a misconfigured relay)."""

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        return "250 OK"


def test_connection_test_messages(engine: DeviceEngine, device: VirtualDevice, tier: MicrosoftTier,
                                  tenant: Tenant) -> None:
    assert engine.connection_test().message.endswith("Not signed in to the email service. Sign in on "
                                                     "Network > Email Server > Basic.")
    device.save_signin("email", seeded_signin(tier))
    mailboxes = tier.state.mail.addresses()
    result = engine.connection_test()
    assert (result.ok, result.message) == (True, "Connection test was successful.")
    assert tier.state.mail.addresses() == mailboxes, "a connection test sends nothing"

    tenant.smtp_auth_enabled = False
    result = engine.connection_test()
    assert (result.ok, result.error_code) == (False, 312) and TENANT_DISABLED in result.message
    tenant.smtp_auth_enabled = True

    plain = Controller(_PlainSmtp(), hostname="127.0.0.1", port=closed_port())
    plain.start()
    try:
        device.resolver.set("smtp.office365.com", 587, ("127.0.0.1", plain.port))
        assert "does not offer STARTTLS" in engine.connection_test().message
    finally:
        plain.stop()
    device.resolver.set("smtp.office365.com", 587, ("127.0.0.1", closed_port()))
    assert "connection refused" in engine.connection_test().message
    device.update(email=oauth2_settings(smtp_server="smtp.nowhere.example"))
    assert "Cannot resolve the SMTP Server Address smtp.nowhere.example" in engine.connection_test().message
    assert device.jobs.jobs() == [], "a connection test is not a job"


def test_certificate_warning_follows_the_ca_store(engine: DeviceEngine, signed_in: VirtualDevice,
                                                  tier: MicrosoftTier) -> None:
    assert not engine.certificate_warning(), "the lab CA validates the tier"
    [lab_ca] = signed_in.ca.certificates()
    signed_in.ca.remove(lab_ca.fingerprint)
    assert engine.certificate_warning(), "no CA at all"
    signed_in.ca.add(LabCA.create("Some Other CA").cert_pem)
    assert engine.certificate_warning(), "a CA that does not validate the server"
    result = engine.connection_test()
    assert result.error_code == 360 and "is not trusted" in result.message
    signed_in.update(email=oauth2_settings(secure="None"))
    assert not engine.certificate_warning()


# --- Serverless Scan to My Email ------------------------------------------------------------------------
@pytest.mark.browser
def test_serverless_user_signs_in_once_then_scans_from_their_own_address(
        engine: DeviceEngine, device: VirtualDevice, tenant: Tenant, tier: MicrosoftTier,
        sign_in_with_browser) -> None:
    tenant.consent_grants = []
    device.update(email=oauth2_settings(sender=ADMIN), serverless=ServerlessSettings(
        sender_mode="user", users=(ServerlessUser("1001", "Alice", ALICE),)))
    admin = engine.start_signin("email", EXCHANGE)
    assert sign_in_with_browser(admin, ADMIN, org_consent=True).signed_in
    finished(admin)
    engine.confirm_signin("email")

    screen = engine.scan_to_my_email("1001")
    assert isinstance(screen, PendingSignIn) and screen.slot == user_slot("1001")
    assert engine.scan_to_my_email("1001") is screen, "the panel keeps showing the same sign-in"
    assert sign_in_with_browser(screen, ALICE).signed_in, "no consent page: the organisation consented"
    finished(screen)
    assert SERVERLESS_SUCCESS_MESSAGE in device.panel_messages
    assert engine.confirm_signin(user_slot("1001")).account == ALICE
    assert SERVERLESS_SUCCESS_MESSAGE not in device.panel_messages

    tier.state.mail.clear(ALICE)
    job = engine.scan_to_my_email("1001")
    assert isinstance(job, Job) and job.error_code is None, job
    assert (job.sender, job.recipient) == (ALICE, ALICE)
    [message] = mail_for(tier, ALICE)
    assert message.authenticated_as == ALICE and message.from_ == ALICE


def test_serverless_device_sender_uses_the_devices_signin(engine: DeviceEngine, signed_in: VirtualDevice,
                                                          tier: MicrosoftTier) -> None:
    signed_in.update(serverless=ServerlessSettings(sender_mode="device", users=(ServerlessUser("7", "Bob", BOB),)))
    tier.state.mail.clear(BOB)
    job = engine.scan_to_my_email("7")
    assert isinstance(job, Job) and job.error_code is None and (job.sender, job.recipient) == (PRINTER, BOB)
    assert mail_for(tier, BOB)[0].authenticated_as == PRINTER


# --- about to expire ------------------------------------------------------------------------------------
def test_expiry_notice_after_60_unused_days_and_gone_once_used(engine: DeviceEngine, signed_in: VirtualDevice,
                                                               tier: MicrosoftTier) -> None:
    assert engine.expiry_notice() is None
    tier.state.clock.advance(ABOUT_TO_EXPIRE_AFTER - 3600)
    assert engine.check_expiry() == []
    tier.state.clock.advance(2 * 3600)
    notice = engine.expiry_notice()
    assert notice == expiry_message("email") and "about to expire" in notice
    assert notice in signed_in.panel_messages
    assert expiry_message("fax") in engine.check_expiry()
    assert engine.scan_to_email(ALICE).error_code is None, "still within the 90 days: refreshed"
    assert engine.expiry_notice() is None and notice not in signed_in.panel_messages


def test_no_expiry_notice_without_oauth2(engine: DeviceEngine, signed_in: VirtualDevice,
                                         tier: MicrosoftTier) -> None:
    signed_in.update(email=replace(signed_in.config.email, auth_method="SMTP AUTH", account=PRINTER))
    tier.state.clock.advance(ABOUT_TO_EXPIRE_AFTER + DAY)
    assert engine.expiry_notice("email") is None


# --- firmware defects the engine can show ---------------------------------------------------------------
def defective(tier: MicrosoftTier, defect: str, *, import_ca: bool = True) -> DeviceEngine:
    device = make_device(tier, defects=frozenset({defect}), import_ca=import_ca)
    device.save_signin("email", seeded_signin(tier))
    return DeviceEngine(device)


@pytest.mark.browser
@pytest.mark.parametrize("defect", [NOT_SAVED_ON_OK_DEFECT, SAVED_WITHOUT_OK_DEFECT])
def test_signin_saving_defects(defect: str, tier: MicrosoftTier, sign_in_with_browser) -> None:
    device = make_device(tier, defects=frozenset({defect}))
    engine = DeviceEngine(device)
    try:
        pending = engine.start_signin("email", EXCHANGE)
        assert sign_in_with_browser(pending, ADMIN).signed_in
        finished(pending)
        if defect == SAVED_WITHOUT_OK_DEFECT:
            assert device.signin("email") is not None, "saved although nobody clicked OK"
        else:
            assert engine.confirm_signin("email") is not None, "OK seems to work"
            assert device.signin("email") is None
            assert engine.scan_to_email(ALICE).error_code == 370
    finally:
        engine.close()


def test_never_refreshing_the_access_token_fails_once_it_is_stale(tier: MicrosoftTier) -> None:
    engine = defective(tier, NO_REFRESH_DEFECT)
    tier.state.clock.advance(2 * 3600)
    job = engine.scan_to_email(ALICE)
    assert job.error_code == 312 and job.detail == "535 5.7.3 Authentication unsuccessful"


def test_unrotated_refresh_token_is_kept(tier: MicrosoftTier) -> None:
    engine = defective(tier, NO_ROTATION_DEFECT)
    before = engine.device.signin("email")
    tier.state.clock.advance(2 * 3600)
    assert engine.scan_to_email(ALICE).error_code is None
    after = engine.device.signin("email")
    assert after.access_token != before.access_token and after.refresh_token == before.refresh_token


def test_ignored_certificate_validation_sends_to_an_untrusted_server(tier: MicrosoftTier) -> None:
    engine = defective(tier, IGNORE_VALIDATION_DEFECT, import_ca=False)
    assert engine.device.config.email.cert_validation
    assert engine.scan_to_email(ALICE).error_code is None


def test_skipped_starttls_offers_no_auth(tier: MicrosoftTier) -> None:
    job = defective(tier, SKIP_STARTTLS_DEFECT).scan_to_email(ALICE)
    assert job.error_code == 312 and job.detail.startswith("504 5.7.4"), job.detail


def test_expired_signin_reported_with_the_wrong_code(tier: MicrosoftTier) -> None:
    engine = defective(tier, WRONG_EXPIRY_CODE_DEFECT)
    tier.state.clock.advance(91 * DAY)
    job = engine.scan_to_email(ALICE)
    assert job.error_code == 370 and "AADSTS700082" in job.detail
