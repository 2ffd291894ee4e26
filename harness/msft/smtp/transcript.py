"""Per-session SMTP transcripts with secrets redacted, kept in a bounded store for the control API."""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.clock import Clock, iso

REDACTED = "[redacted]"
#: Longest client line kept in a transcript; longer ones are cut (after redaction) and their size noted.
MAX_LINE_CHARS = 512
#: Most lines one session keeps; later ones are counted, not kept.
MAX_SESSION_LINES = 1000

_AUTH_COMMAND = re.compile(r"^(\s*AUTH)(?:(\s+)([A-Za-z0-9_-]{1,20})(?=\s|$))?(.*)$", re.IGNORECASE | re.DOTALL)
# Anything that looks like a credential: a JWT, an XOAUTH2 payload, or a long base64 run.
_SECRET_LOOKING = re.compile(
    r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*"
    r"|auth=Bearer\s*\S*"
    r"|[A-Za-z0-9+/]{40,}={0,2}"
)

Source = Literal["client", "server", "event"]


def redact_secrets(text: str) -> str:
    """``text`` with anything credential-shaped replaced by ``[redacted]``."""
    return _SECRET_LOOKING.sub(REDACTED, text)


def redact_command(line: str) -> str:
    """A client command line fit for a transcript: an AUTH command keeps only its mechanism."""
    match = _AUTH_COMMAND.match(line)
    if match is None:
        return redact_secrets(line)
    verb, space, mechanism, rest = match.groups()
    shown = verb + (space + mechanism if mechanism else "")
    return shown + (" " + REDACTED if rest.strip() else "")


def printable(raw: bytes, limit: int = MAX_LINE_CHARS, total: int | None = None) -> str:
    """Raw client octets as one transcript line: CRLF dropped, undecodable octets escaped, long lines cut."""
    text = raw.rstrip(b"\r\n").decode("utf-8", errors="backslashreplace")
    size = len(raw) if total is None else total
    if len(text) > limit or size > len(raw):
        return f"{text[:limit]}… [{size} octets]"
    return text


@dataclass
class TranscriptLine:
    elapsed: float
    at: float
    source: Source
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"t": round(self.elapsed, 4), "at": iso(self.at), "from": self.source, "text": self.text}


@dataclass
class SessionTranscript:
    """What one SMTP connection said, in order; ``at`` is lab time, ``t`` seconds since the connection began."""

    session_id: str
    peer: str
    server_name: str
    started_at: float
    lab_clock: Clock
    tls: bool = False
    authenticated_as: str = ""
    claimed_user: str = ""
    closed: bool = False
    envelope_senders: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)
    lines: list[TranscriptLine] = field(default_factory=list)
    dropped: int = 0
    _t0: float = field(default_factory=time.monotonic)

    def add(self, source: Source, text: str) -> None:
        if len(self.lines) >= MAX_SESSION_LINES:
            self.dropped += 1
            return
        self.lines.append(TranscriptLine(time.monotonic() - self._t0, self.lab_clock.now(), source, text))

    def client(self, text: str) -> None:
        self.add("client", text)

    def server(self, text: str) -> None:
        self.add("server", text)

    def event(self, text: str) -> None:
        self.add("event", text)

    def concerns(self, address: str) -> bool:
        address = address.lower()
        return address in {self.authenticated_as, self.claimed_user, *self.envelope_senders, *self.recipients}

    def as_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id, "peer": self.peer, "server_name": self.server_name,
            "started_at": iso(self.started_at), "tls": self.tls, "authenticated_as": self.authenticated_as,
            "claimed_user": self.claimed_user, "closed": self.closed,
            "envelope_senders": list(self.envelope_senders), "recipients": list(self.recipients),
            "message_ids": list(self.message_ids), "dropped_lines": self.dropped,
            "lines": [line.as_dict() for line in list(self.lines)],
        }


class TranscriptStore:
    """The most recent ``capacity`` session transcripts; safe to read from any thread."""

    def __init__(self, capacity: int = 500) -> None:
        self._sessions: deque[SessionTranscript] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def add(self, transcript: SessionTranscript) -> None:
        with self._lock:
            self._sessions.append(transcript)

    def sessions(self, address: str | None = None) -> list[dict[str, Any]]:
        """Transcripts, oldest first; with ``address``, only sessions that user authenticated as or mailed."""
        with self._lock:
            kept = list(self._sessions)
        return [s.as_dict() for s in kept if address is None or s.concerns(address)]

    def get(self, session_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = next((s for s in self._sessions if s.session_id == session_id), None)
        return found.as_dict() if found is not None else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)
