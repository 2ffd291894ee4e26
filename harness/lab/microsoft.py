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
from harness.device.errors import DeviceError, InfraError
from harness.lab.inventory import RealMicrosoft, TenantAccount
from harness.lab.labfile import MsftInfo
from harness.msft.control_client import TierControl
from harness.msft.real.mailbox import GraphMailbox, MailMessage
from harness.reporting import evidence
from harness.reporting.steps import step

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

    def close(self) -> None: ...


@step("Microsoft: wait up to {timeout:.0f} s for a message to {address}")
def wait_for_message(side: MicrosoftSide, address: str, predicate: Callable[[Message], bool], *,
                     timeout: float = 30.0, poll: float = 0.25) -> Message:
    """The first message in ``address``'s mailbox matching ``predicate``, polling until ``timeout``."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        for message in side.messages(address):
            if predicate(message):
                # From the job's start on the panel when the test started one, else from when the wait began.
                since = evidence.marked(evidence.JOB_STARTED) or started
                evidence.measure("delivery latency", time.monotonic() - since, "s")
                return message
        if time.monotonic() >= deadline:
            raise MessageNotDelivered(f"no matching message reached {address} within {timeout:.0f} s")
        time.sleep(poll)


class Mailbox:
    """The mailboxes of the Microsoft side, as a test reads them."""

    def __init__(self, side: MicrosoftSide) -> None:
        self.side = side

    def messages(self, address: str) -> list[Message]:
        return self.side.messages(address)

    def clear(self, address: str) -> None:
        self.side.clear(address)

    def wait_for(self, address: str, predicate: Callable[[Message], bool] = lambda _: True, *,
                 timeout: float = 30.0) -> Message:
        return wait_for_message(self.side, address, predicate, timeout=timeout)


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


def _message_dict(message: MailMessage) -> Message:
    """A Graph message in the keys the built-in tier's mailbox API uses, so suites read both alike."""
    return {
        "id": message.id, "from": message.sender, "to": list(message.to), "subject": message.subject,
        "body": message.body, "received_at": message.received_at.timestamp(),
        "attachments": [{"filename": a.name, "content_type": a.content_type, "size": a.size}
                        for a in message.attachments],
    }


class RealSide:
    """A real Microsoft 365 tenant: accounts from the inventory (passwords from the environment), mail through
    Microsoft Graph with the lab's reader app. Nothing here can change the tenant or the clock."""

    kind = "tenant"
    control: TierControl | None = None

    def __init__(self, section: RealMicrosoft, where: str, *, graph_url: str | None = None,
                 ca_bundle: Path | str | None = None) -> None:
        self.section = section
        self.client_id = section.client_id
        self.authority = f"{section.authority.rstrip('/')}/{section.tenant_id}"

        def account(entry: TenantAccount, key: str) -> Account:
            return Account(entry.upn.lower(), entry.password.resolve(f"{where}: msft.{key}.password"))

        self.admin = account(section.admin, "admin")
        self.mailbox = account(section.mailbox, "mailbox")
        self.users = tuple(account(u, f"users[{i}]") for i, u in enumerate(section.users))
        self._reader: GraphMailbox | None = None
        if section.graph is not None:
            options: dict[str, Any] = {"ca_bundle": ca_bundle}
            if graph_url:
                options["graph_url"] = graph_url
            self._reader = GraphMailbox(self.authority, section.graph.client_id, section.graph.client_secret,
                                        **options)
        self._since: dict[str, float] = {}

    def _graph(self) -> GraphMailbox:
        if self._reader is None:
            raise InfraError("the inventory's msft section has no 'graph' reader app: mail cannot be checked")
        return self._reader

    def messages(self, address: str) -> list[Message]:
        since = self._since.get(address.lower())
        return [_message_dict(m) for m in self._graph().messages(address, since)]

    def clear(self, address: str) -> None:
        """Forget what is there now: a real mailbox is never emptied, later reads start from this moment."""
        self._since[address.lower()] = time.time() - 1

    def browser_resolution(self) -> tuple[dict[str, int] | None, list[str]]:
        return None, []  # Microsoft's own pages, trusted through the public roots

    def ca_certificate(self) -> bytes | None:
        return None

    def close(self) -> None:
        if self._reader is not None:
            self._reader.http.close()
