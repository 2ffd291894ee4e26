"""Guide §6: Epson Print Admin Serverless "Scan to My Email" — the administrator's consent, then each user's own
sign-in on the panel, and mail from the user's own address."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

import pytest

from harness.device.panel import JobOutcome, Panel, PanelError, PanelSignIn
from harness.device.signin import MicrosoftSignInRefused, MsftPageFactory, complete_device_login
from harness.device.webconfig import SignInCode, WebConfig
from harness.device.webconfig.serverless import SenderChoice
from harness.lab.microsoft import Account, MicrosoftSide, wait_for_message
from harness.msft.signin_page import DeviceLoginOutcome

pytestmark = [pytest.mark.guide("§6"), pytest.mark.requires("oauth2_email", "serverless", "panel")]

USERS_SENDER: SenderChoice = "User's Email Address"


@dataclass(frozen=True)
class Registered:
    """The Serverless users a test registered: the printer administrator's user ID and each user's."""

    admin_id: str
    users: dict[str, Account]


def user_id_of(account: Account) -> str:
    return "hil-" + account.upn.partition("@")[0]


def statuses(wc: WebConfig) -> dict[str, str]:
    """Current Status of each registered user on Epson Print Admin Serverless > User Settings."""
    return {user.user_id: user.current_status for user in wc.serverless_users.users()}


@pytest.fixture
def serverless(signed_in: WebConfig, msft: MicrosoftSide) -> Iterator[Registered]:
    """Serverless on, "User's Email Address" as sender, the administrator (printer administrator) and the lab's
    users registered, none signed in; afterwards the users are deleted (which signs them out) and the settings
    put back, and both are checked."""
    if not msft.users:
        pytest.skip("the inventory names no ordinary users to sign in on the panel")
    settings, users = signed_in.serverless_settings, signed_in.serverless_users
    before = settings.read()
    accounts = {user_id_of(a): a for a in (msft.admin, *msft.users)}
    for leftover in {u.user_id for u in users.users()} & set(accounts):
        users.delete(leftover)  # the "hil-" IDs are this suite's own, left by an interrupted run
    listed = sorted(statuses(signed_in))
    added: list[str] = []
    try:
        settings.save(enabled=True, sender=USERS_SENDER)
        for user_id, account in accounts.items():
            users.add(user_id, f"HIL {user_id[4:]}", account.upn, printer_admin=account is msft.admin)
            added.append(user_id)
        assert all(statuses(signed_in)[u] == "Signed out" for u in added), statuses(signed_in)
        yield Registered(user_id_of(msft.admin), {u: a for u, a in accounts.items() if a is not msft.admin})
    finally:
        for user_id in added:
            users.delete(user_id)
        settings.save(enabled=before.enabled, sender=before.sender)  # type: ignore[arg-type]
        assert settings.read() == before, f"could not restore the Serverless settings (wanted {before})"
        assert sorted(statuses(signed_in)) == listed, "could not restore the registered users"


def sign_in_code(panel: Panel, user_id: str) -> SignInCode:
    """Scan to My Email as ``user_id``: the panel must show the sign-in screen; its URL and code."""
    asked = panel.scan_to_my_email(user_id)
    assert isinstance(asked, PanelSignIn), f"{user_id} was not sent to the sign-in screen: {asked}"
    assert asked.verification_uri == "https://microsoft.com/devicelogin", asked.verification_uri
    return SignInCode(asked.verification_uri, asked.user_code)


@contextlib.contextmanager
def leaving_the_sign_in_screen_on_failure(panel: Panel) -> Iterator[None]:
    """On a failure, leave the panel's sign-in screen (Cancel while it waits, OK on its failure message)."""
    try:
        yield
    except BaseException:
        for action in ("Cancel", "OK"):
            with contextlib.suppress(PanelError):
                panel.press(action)
        raise


def sign_in_on_panel(panel: Panel, pages: MsftPageFactory, user_id: str, account: Account, *,
                     consent_for_organization: bool) -> DeviceLoginOutcome:
    """§6 steps 2–5 for ``user_id``: the sign-in screen, Microsoft's pages as ``account``, then the panel's
    "Authentication was successful. Try the operation again from the Home Screen." and OK."""
    code = sign_in_code(panel, user_id)
    with leaving_the_sign_in_screen_on_failure(panel):
        outcome = complete_device_login(pages, code, account, consent_for_organization=consent_for_organization)
        if not outcome.signed_in:
            raise MicrosoftSignInRefused(outcome)
        panel.finish_sign_in()  # waits for the success message, then chooses OK
    return outcome


def scan_to_my_email(panel: Panel, msft: MicrosoftSide, user_id: str, account: Account) -> dict[str, object]:
    """Scan to My Email as a signed-in user: the job succeeds and the mail reaches the user's own mailbox."""
    msft.clear(account.upn)
    sent = panel.scan_to_my_email(user_id)
    assert isinstance(sent, JobOutcome) and sent.sent, sent
    return wait_for_message(msft, account.upn, lambda message: True)


def test_s6_administrator_then_each_user_signs_in_and_mail_comes_from_their_own_address(
        serverless: Registered, signed_in: WebConfig, panel: Panel, msft: MicrosoftSide,
        microsoft_pages: MsftPageFactory) -> None:
    """§6: "First the administrator signs in with the printer administrator's address, ticks Consent on behalf of
    your organization … On success the device says Authentication was successful. Try the operation again from
    the Home Screen. … After the administrator's sign-in, each registered user can send e-mail by signing in
    themselves" — with "User's email address" as sender, the mail comes from the user's own address."""
    sign_in_on_panel(panel, microsoft_pages, serverless.admin_id, msft.admin, consent_for_organization=True)
    assert statuses(signed_in)[serverless.admin_id] == "Signed in", "the administrator's sign-in was not saved"
    for user_id, account in serverless.users.items():
        sign_in_on_panel(panel, microsoft_pages, user_id, account, consent_for_organization=False)
        assert statuses(signed_in)[user_id] == "Signed in", f"{user_id}'s sign-in was not saved"
        message = scan_to_my_email(panel, msft, user_id, account)
        assert parseaddr(str(message["from"]))[1].casefold() == account.upn.casefold(), message["from"]
        attachments = message["attachments"]
        assert isinstance(attachments, list) and attachments, "the scan was not attached"


def test_s6_a_registered_user_who_has_not_signed_in_is_sent_to_the_sign_in_screen(
        serverless: Registered, signed_in: WebConfig, panel: Panel, msft: MicrosoftSide) -> None:
    """§6: "the first time a user chooses Scan to My Email they see the sign-in screen and use their
    company/organisation Microsoft account" — nothing is sent for them before that."""
    user_id, account = next(iter(serverless.users.items()))
    msft.clear(account.upn)
    with leaving_the_sign_in_screen_on_failure(panel):
        sign_in_code(panel, user_id)
        panel.press("Cancel")
    assert statuses(signed_in)[user_id] == "Signed out"
    assert not msft.messages(account.upn), "mail was sent for a user who has not signed in"


@pytest.mark.requires("tenant_control")
def test_s6_users_can_sign_in_only_after_the_administrator_consents_for_the_organization(
        serverless: Registered, signed_in: WebConfig, panel: Panel, msft: MicrosoftSide,
        microsoft_pages: MsftPageFactory) -> None:
    """§6: "First the administrator signs in … ticks Consent on behalf of your organization" — without that
    consent a user's own sign-in is refused and the panel says so; after it, the same user signs in."""
    assert msft.control is not None
    user_id, account = next(iter(serverless.users.items()))
    grants = msft.control.consent(msft.client_id)
    msft.control.revoke_consent(msft.client_id)
    try:
        code = sign_in_code(panel, user_id)
        with leaving_the_sign_in_screen_on_failure(panel):
            outcome = complete_device_login(microsoft_pages, code, account, consent_for_organization=False)
            assert not outcome.signed_in and "admin approval" in outcome.message, outcome
            with pytest.raises(PanelError, match="sign-in failed"):
                panel.finish_sign_in()
        assert statuses(signed_in)[user_id] == "Signed out"
        admin = sign_in_on_panel(panel, microsoft_pages, serverless.admin_id, msft.admin,
                                 consent_for_organization=True)
        assert "consent" in admin.steps, f"the administrator was not asked to consent: {admin.steps}"
        sign_in_on_panel(panel, microsoft_pages, user_id, account, consent_for_organization=False)
        assert statuses(signed_in)[user_id] == "Signed in"
    finally:
        msft.control.revoke_consent(msft.client_id)
        for grant in grants:
            msft.control.grant_consent(msft.client_id, grant["principal"], grant["scopes"])
        assert _grants(msft.control.consent(msft.client_id)) == _grants(grants), "consent was not restored"


def _grants(grants: list[dict[str, Any]]) -> list[tuple[str, tuple[str, ...]]]:
    return sorted((str(g["principal"]), tuple(sorted(map(str, g["scopes"])))) for g in grants)
