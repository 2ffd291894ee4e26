"""Mailboxes of the built-in tier: messages delivered by the SMTP server, parsed for tests to read."""

from __future__ import annotations

import email
import email.policy
import hashlib
import threading
import uuid
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class StoredMessage:
    """One delivered message as a mailbox reader sees it."""

    id: str
    mailbox: str
    received_at: float
    envelope_from: str
    envelope_to: tuple[str, ...]
    authenticated_as: str
    from_: str
    to: tuple[str, ...]
    subject: str
    date: str
    body: str
    attachments: tuple[Attachment, ...]
    size: int
    #: The SMTP session that submitted it (its transcript's ``session_id``); empty if not submitted over SMTP.
    session_id: str = ""

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["from"] = d.pop("from_")
        return d


def parse_message(raw: bytes, *, mailbox: str, received_at: float, envelope_from: str,
                  envelope_to: list[str], authenticated_as: str, session_id: str = "") -> StoredMessage:
    """Parse an RFC 5322 message into a :class:`StoredMessage` for ``mailbox``."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    body_part = msg.get_body(preferencelist=("plain", "html"))
    body = body_part.get_content() if body_part is not None else ""
    attachments = []
    for part in msg.iter_attachments():
        payload = part.get_payload(decode=True)
        payload = payload if isinstance(payload, bytes) else b""  # decode=True gives bytes, or None for a multipart
        attachments.append(Attachment(part.get_filename() or "", part.get_content_type(), len(payload),
                                      hashlib.sha256(payload).hexdigest()))
    date_hdr = str(msg.get("Date", ""))
    try:
        date = parsedate_to_datetime(date_hdr).isoformat() if date_hdr else ""
    except (TypeError, ValueError):
        date = date_hdr
    return StoredMessage(
        id=str(uuid.uuid4()), mailbox=mailbox, received_at=received_at, envelope_from=envelope_from,
        envelope_to=tuple(envelope_to), authenticated_as=authenticated_as,
        from_=str(msg.get("From", "")),
        to=tuple(addr for _, addr in getaddresses([str(v) for v in msg.get_all("To", [])])),
        subject=str(msg.get("Subject", "")), date=date, body=str(body), attachments=tuple(attachments),
        size=len(raw), session_id=session_id,
    )


@dataclass
class MailStore:
    """Thread-safe mailboxes keyed by lower-cased address."""

    _boxes: dict[str, list[StoredMessage]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def deliver(self, message: StoredMessage) -> None:
        with self._lock:
            self._boxes.setdefault(message.mailbox.lower(), []).append(message)

    def messages(self, address: str) -> list[StoredMessage]:
        with self._lock:
            return list(self._boxes.get(address.lower(), []))

    def clear(self, address: str) -> int:
        with self._lock:
            return len(self._boxes.pop(address.lower(), []))

    def addresses(self) -> list[str]:
        with self._lock:
            return sorted(self._boxes)
