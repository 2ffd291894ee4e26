"""The Microsoft side of a lab as the suites use it: accounts, mailboxes, and (built-in tier) the switches.

One interface for the built-in tier and a real tenant. What only the built-in tier can do (switch SMTP AUTH,
add policies, move time) is reached through ``control``, which is None on a real tenant; suites that need
it carry ``requires("tenant_control")`` or ``requires("virtual_clock")``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from harness.browser import tier_resolution
from harness.device.errors import DeviceError
from harness.lab.labfile import MsftInfo
from harness.msft.control_client import TierControl

Message = dict[str, Any]


@dataclass(frozen=True)
class Account:
    """An account the suites sign in with."""

    upn: str
    password: str = field(repr=False)
    roles: tuple[str, ...] = ()


class MessageNotDelivered(DeviceError):
    """The mail the device should have sent never arrived."""


class MicrosoftSide(Protocol):
    kind: str
    #: The devices' app registration (what consent is granted to).
    client_id: str
    admin: Account
    mailbox: Account
    users: tuple[Account, ...]
    control: TierControl | None

    def messages(self, address: str) -> list[Message]: ...

    def clear(self, address: str) -> None: ...

    def browser_resolution(self) -> tuple[dict[str, int] | None, list[str]]: ...

    def ca_certificate(self) -> bytes | None: ...


def wait_for_message(side: MicrosoftSide, address: str, predicate: Callable[[Message], bool], *,
                     timeout: float = 30.0, poll: float = 0.25) -> Message:
    """The first message in ``address``'s mailbox matching ``predicate``, polling until ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        for message in side.messages(address):
            if predicate(message):
                return message
        if time.monotonic() >= deadline:
            raise MessageNotDelivered(f"no matching message reached {address} within {timeout:.0f} s")
        time.sleep(poll)


class BuiltinSide:
    """The built-in tier of a virtual lab, reached through its control API."""

    kind = "builtin"

    def __init__(self, info: MsftInfo) -> None:
        self.info = info
        self.client_id = info.client_id
        self.control: TierControl | None = info.control_client()
        admin, mailbox = info.admin(), info.mailbox_user()
        self.admin = Account(admin.upn, admin.password, tuple(admin.roles))
        self.mailbox = Account(mailbox.upn, mailbox.password, tuple(mailbox.roles))
        self.users = tuple(Account(u.upn, u.password, tuple(u.roles)) for u in info.users
                           if u.upn not in (admin.upn, mailbox.upn) and not u.roles)

    def messages(self, address: str) -> list[Message]:
        assert self.control is not None
        return self.control.messages(address)

    def clear(self, address: str) -> None:
        assert self.control is not None
        self.control.clear_messages(address)

    def browser_resolution(self) -> tuple[dict[str, int] | None, list[str]]:
        """Microsoft's web names mapped to the tier, and the tier certificate's pin."""
        return tier_resolution(self.info.identity.port), [self.info.identity.spki_sha256]

    def ca_certificate(self) -> bytes | None:
        """The CA a device must trust to reach this tier (the lab CA; a real lab's DNS would point here)."""
        return Path(self.info.ca_bundle).read_bytes()

    def close(self) -> None:
        if self.control is not None:
            self.control.close()
