"""A page object for Microsoft's device-login pages (https://microsoft.com/devicelogin), Playwright sync API.

Locators are by label, role and visible text, as a person reads the pages, so the same calls work on the
built-in tier's pages and on Microsoft's. It waits on the pages' own texts and never sleeps. The code and
password are typed into the page and never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page

from harness.reporting.steps import step

SIGNED_IN_TEXT = "You have signed in to the"
DECLINED_TEXT = "You have declined to sign in"
ORG_CONSENT_LABEL = "Consent on behalf of your organization"
MAX_STEPS = 12


class DeviceLoginError(RuntimeError):
    """The pages did not reach a known state in time (the message names the page, never a secret)."""


@dataclass(frozen=True)
class DeviceLoginOutcome:
    """How a device login ended: signed in, declined, or refused with the page's error message."""

    status: Literal["signed_in", "declined", "error"]
    message: str = ""
    #: The pages walked through, e.g. ("code", "username", "password", "consent").
    steps: tuple[str, ...] = ()

    @property
    def signed_in(self) -> bool:
        return self.status == "signed_in"


class MicrosoftDeviceLogin:
    """Completes the device code flow's browser side on one Playwright page."""

    def __init__(self, page: Page, timeout_ms: float = 20_000) -> None:
        self.page = page
        self.timeout_ms = timeout_ms
        self.code_field = page.get_by_label("Code", exact=True)
        self.account_field = page.get_by_label("Email, phone, or Skype")
        self.password_field = page.get_by_label("Password")
        self.accept_button = page.get_by_role("button", name="Accept", exact=True)
        self.cancel_button = page.get_by_role("button", name="Cancel", exact=True)
        self.continue_button = page.get_by_role("button", name="Continue", exact=True)
        self.org_consent = page.get_by_label(ORG_CONSENT_LABEL)
        self.alert = page.get_by_role("alert")
        self.signed_in_text = page.get_by_text(SIGNED_IN_TEXT)
        self.declined_text = page.get_by_text(DECLINED_TEXT)

    @step("Microsoft: enter the code at {verification_uri} and sign in as {upn}")
    def complete(self, verification_uri: str, user_code: str, upn: str, password: str, *,
                 consent_for_organization: bool = True, accept: bool = True) -> DeviceLoginOutcome:
        """Open ``verification_uri``, enter the code, sign in as ``upn`` and answer the permissions page.

        ``accept=False`` clicks Cancel on the permissions page (the device's poll then gets
        ``authorization_declined``). A refusal shown by the pages comes back as an ``error`` outcome.
        """
        steps: list[str] = []
        self.page.goto(verification_uri, timeout=self.timeout_ms)
        self._wait_for(self.code_field)
        steps.append("code")
        self.code_field.fill(user_code)
        self.page.get_by_role("button", name="Next", exact=True).click()
        stage = "code"
        for _ in range(MAX_STEPS):
            stage = self._next_stage(stage)
            if stage == "error":
                return DeviceLoginOutcome("error", self._alert_text(), tuple(steps))
            if stage == "signed_in":
                return DeviceLoginOutcome("signed_in", self.signed_in_text.first.inner_text().strip(), tuple(steps))
            if stage == "declined":
                return DeviceLoginOutcome("declined", self.declined_text.first.inner_text().strip(), tuple(steps))
            steps.append(stage)
            if stage == "username":
                self.account_field.fill(upn)
                self.page.get_by_role("button", name="Next", exact=True).click()
            elif stage == "password":
                self.password_field.fill(password)
                self.page.get_by_role("button", name="Sign in", exact=True).click()
            elif stage == "continue":
                self.continue_button.click()
            elif stage == "consent":
                if accept and consent_for_organization and self.org_consent.count():
                    self.org_consent.check()
                (self.accept_button if accept else self.cancel_button).click()
        raise DeviceLoginError(f"device login did not finish after {MAX_STEPS} pages (last: {stage})")

    # --- where are we -----------------------------------------------------------------------------------
    def _markers(self) -> dict[str, Locator]:
        return {
            "error": self.alert, "signed_in": self.signed_in_text, "declined": self.declined_text,
            "code": self.code_field, "username": self.account_field, "password": self.password_field,
            "consent": self.accept_button, "continue": self.continue_button,
        }

    def _next_stage(self, current: str) -> str:
        """Wait until the page shows something other than the stage just answered, and name it."""
        markers = {name: loc for name, loc in self._markers().items() if name != current}
        anything = None
        for locator in markers.values():
            anything = locator if anything is None else anything.or_(locator)
        assert anything is not None
        self._wait_for(anything)
        for name, locator in markers.items():
            if locator.first.is_visible():
                return name
        raise DeviceLoginError(f"unrecognised sign-in page at {self._where()}")

    def _wait_for(self, locator: Locator) -> None:
        try:
            locator.first.wait_for(state="visible", timeout=self.timeout_ms)
        except PlaywrightError as exc:
            raise DeviceLoginError(f"sign-in page did not show what was expected at {self._where()}") from exc

    def _alert_text(self) -> str:
        return " ".join(t.strip() for t in self.alert.all_inner_texts() if t.strip())

    def _where(self) -> str:
        try:
            return f"{self.page.url.split('?', 1)[0]} ({self.page.title()!r})"
        except PlaywrightError:
            return self.page.url.split("?", 1)[0]
