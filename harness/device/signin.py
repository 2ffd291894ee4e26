"""The guide's §3 OAuth2 sign-in as one call: Web Config's code and URL, Microsoft's pages, OK, persisted.

``sign_in_device`` drives the device's Email Server > Basic page (or the fax server's) on one browser page
and completes the device code flow's browser side, as the chosen account, on a page of a *second* browser
context (Microsoft's cookies never meet the device's). The Microsoft pages are the built-in tier's or the
real ones: :class:`~harness.msft.signin_page.MicrosoftDeviceLogin` reads them the same way.

The seam for Epson Print Admin Serverless (§6): a user's sign-in starts at the device's panel, which shows
the same kind of code and URL; the panel driver reads them into a :class:`SignInCode` and calls
:func:`complete_device_login` with the user's account — the Microsoft side is this module's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from playwright.sync_api import Browser, Page

from harness.device.errors import DeviceError, InfraError
from harness.device.statussheet import EmailServerStatus
from harness.device.webconfig.email_server import EmailServerPage, EmailServerSettingsView, EmailService, SignInCode
from harness.device.webconfig.network import NetworkStatusPage
from harness.msft.signin_page import DeviceLoginOutcome, MicrosoftDeviceLogin
from harness.reporting import evidence
from harness.reporting.browser_evidence import watched_context
from harness.reporting.redaction import register_secret
from harness.reporting.steps import step

__all__ = [
    "Account", "MicrosoftSignInRefused", "MsftPageFactory", "SignInNotPersisted", "SignInResult",
    "complete_device_login", "second_context", "sign_in_device",
]


class Account(Protocol):
    """Who signs in (``harness.lab.labfile.LabUser`` is one)."""

    @property
    def upn(self) -> str: ...

    @property
    def password(self) -> str: ...


#: Gives a fresh Microsoft-side page and closes it (and its context) on exit.
MsftPageFactory = Callable[[], AbstractContextManager[Page]]


class MicrosoftSignInRefused(InfraError):
    """Microsoft's pages refused or declined the sign-in (the tenant's set-up, not the device)."""

    def __init__(self, outcome: DeviceLoginOutcome) -> None:
        self.outcome = outcome
        super().__init__(f"the Microsoft sign-in ended {outcome.status}: {outcome.message or '(no message)'} "
                         f"(pages: {', '.join(outcome.steps) or 'none'})")


class SignInNotPersisted(DeviceError):
    """The device showed Signed in, but after OK and a reload its saved state says otherwise."""


@dataclass(frozen=True)
class SignInResult:
    """A completed, saved sign-in: who, which service, how long it took, and what the device shows now."""

    service: str
    account: str
    verification_uri: str
    #: From clicking Sign In to the device's "Setup complete." after OK.
    seconds: float
    #: The Microsoft pages walked through, e.g. ("code", "username", "password", "consent").
    steps: tuple[str, ...]
    #: Email Server > Basic after a reload.
    settings: EmailServerSettingsView
    #: The saved state on Network Status (the same rows as the status sheet).
    saved: EmailServerStatus | None


@contextmanager
def second_context(browser: Browser, **options: Any) -> Iterator[Page]:
    """A page in a new browser context of ``browser`` (closed on exit): use as ``lambda: second_context(b)``.

    The context is traced, so a sign-in that breaks leaves its screenshot and trace as the test's evidence.
    """
    with watched_context(browser, "Microsoft sign-in", **options) as context:
        yield context.new_page()


def complete_device_login(msft_page_factory: MsftPageFactory, code: SignInCode, account: Account, *,
                          consent_for_organization: bool = True, accept: bool = True) -> DeviceLoginOutcome:
    """Enter ``code`` at its URL and sign in as ``account`` on a fresh Microsoft-side page."""
    register_secret(code.user_code, account.password)  # also when the tier runs in another process
    with msft_page_factory() as page:
        return MicrosoftDeviceLogin(page).complete(code.verification_uri, code.user_code, account.upn,
                                                   account.password, consent_for_organization=consent_for_organization,
                                                   accept=accept)


@step("{device}: sign in to {service} with OAuth2 as {account.upn}, click OK and check it is saved")
def sign_in_device(webconfig_page: EmailServerPage, msft_page_factory: MsftPageFactory, account: Account, *,
                   service: EmailService = "Microsoft Exchange Online", consent_for_organization: bool = True,
                   sender: str | None = None) -> SignInResult:
    """The guide's §3 steps 3–12 on a logged-in Web Config page, then the checks that the sign-in was saved.

    Raises :class:`MicrosoftSignInRefused` when Microsoft's pages refuse, ``WebConfigRefused`` quoting the
    device when it refuses or reports the sign-in failed, :class:`SignInNotPersisted` when OK did not save it.
    """
    basic = webconfig_page.open()
    started = time.monotonic()
    screen = basic.start_sign_in(service)
    code = screen.start()
    outcome = complete_device_login(msft_page_factory, code, account,
                                    consent_for_organization=consent_for_organization)
    if not outcome.signed_in:
        raise MicrosoftSignInRefused(outcome)
    screen.wait_until_signed_in()
    basic = screen.back()
    if sender is not None:
        basic.set_fields(sender=sender)
    basic.ok()
    seconds = time.monotonic() - started
    evidence.measure("sign-in time", seconds, "s")

    settings = basic.read()
    problems = []
    if not settings.signed_in:
        problems.append(f"Current Status is {settings.current_status!r}")
    if (settings.signed_in_account or "").casefold() != account.upn.casefold():
        problems.append(f"the account shown is {settings.signed_in_account!r}, not {account.upn!r}")
    if settings.signin_not_saved:
        problems.append("the page still says the sign-in is not saved")
    network = basic.sibling(NetworkStatusPage).read()
    saved = network.fax if basic.saved_status == "fax" else network.email
    if saved is None or not saved.signed_in:
        problems.append(f"Network Status shows {saved.current_status if saved else 'no e-mail server status'!r}")
    if problems:
        raise SignInNotPersisted(f"{basic.title}: after OK and a reload, " + "; ".join(problems))
    return SignInResult(service=service, account=settings.signed_in_account or "",
                        verification_uri=code.verification_uri, seconds=seconds, steps=outcome.steps,
                        settings=settings, saved=saved)
