"""Epson Print Admin Serverless: authentication settings and registered users (the guide's §6).

With "User's Email Address" as the sender, each user signs in with their own account at the device's panel;
that per-user sign-in goes through the panel driver and ``harness.device.signin.complete_device_login``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harness.device.webconfig.base import WebConfigPage
from harness.reporting.steps import step

SenderChoice = Literal["Device's Email Address", "User's Email Address"]


@dataclass(frozen=True)
class ServerlessSettings:
    enabled: bool | None
    sender: str | None


@dataclass(frozen=True)
class ServerlessUser:
    user_id: str
    name: str
    email: str
    printer_admin: bool
    current_status: str


class ServerlessSettingsPage(WebConfigPage):
    page_key = "serverless_settings"

    @step("{device}: read {self.title}")
    def read(self) -> ServerlessSettings:
        self.open()
        enabled = self.checked("enabled")
        return ServerlessSettings(enabled=None if enabled is None else enabled == "Enable",
                                  sender=self.checked("sender"))

    @step("{device}: save {self.title}")
    def save(self, *, enabled: bool | None = None, sender: SenderChoice | None = None) -> tuple[str, ...]:
        self.open()
        if enabled is not None:
            self.check("enabled", "Enable" if enabled else "Disable")
        if sender is not None:
            self.check("sender", sender)
        return self.submit("ok")


class ServerlessUsersPage(WebConfigPage):
    page_key = "serverless_users"

    @step("{device}: list {self.title}")
    def users(self) -> list[ServerlessUser]:
        self.open()
        return [ServerlessUser(user_id=r.get("User ID", ""), name=r.get("User Name", ""),
                               email=r.get("Email Address", ""), printer_admin=r.get("Printer Administrator") == "On",
                               current_status=r.get("Current Status", ""))
                for r in self.table_rows("users")]

    @step("{device}: register the user {user_id} on {self.title}")
    def add(self, user_id: str, name: str, email: str, *, printer_admin: bool = False) -> tuple[str, ...]:
        """Register a user; a refusal raises, quoting the page."""
        self.open()
        self.fill("user_id", user_id)
        self.fill("user_name", name)
        self.fill("email", email)
        self.check("printer_admin", "On" if printer_admin else "Off")
        return self.submit("add")

    @step("{device}: delete the user {user_id} on {self.title}")
    def delete(self, user_id: str) -> tuple[str, ...]:
        """Delete a user through the Delete button of the row whose User ID is ``user_id``."""
        self.open()
        listed = [r.get("User ID", "") for r in self.table_rows("users")]
        if user_id not in listed:
            raise LookupError(f"{self.title}: no user {user_id!r} is listed")
        self.click_and_wait("delete", within=self.loc("rows").nth(listed.index(user_id)))
        return self.result()
