"""The administrator's session: log in (blank user name, the admin password), log out.

A refused login is typed: :class:`LoginRefused` quotes the page (``Incorrect user name or password``),
:class:`LockedOut` when the device refuses every login for a while (``Try again later.``). The password is
typed into the page and never logged.
"""

from __future__ import annotations

from harness.device.webconfig.base import WebConfigPage
from harness.device.webconfig.errors import LockedOut, LoginRefused, WebConfigPageError
from harness.reporting.steps import step


class LoginPage(WebConfigPage):
    """The login form (its own page, or shown in place of any protected page)."""

    page_key = "login"

    @step("{device}: log in to Web Config as administrator")
    def log_in(self, password: str, *, open_page: bool = True) -> None:
        """Log in as administrator; with ``open_page`` False, answer the form the current page shows."""
        if open_page:
            self.open()
        if not self.login_form_shown():
            return  # already logged in: the device shows no login form
        if self.loc("username").count():
            self.fill("username", "")
        self.fill("password", password)
        self.click_and_wait("submit")
        if not self.login_form_shown():
            return
        messages = self.lines("result")
        message = " ".join(messages)
        if not messages:
            raise WebConfigPageError(f"{self.page.url}: the login form came back without a message")
        if message == self.profile.messages.locked_out:
            raise LockedOut(message, url=self.base_url)
        raise LoginRefused(message, url=self.base_url)


class AdminSession(WebConfigPage):
    """Log in and out of one device's Web Config on one browser page (its context keeps the session cookie)."""

    page_key = "top"

    def log_in(self, password: str) -> None:
        """Log in as administrator; raise LoginRefused / LockedOut quoting the device."""
        self.sibling(LoginPage).log_in(password)

    @step("{device}: log out of Web Config")
    def log_out(self) -> None:
        """Log out through the top page's button (ends the session on the device, not only in the browser)."""
        self.open()
        if self.shown("logout"):
            self.click_and_wait("logout")

    def logged_in(self) -> bool:
        self.open()
        return self.shown("logout")
