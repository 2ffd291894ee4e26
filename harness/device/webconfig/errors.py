"""Typed failures of the Web Config page objects; each quotes what the device's page said.

The device refusing a value is a finding about the device (:class:`WebConfigRefused`, a DeviceError); the
lab's credential being refused, or the device not answering, is the lab's (:class:`LoginRefused`,
:class:`~harness.device.statuspages.WebConfigUnreachable`, InfraErrors), as ``harness/device/errors.py`` sorts them.
"""

from __future__ import annotations

from harness.device.errors import DeviceError, InfraError
from harness.device.statuspages import WebConfigPageError, WebConfigUnreachable

__all__ = [
    "LockedOut", "LoginRefused", "LoginRequired", "PageNotFound", "StaleSetupToken", "WebConfigPageError",
    "WebConfigRefused", "WebConfigUnreachable",
]


class WebConfigRefused(DeviceError):
    """The device refused an action; ``messages`` are the page's result lines, quoted exactly."""

    def __init__(self, messages: tuple[str, ...] | list[str] | str, *, page: str = "") -> None:
        self.messages = (messages,) if isinstance(messages, str) else tuple(messages)
        self.page = page
        quoted = " | ".join(self.messages) or "(no message)"
        super().__init__(f"{page}: {quoted}" if page else quoted)

    @property
    def message(self) -> str:
        return " ".join(self.messages)


class StaleSetupToken(WebConfigRefused):
    """The device refused a form's setup token (the page was opened before a restart or another submit)."""


class LoginRequired(WebConfigRefused):
    """The page shows the administrator login form: no session, or it ended (power cycle, logout)."""


class PageNotFound(DeviceError):
    """The device has no such page (HTTP 404): the model lacks the feature, or the profile's path is wrong."""


class LoginRefused(InfraError):
    """The administrator login was refused (the lab's admin password is wrong); ``message`` quotes the page."""

    def __init__(self, message: str, *, url: str = "") -> None:
        self.message = message
        super().__init__(f"{url}: administrator login refused: {message}" if url else message)


class LockedOut(LoginRefused):
    """The device refuses every login for a while after repeated failures (Epson: ``Try again later.``)."""
