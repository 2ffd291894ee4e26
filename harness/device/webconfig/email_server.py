"""Network > Email Server: Basic (every field, OK, Sign Out), the Sign In screen (code and URL, Current Status),
Connection Test.

Choosing OAuth2 or an e-mail service runs the page's own scripts (they fill in and lock the server, port and
secure connection), as a person's clicks would. With OAuth2, OK is what saves a completed sign-in on the
device (the guide's §3 step 12), and Sign Out removes a saved one. The verification code is read for the
sign-in and never logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from harness.device.htmltree import parse_html
from harness.device.infopage import parse_info_page
from harness.device.webconfig.base import WebConfigPage
from harness.device.webconfig.errors import WebConfigPageError, WebConfigRefused
from harness.device.webconfig.reading import PageReading
from harness.reporting.steps import step

__all__ = [
    "AuthMethod", "ConnectionTestPage", "ConnectionTestResult", "EmailServerPage", "EmailServerSettingsView",
    "EmailService", "SecureConnection", "SignInCode", "SignInScreen", "SignInScreenView",
]

AuthMethod = Literal["Off", "SMTP AUTH", "POP before SMTP", "OAuth2"]
EmailService = Literal["Microsoft Exchange Online", "Outlook.com"]
SecureConnection = Literal["None", "SSL/TLS", "STARTTLS"]
#: How the device's sign-in message names the page and the code (Microsoft's wording).
_MESSAGE_URI = re.compile(r"https?://[^\s\"'<>]+[^\s\"'<>.,;)]")
_MESSAGE_CODE = re.compile(r"\bcode\s+([A-Z0-9][A-Z0-9-]{3,})\b")
_ERROR_CODE = re.compile(r"\b(?:error code|code)[:\s]+(\d{3})\b", re.I)
SIGN_IN_TIMEOUT_MS = 120_000


@dataclass(frozen=True)
class EmailServerSettingsView:
    """Everything Email Server > Basic shows. Rows the page hides (OAuth2-only rows) read as None."""

    auth_method: str
    email_service: str | None
    current_status: str | None
    #: The account signed in with OAuth2 (shown once signed in).
    signed_in_account: str | None
    #: The Authenticated Account field (SMTP AUTH).
    account: str
    sender: str
    smtp_server: str
    smtp_port: int | None
    secure: str
    cert_validation: bool | None
    pop3_server: str
    pop3_port: int | None
    #: The guide's §7 warning that a CA certificate is needed is shown.
    certificate_warning: bool
    #: The reminder that OK still has to save a completed sign-in is shown.
    signin_not_saved: bool
    #: The sign-in error the page shows, if any.
    signin_error: str | None
    #: The Sign Out button is shown (the device has a saved sign-in for the chosen service).
    sign_out_shown: bool
    #: The result box's lines (``Setup complete.`` or the reasons values were refused).
    messages: tuple[str, ...] = ()

    @property
    def signed_in(self) -> bool:
        return self.current_status == "Signed in"


@dataclass(frozen=True)
class SignInCode:
    """What the Sign In screen shows after "Sign in with Microsoft": the URL and the code to type there."""

    verification_uri: str
    user_code: str = field(repr=False)
    message: str = field(repr=False, default="")


@dataclass(frozen=True)
class SignInScreenView:
    service: str
    current_status: str
    account: str | None
    notice: str
    code: SignInCode | None
    error: str | None
    messages: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConnectionTestResult:
    ok: bool
    message: str
    error_code: int | None = None


class EmailServerPage(WebConfigPage):
    """Network > Email Server > Basic."""

    page_key = "email_basic"
    #: What :meth:`read` reads, in one browser round trip.
    READ: ClassVar[tuple[str, ...]] = (
        "auth_method", "email_service", "current_status", "signed_in_account", "account", "sender", "smtp_server",
        "smtp_port", "secure", "cert_validation", "pop3_server", "pop3_port", "certificate_warning",
        "signin_not_saved", "signin_error", "sign_out", "result")
    #: Which Network Status pane shows this page's saved settings.
    saved_status: ClassVar[str] = "email"
    signin_screen: ClassVar[type[SignInScreen]]
    connection_test: ClassVar[type[ConnectionTestPage]]

    @step("{device}: read {self.title}")
    def read(self, *, reload: bool = True) -> EmailServerSettingsView:
        """Every field as the page shows it; ``reload`` False reads the page as it stands (after OK)."""
        if reload:
            self.open()
        page = self.reading(*self.READ)
        if not page.shown("auth_method"):
            self.wait_shown("auth_method", what="Authentication Method")
            page = self.reading(*self.READ)
        oauth2 = page.shown("current_status")
        return EmailServerSettingsView(
            auth_method=page.selected("auth_method"),
            email_service=page.selected("email_service") if page.shown("email_service") else None,
            current_status=page.text("current_status") if oauth2 else None,
            signed_in_account=(page.text("signed_in_account") or None) if oauth2 else None,
            account=page.value("account"), sender=page.value("sender"), smtp_server=page.value("smtp_server"),
            smtp_port=_port(page.value("smtp_port")), secure=page.selected("secure"),
            cert_validation=_enabled(self.checked("cert_validation", page)), pop3_server=page.value("pop3_server"),
            pop3_port=_port(page.value("pop3_port")), certificate_warning=page.shown("certificate_warning"),
            signin_not_saved=page.shown("signin_not_saved"),
            signin_error=" ".join(page.lines("signin_error")) or None, sign_out_shown=page.shown("sign_out"),
            messages=page.lines("result"),
        )

    @step("{device}: fill in {self.title}")
    def set_fields(self, *, auth_method: AuthMethod | None = None, email_service: EmailService | None = None,
                   account: str | None = None, password: str | None = None, sender: str | None = None,
                   smtp_server: str | None = None, smtp_port: int | str | None = None,
                   secure: SecureConnection | None = None, cert_validation: bool | None = None,
                   pop3_server: str | None = None, pop3_port: int | str | None = None) -> None:
        """Fill in the given fields on the open page (None leaves a field alone); OK saves them.

        Server, port and secure connection are fixed by the page with OAuth2; asking for another value
        there raises ValueError (the page would not let a person type it either).
        """
        self.wait_shown("auth_method", what="Authentication Method")
        if auth_method is not None and self.selected("auth_method") != auth_method:
            self.select("auth_method", auth_method)
        if email_service is not None and self.selected("email_service") != email_service:
            self.select("email_service", email_service)
        for name, text in (("account", account), ("sender", sender), ("smtp_server", smtp_server),
                           ("smtp_port", smtp_port), ("pop3_server", pop3_server), ("pop3_port", pop3_port)):
            if text is not None and self.value(name) != str(text):
                self.fill(name, str(text))
        if password is not None:
            self.fill("password", password)
        if secure is not None and self.selected("secure") != secure:
            self.select("secure", secure)
        if cert_validation is not None:
            self.check("cert_validation", "Enable" if cert_validation else "Disable")

    @step("{device}: click OK on {self.title}")
    def ok(self) -> tuple[str, ...]:
        """Click OK: the device saves (and, with OAuth2, stores a completed sign-in) or refuses, quoted."""
        return self.submit("ok")

    @step("{device}: save {self.title}")
    def save(self, *, reload: bool = True, **fields: object) -> tuple[str, ...]:
        """Open the page, fill in ``fields`` (as :meth:`set_fields`), click OK.

        ``reload`` False fills in the page as it stands: only right after reading it, so no field is stale.
        """
        if reload:
            self.open()
        self.set_fields(**fields)  # type: ignore[arg-type]
        return self.ok()

    def current_status(self) -> str | None:
        return self.text("current_status") if self.shown("current_status") else None

    @step("{device}: Sign Out on {self.title}")
    def sign_out(self, *, reload: bool = True) -> tuple[str, ...]:
        """Click Sign Out (agreeing to the device's confirmation) and wait for Current Status to say Signed out.

        ``reload`` False uses the page as it stands. Raises LookupError when the page shows no Sign Out (nothing
        saved for the chosen service), and the typed refusal quoting the device when it refuses.
        """
        if reload:
            self.open()
        self.wait_shown("auth_method", what="Authentication Method")
        if not self.shown("sign_out"):
            raise LookupError(f"{self.title}: no Sign Out button is shown (no sign-in is saved for the chosen "
                              f"service; Current Status: {self.current_status() or 'not shown'})")
        messages = self.submit("sign_out")
        signed_out = self.profile.messages.signed_out
        self.wait_shown(("current_status", signed_out), what=f"Current Status {signed_out!r} after Sign Out")
        return messages

    @step("{device}: choose OAuth2 and click Sign In on {self.title}")
    def start_sign_in(self, service: EmailService | None = None) -> SignInScreen:
        """Choose OAuth2 (and ``service``) on the open page, click Sign In; the Sign In screen is returned."""
        self.set_fields(auth_method="OAuth2", email_service=service)
        self.click_and_wait("sign_in")
        screen = self.sibling(self.signin_screen)
        screen.require_session()
        screen.wait_shown("start", what="the Sign In screen's button")
        return screen

    @step("{device}: start a Microsoft sign-in from {self.title}")
    def sign_in_code(self, service: EmailService | None = None) -> SignInCode:
        """Open the page, start a sign-in for ``service`` and read the verification code and URL."""
        self.open()
        return self.start_sign_in(service).start()

    def test_connection(self) -> ConnectionTestResult:
        return self.sibling(self.connection_test).run()


class SignInScreen(WebConfigPage):
    """The Sign In screen (Basic's Sign In button): "Sign in with Microsoft", the code, Current Status."""

    page_key = "email_signin"
    #: Where the screen shows the verification code and URL.
    CODE: ClassVar[tuple[str, ...]] = ("message", "user_code", "verification_uri")
    basic_page: ClassVar[type[EmailServerPage]] = EmailServerPage

    def open_for(self, service: EmailService) -> SignInScreen:
        """Open the screen directly for ``service`` (Basic's Sign In button is the usual way in)."""
        self.open(query={"INPUTD_EMAILSERVICE": "OUTLOOK" if service == "Outlook.com" else "EXCHANGE"})
        return self

    @step("{device}: read {self.title}")
    def read(self) -> SignInScreenView:
        values = parse_info_page(self.markup()).values
        return SignInScreenView(service=values.get("Email service", ""), current_status=self.text("current_status"),
                                account=self.text("signed_in_account") or None, notice=self.text("notice"),
                                code=self.code(), error=" ".join(self.lines("signin_error")) or None,
                                messages=self.lines("result"))

    @step("{device}: click 'Sign in with Microsoft' and read the code and URL")
    def start(self) -> SignInCode:
        """Click "Sign in with Microsoft" and read the code and URL; a refusal raises, quoting the screen."""
        self.click_and_wait("start")
        self.wait_shown("user_code", "message", "result", "signin_error", what="the verification code")
        page = self.reading("result", "signin_error", *self.CODE)
        if page.count("result"):
            self.result()
        if page.shown("signin_error"):
            raise WebConfigRefused(page.lines("signin_error"), page=self.title)
        code = self.code(page)
        if code is None:
            raise WebConfigPageError(f"{self.page.url}: {self.title}: no verification code and URL could be read")
        return code

    def code(self, page: PageReading | None = None) -> SignInCode | None:
        """The code and URL shown, from their own fields or else from the sign-in message."""
        page = page or self.reading(*self.CODE)
        message = " ".join(page.lines("message"))
        user_code = page.text("user_code")
        uri = ""
        if page.count("verification_uri"):
            uri = (page.href("verification_uri") or page.text("verification_uri")).strip()
        if not user_code and (found := _MESSAGE_CODE.search(message)):
            user_code = found.group(1)
        if not uri and (link := _MESSAGE_URI.search(message)):
            uri = link.group(0)
        return SignInCode(uri, user_code, message) if user_code and uri else None

    @step("{device}: wait until {self.title} shows Signed in")
    def wait_until_signed_in(self, timeout_ms: float = SIGN_IN_TIMEOUT_MS) -> str:
        """Wait until Current Status says Signed in (the page updates it itself); return the account shown.

        A failed sign-in (the page shows its error) raises :class:`WebConfigRefused` quoting it.
        """
        signed_in = self.profile.messages.signed_in
        what = f"Current Status {signed_in!r}"
        self.wait_shown(("current_status", signed_in), "signin_error", what=what, timeout_ms=timeout_ms)
        page = self.reading("signin_error", "signed_in_account")
        if page.shown("signin_error"):
            raise WebConfigRefused(page.lines("signin_error"), page=self.title)
        return page.text("signed_in_account")

    @step("{device}: Back from {self.title} to the settings")
    def back(self) -> EmailServerPage:
        """The Back button: to Basic, where OK saves the sign-in."""
        self.click_and_wait("back")
        basic = self.sibling(self.basic_page)
        basic.wait_shown("auth_method", what="Authentication Method")
        return basic


class ConnectionTestPage(WebConfigPage):
    """Email Server > Connection Test: the device connects with its saved settings and says how it went."""

    page_key = "email_test"

    @step("{device}: run {self.title}")
    def run(self) -> ConnectionTestResult:
        """Open the page, click Start, read the result (a failed test is a result, not an exception)."""
        self.open()
        self.click_and_wait("start")
        self.wait_shown("result", what="the connection test result")
        page = self.reading("result")
        messages = page.lines("result")
        if self.profile.messages.stale_token in messages:
            self.raise_for(messages)
        message = " ".join(messages)
        box = next(parse_html(page.html("result")).elements(), None)
        code_attr = box.attrs.get("data-error-code", "") if box is not None else ""
        found = _ERROR_CODE.search(message)
        code = int(code_attr) if code_attr.isdigit() else int(found.group(1)) if found else None
        return ConnectionTestResult(ok=self.profile.messages.connection_ok in messages, message=message,
                                    error_code=code)


EmailServerPage.signin_screen = SignInScreen
EmailServerPage.connection_test = ConnectionTestPage


def _port(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


def _enabled(option: str | None) -> bool | None:
    return None if option is None else option == "Enable"
