"""One virtual Epson device: identity, persistent settings, stored sign-ins, CA store, jobs, power state.

Web Config, the mail engine, the SNMP agent, the panel and the status sheet all act on this object; it holds
no protocol code of its own. What survives a power cycle is the configuration, saved sign-ins, CA store and
job history; sessions, setup tokens and sign-ins in progress do not.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Literal

from harness.clock import Clock
from harness.sim.castore import CaStore
from harness.sim.jobhistory import JobHistory
from harness.sim.resolver import Resolver
from harness.sim.settings import EmailServerSettings, EmailService, ServerlessSettings
from harness.sim.status import DeviceStatus

#: Where a sign-in is kept: the e-mail server, the fax server, or one Serverless user ("user:<id>").
Slot = str
EMAIL_SLOT: Slot = "email"
FAX_SLOT: Slot = "fax"

NOT_SIGNED_IN_MESSAGE = ("To use this function, you must sign in to your email service. "
                         "Please contact your administrator.")
SERVERLESS_SUCCESS_MESSAGE = "Authentication was successful. Try the operation again from the Home Screen."


def user_slot(user_id: str) -> Slot:
    return f"user:{user_id}"


@dataclass(frozen=True)
class DeviceIdentity:
    """What makes a device itself: name in the inventory, model, serial, MAC, firmware, capabilities."""

    name: str
    model: str
    serial: str
    mac: str
    firmware: str
    capabilities: frozenset[str]
    client_id: str
    ip_address: str = "127.0.0.1"

    def has(self, capability: str) -> bool:
        return capability in self.capabilities


@dataclass(frozen=True)
class StoredSignIn:
    """A sign-in saved on the device (only after the administrator clicks OK)."""

    service: EmailService
    account: str
    client_id: str
    refresh_token: str = field(repr=False)
    access_token: str = field(repr=False)
    access_expires_at: float
    signed_in_at: float
    last_used_at: float


@dataclass
class PendingSignIn:
    """A device-code sign-in in progress on Web Config (or on the panel for Serverless users)."""

    slot: Slot
    service: EmailService
    user_code: str
    verification_uri: str
    message: str
    interval: int
    expires_at: float
    device_code: str = field(repr=False)
    state: Literal["polling", "signed_in", "failed"] = "polling"
    error: str = ""
    error_code: int = 0
    result: StoredSignIn | None = field(default=None, repr=False)


@dataclass(frozen=True)
class DeviceConfig:
    """Everything Web Config saves."""

    admin_password: str
    device_name: str
    email: EmailServerSettings = field(default_factory=EmailServerSettings)
    fax_email: EmailServerSettings = field(default_factory=EmailServerSettings)
    network: Literal["standard", "extended"] = "standard"
    serverless: ServerlessSettings = field(default_factory=ServerlessSettings)
    language: Literal["en"] = "en"


class VirtualDevice:
    """The state of one simulated device; every mutation goes through its lock."""

    def __init__(self, identity: DeviceIdentity, clock: Clock, resolver: Resolver, *,
                 admin_password: str | None = None, defects: frozenset[str] = frozenset(),
                 status: DeviceStatus | None = None) -> None:
        self.identity = identity
        self.status = status or DeviceStatus()
        self.clock = clock
        self.resolver = resolver
        self.defects = defects
        self.lock = threading.RLock()
        self.config = DeviceConfig(admin_password=admin_password or identity.serial,
                                   device_name=f"EPSON{identity.mac.replace(':', '')[-6:]}")
        self.signins: dict[Slot, StoredSignIn] = {}
        self.pending: dict[Slot, PendingSignIn] = {}
        self.ca = CaStore()
        self.jobs = JobHistory()
        self.panel_messages: list[str] = []
        self.boot_id = 1
        self.powered = True

    def has_defect(self, name: str) -> bool:
        return name in self.defects

    def update(self, **changes: object) -> DeviceConfig:
        """Replace configuration fields atomically and return the new configuration."""
        with self.lock:
            self.config = replace(self.config, **changes)  # type: ignore[arg-type]
            return self.config

    def signin(self, slot: Slot = EMAIL_SLOT) -> StoredSignIn | None:
        with self.lock:
            return self.signins.get(slot)

    def save_signin(self, slot: Slot, signin: StoredSignIn) -> None:
        """Store ``signin`` in ``slot``; a new e-mail sign-in signs out any other e-mail service."""
        with self.lock:
            self.signins[slot] = signin

    def sign_out(self, slot: Slot = EMAIL_SLOT) -> None:
        with self.lock:
            self.signins.pop(slot, None)
            self.pending.pop(slot, None)

    def post_panel_message(self, text: str) -> None:
        with self.lock:
            if text not in self.panel_messages:
                self.panel_messages.append(text)

    def clear_panel_message(self, text: str) -> None:
        with self.lock:
            self.panel_messages = [m for m in self.panel_messages if m != text]

    def power_cycle(self) -> None:
        """Turn off and on: saved settings and sign-ins stay; sessions and sign-ins in progress are lost."""
        with self.lock:
            self.pending.clear()
            self.boot_id += 1
            self.powered = True
        self.status.power_cycle()
