"""The one redaction filter at the record boundary: every file under ``reports/`` passes through it.

A :class:`Redactor` knows the run's secrets by value (registered where they become known: resolved inventory
secrets, the virtual tenant's passwords, tokens and codes the tier issues) and by shape (JWTs, bearer tokens,
XOAUTH2 responses raw or base64, refresh tokens and device codes of the built-in tier, ``password=`` fields).
Known values are also removed in the encodings they travel in (URL-encoded, JSON-escaped, base64).
This module imports nothing else of the harness, so any room may register a secret.
"""

from __future__ import annotations

import base64
import json
import os
import re
import tempfile
import threading
import zipfile
from pathlib import Path
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"
#: Shorter values are not registered: replacing them everywhere would shred ordinary text.
MIN_SECRET_LENGTH = 6

_PATTERNS = [
    # a JWT (access and ID tokens): header.payload[.signature]
    r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*)?",
    # a bearer credential in a header or an XOAUTH2 response (\x01 or its escapes may follow)
    r"(?i:bearer)\s+[A-Za-z0-9._~+/=-]{8,}",
    # the base64 XOAUTH2 initial response: base64("user=") starts it
    r"dXNlcj[A-Za-z0-9+/]{16,}={0,2}",
    # the built-in tier's refresh tokens and device codes
    r"\b1\.A[A-Za-z0-9_-]{40,}",
    r"DAQABIQEAAAD[A-Za-z0-9_-]{8,}",
]
# password=... in forms and query strings, "password": "..." in JSON (also passwd, pwd, client_secret, tokens)
_KEY = r"(?i:\b[\w-]*(?:password|passwd|pwd|client_secret|refresh_token|access_token|device_code)[\w-]*)"
_FIELD = re.compile(
    rf"""(?P<key>{_KEY}\s*=\s*["']?|{_KEY}["']\s*:\s*["'])(?P<value>[^"'&\s,;}}<]+)"""
)
_SHAPES = re.compile("|".join(_PATTERNS))


def _encodings(value: str) -> set[str]:
    """``value`` as it may appear in files: plain, URL-encoded, JSON-escaped, and base64 at each byte alignment."""
    forms = {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
    raw = value.encode()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode()
        # keep only the characters made of the secret's bits alone, wherever it sits in a longer base64 text
        first, end = -(-8 * shift // 6), 8 * (shift + len(raw)) // 6
        body = encoded[first:end]
        forms.update({body, body.replace("+", "-").replace("/", "_")})
    return {f for f in forms if len(f) >= MIN_SECRET_LENGTH}


class Redactor:
    """Removes the run's known secrets and anything credential-shaped from text, bytes and files."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._public: set[str] = set()
        self._forms: set[str] = set()
        self._lock = threading.Lock()
        self._ordered: tuple[str, ...] = ()
        self._stale = False

    def register(self, *values: str | bytes | None) -> None:
        """Remember secrets of this run (short or empty values are ignored)."""
        with self._lock:
            for value in values:
                if isinstance(value, bytes):
                    value = value.decode("utf-8", errors="replace")
                if value and len(value) >= MIN_SECRET_LENGTH and value not in self._values | self._public:
                    self._values.add(value)
                    self._forms.update(_encodings(value))
                    self._stale = True

    def allow(self, *values: str | None) -> None:
        """Values that are public whatever else they are: a device's serial stays in the record even when the
        device's admin password is still the factory default, its serial (printed on its label)."""
        with self._lock:
            public = {v for v in values if v}
            self._public |= public
            if self._values & public:
                self._values -= public
                self._forms = {f for v in self._values for f in _encodings(v)}
                self._stale = True

    def _longest_first(self) -> tuple[str, ...]:
        with self._lock:
            if self._stale:  # sorted when next needed, not per registration: the tier registers often
                self._ordered = tuple(sorted(self._forms, key=len, reverse=True))
                self._stale = False
            return self._ordered

    @property
    def secrets(self) -> frozenset[str]:
        """The registered values (for tests that search outputs for leaks)."""
        with self._lock:
            return frozenset(self._values)

    def redact_text(self, text: str) -> str:
        """``text`` with every known secret (in any of its encodings) and every credential shape replaced."""
        # Plain substring search, longest form first (a secret containing another goes whole): as fast as one
        # regex of every form, without recompiling it as the tier registers tokens (seconds a run, growing).
        for form in self._longest_first():
            if form in text:
                text = text.replace(form, REDACTED)
        text = _SHAPES.sub(REDACTED, text)
        return _FIELD.sub(lambda m: m["key"] + REDACTED if m["value"] != REDACTED else m[0], text)

    def redact_bytes(self, data: bytes) -> bytes:
        """``data`` redacted; binary content is handled through a byte-preserving latin-1 view."""
        try:
            return self.redact_text(data.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            return self.redact_text(data.decode("latin-1")).encode("latin-1", errors="replace")

    def redact_zip(self, path: Path) -> None:
        """Rewrite every member of the zip at ``path`` redacted (a Playwright trace keeps typed text in it)."""
        path = Path(path)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
                for info in src.infolist():
                    data = src.read(info)
                    if not info.is_dir():
                        data = self._member(info.filename, data)
                    dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def _member(self, name: str, data: bytes) -> bytes:
        if data[:4] == b"PK\x03\x04":
            fd, name = tempfile.mkstemp(suffix=".zip")
            os.close(fd)
            nested = Path(name)
            try:
                nested.write_bytes(data)
                self.redact_zip(nested)
                return nested.read_bytes()
            finally:
                nested.unlink(missing_ok=True)
        return self.redact_bytes(data)

    def redact_file(self, path: Path) -> None:
        """Redact a file in place (zip archives member by member)."""
        path = Path(path)
        if zipfile.is_zipfile(path):
            self.redact_zip(path)
            return
        data = path.read_bytes()
        clean = self.redact_bytes(data)
        if clean != data:
            path.write_bytes(clean)


_DEFAULT = Redactor()


def redactor() -> Redactor:
    """The process-wide redactor: every secret this process learns is registered with it."""
    return _DEFAULT


def register_secret(*values: str | bytes | None) -> None:
    """Register secrets of this run with the process-wide redactor."""
    _DEFAULT.register(*values)


def redact_text(text: str) -> str:
    """``text`` through the process-wide redactor."""
    return _DEFAULT.redact_text(text)
