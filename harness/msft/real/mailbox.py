"""Reading a mailbox through Microsoft Graph with the lab's app registration (client-credentials grant).

The app secret comes from an environment variable the inventory names (:class:`~harness.lab.inventory.SecretRef`),
never from the inventory itself. msal gets and caches the app-only token; a 401 from Graph (say, the lab's
virtual clock moved past the token's expiry) gets one fresh token and one retry.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import msal
import requests

from harness.msft.real.errors import IdentityError, identity_error
from harness.msft.real.http import check_authority, client_session, is_microsoft_authority, reaching
from harness.reporting.redaction import register_secret

if TYPE_CHECKING:
    from harness.lab.inventory import SecretRef
    from harness.lab.labfile import MsftInfo

GRAPH_V1 = "https://graph.microsoft.com/v1.0"
GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default"
_MESSAGE_FIELDS = "id,subject,from,toRecipients,receivedDateTime,hasAttachments,body"
_MAX_PAGES = 20


class GraphError(RuntimeError):
    """Graph refused a request: HTTP ``status`` and Graph's error ``code`` and ``message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"Graph answered {status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class MailNotReceived(RuntimeError):
    """No message matching the predicate arrived before the deadline (``seen``: how many were looked at)."""

    def __init__(self, address: str, timeout: float, seen: int) -> None:
        super().__init__(f"no matching message in {address} within {timeout:.0f} s ({seen} other message(s) seen)")
        self.address, self.timeout, self.seen = address, timeout, seen


@dataclass(frozen=True)
class AttachmentInfo:
    name: str
    content_type: str
    size: int


@dataclass(frozen=True)
class MailMessage:
    """One received message as Graph shows it."""

    id: str
    subject: str
    sender: str
    to: tuple[str, ...]
    received_at: datetime
    has_attachments: bool
    body: str
    attachments: tuple[AttachmentInfo, ...] = ()


def graph_datetime(when: datetime | float) -> str:
    """``when`` (aware or UTC-naive datetime, or epoch seconds) as Graph's filter literal, to the second."""
    if isinstance(when, int | float):
        when = datetime.fromtimestamp(int(when), UTC)
    elif when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _address(recipient: Any) -> str:
    return str(((recipient or {}).get("emailAddress") or {}).get("address", "")).lower()


class GraphMailbox:
    """Mailboxes of a tenant read through Graph as the app ``client_id`` (needs the ``Mail.Read`` app role)."""

    def __init__(self, authority: str, client_id: str, secret: SecretRef, *, graph_url: str = GRAPH_V1,
                 ca_bundle: Path | str | None = None, http: requests.Session | None = None,
                 poll_interval: float = 2.0, page_size: int = 50) -> None:
        self.authority = check_authority(authority)
        self.client_id = client_id
        self.secret = secret
        self.graph_url = graph_url.rstrip("/")
        self.http = http or client_session(ca_bundle)
        self.poll_interval = poll_interval
        self.page_size = page_size
        self._app: msal.ConfidentialClientApplication | None = None
        self._attachments: dict[str, tuple[AttachmentInfo, ...]] = {}

    @classmethod
    def from_lab(cls, msft: MsftInfo, client_id: str, secret: SecretRef, **options: Any) -> GraphMailbox:
        """A reader of the built-in tier of a running lab (its lab.json ``msft`` section gives the Graph URL)."""
        graph_url = str(getattr(msft, "graph_url", "") or f"https://localhost:{msft.identity.port}/v1.0")
        return cls(msft.authority, client_id, secret, graph_url=graph_url, ca_bundle=msft.ca_bundle, **options)

    def __repr__(self) -> str:
        return f"GraphMailbox({self.graph_url!r}, client_id={self.client_id!r})"

    # --- the app-only token -------------------------------------------------------------------------------
    def token(self) -> str:
        """An app-only Graph token (msal's cached one while valid); a typed :class:`IdentityError` if refused."""
        if self._app is None:
            secret = self.secret.resolve("the mail reader's client secret")  # InventoryError when unset
            with reaching(self.authority):
                try:
                    self._app = msal.ConfidentialClientApplication(
                        self.client_id, client_credential=secret,
                        authority=self.authority, http_client=self.http,
                        instance_discovery=None if is_microsoft_authority(self.authority) else False)
                except ValueError as exc:
                    raise IdentityError("invalid_authority", None, str(exc)) from None
        with reaching(self.authority):
            answer = self._app.acquire_token_for_client(scopes=[GRAPH_DEFAULT_SCOPE])
        if "access_token" not in answer:
            self._app = None  # msal caches refusals; the next attempt starts afresh
            raise identity_error(answer)
        register_secret(answer["access_token"])
        return str(answer["access_token"])

    # --- Graph requests -----------------------------------------------------------------------------------
    def get(self, url: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        """GET a Graph URL as the app; a 401 gets one fresh token and one retry."""
        for attempt in (1, 2):
            with reaching(self.graph_url):
                response = self.http.get(url, params=params, timeout=30,
                                         headers={"Authorization": f"Bearer {self.token()}"})
            if response.status_code == 401 and attempt == 1:
                self._app = None
                continue
            break
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code != 200 or not isinstance(data, dict):
            error = (data or {}).get("error") if isinstance(data, dict) else None
            error = error if isinstance(error, dict) else {}
            raise GraphError(response.status_code, str(error.get("code", "UnknownError")),
                             str(error.get("message", response.text[:200])))
        return data

    def _user_url(self, address: str) -> str:
        return f"{self.graph_url}/users/{quote(address, safe='@')}"

    def messages(self, address: str, since: datetime | float | None = None, *,
                 with_attachments: bool = True) -> list[MailMessage]:
        """Messages of ``address``'s mailbox, newest first, received at or after ``since`` when given."""
        query = {"$orderby": "receivedDateTime desc", "$top": str(self.page_size), "$select": _MESSAGE_FIELDS}
        if since is not None:
            query["$filter"] = f"receivedDateTime ge {graph_datetime(since)}"
        url: str | None = f"{self._user_url(address)}/messages"
        params: dict[str, str] | None = query
        found: list[MailMessage] = []
        for _ in range(_MAX_PAGES):
            if url is None:
                break
            page = self.get(url, params)
            found += [self._message(address, item, with_attachments) for item in page.get("value", [])]
            url, params = page.get("@odata.nextLink"), None  # the next link carries the query itself
        return found

    def attachments(self, address: str, message_id: str) -> tuple[AttachmentInfo, ...]:
        """Name, content type and size of each attachment of one message."""
        if message_id not in self._attachments:
            page = self.get(f"{self._user_url(address)}/messages/{quote(message_id, safe='')}/attachments",
                            {"$select": "name,contentType,size"})
            self._attachments[message_id] = tuple(
                AttachmentInfo(str(a.get("name", "")), str(a.get("contentType", "")), int(a.get("size", 0)))
                for a in page.get("value", []))
        return self._attachments[message_id]

    def _message(self, address: str, item: dict[str, Any], with_attachments: bool) -> MailMessage:
        has_attachments = bool(item.get("hasAttachments"))
        received = datetime.fromisoformat(str(item.get("receivedDateTime", "1970-01-01T00:00:00Z")))
        return MailMessage(
            id=str(item["id"]), subject=str(item.get("subject") or ""), sender=_address(item.get("from")),
            to=tuple(_address(r) for r in item.get("toRecipients") or []),
            received_at=received, has_attachments=has_attachments,
            body=str((item.get("body") or {}).get("content", "")),
            attachments=self.attachments(address, str(item["id"])) if has_attachments and with_attachments else (),
        )

    def wait_for(self, address: str, predicate: Callable[[MailMessage], bool], timeout: float, *,
                 since: datetime | float | None = None) -> MailMessage:
        """The newest message matching ``predicate``, polling every ``poll_interval`` until ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self.messages(address, since)
            match = next((m for m in seen if predicate(m)), None)
            if match is not None:
                return match
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise MailNotReceived(address, timeout, len(seen))
            time.sleep(min(self.poll_interval, remaining))
