"""Reading a device's network status sheet: PDF text layer, plain text, OCR of a scan, or Web Config's Network Status.

The sheet's layout differs between firmware, so the reader knows keys, not positions: each known key (with
its synonyms) is found at the start of a line however it is spaced (``Key : Value``, ``Key: Value``,
``Key    Value``, or the value on the next line), and a value wrapped onto further lines is joined back. OCR
noise is undone only where a value's type makes it certain (O/0 in ports and addresses, l/1, ``STARTTL5``,
``Signed  in``); a key whose value still cannot be read is listed in ``unreadable``, and one not on the
sheet in ``missing`` — never guessed.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "EmailServerStatus", "NetworkStatus", "OcrUnavailable", "PopplerUnavailable", "StatusSheet",
    "StatusSheetError", "parse_status_sheet_image", "parse_status_sheet_pdf", "parse_status_sheet_text",
    "render_pdf_page_png",
]

_TOOL_TIMEOUT = 120


class StatusSheetError(RuntimeError):
    """The sheet could not be turned into text (not a PDF, an image the OCR engine refuses, a tool failing)."""


class PopplerUnavailable(StatusSheetError):
    """poppler-utils (pdftotext, pdftoppm) is not installed."""


class OcrUnavailable(StatusSheetError):
    """The tesseract OCR engine (or its English data) is not installed."""


@dataclass(frozen=True)
class EmailServerStatus:
    """The sheet's Email Server Status section; None where the key is missing or unreadable."""

    auth_method: Literal["Off", "SMTP AUTH", "POP before SMTP", "OAuth2"] | None = None
    email_service: Literal["Microsoft Exchange Online", "Outlook.com"] | None = None
    current_status: Literal["Signed in", "Signed out"] | None = None
    account: str | None = None
    sender: str | None = None
    smtp_server: str | None = None
    smtp_port: int | None = None
    secure_connection: Literal["None", "SSL/TLS", "STARTTLS"] | None = None
    certificate_validation: bool | None = None

    @property
    def signed_in(self) -> bool | None:
        return None if self.current_status is None else self.current_status == "Signed in"


@dataclass(frozen=True)
class NetworkStatus:
    """The sheet's Network Status section; ``other`` holds every further ``Key : Value`` line as read."""

    device_name: str | None = None
    model: str | None = None
    serial_number: str | None = None
    firmware: str | None = None
    connection_status: str | None = None
    ip_address: str | None = None
    subnet_mask: str | None = None
    mac_address: str | None = None
    other: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StatusSheet:
    """A parsed sheet. ``email`` is None when the sheet has no Email Server Status section at all.

    ``missing``: known keys not on the sheet (the e-mail keys that only OAuth2 shows are missing on a sheet
    of another authentication method). ``unreadable``: keys present whose value could not be read with
    certainty. ``values``: the raw text read for every known key found.
    """

    network: NetworkStatus
    email: EmailServerStatus | None
    missing: tuple[str, ...]
    unreadable: tuple[str, ...]
    values: dict[str, str]


# --- folding: compare text the way OCR confuses it -------------------------------------------------------

_KEY_FOLD = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l", "!": "l", "5": "s"})
_DIGIT_FOLD = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "l": "1", "I": "1", "i": "1", "|": "1",
                             "!": "1", "S": "5", "s": "5", "B": "8", "Z": "2", "z": "2", ",": "."})
_LETTER_FOLD = str.maketrans({"0": "O", "1": "I", "5": "S", "8": "B", "2": "Z"})


def _fold_with_positions(text: str) -> tuple[str, list[int]]:
    """``text`` lower-cased, OCR look-alikes merged, punctuation and spaces dropped; ``ends[i]`` is the index
    in ``text`` just after the character that produced folded character ``i``."""
    folded: list[str] = []
    ends: list[int] = []
    i = 0
    while i < len(text):
        pair = text[i:i + 2].lower()
        if pair == "rn":  # OCR reads "m" as "rn"; fold both to "m"
            folded.append("m")
            ends.append(i + 2)
            i += 2
            continue
        char = text[i].lower().translate(_KEY_FOLD)
        if char.isalnum():
            folded.append(char)
            ends.append(i + 1)
        i += 1
    return "".join(folded), ends


def _fold(text: str) -> str:
    return _fold_with_positions(text)[0]


# --- value readers: each returns the value, or None when it cannot be read with certainty -------------

Reader = Callable[[str], object | None]


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _free_text(value: str) -> str | None:
    return _squash(value) or None


def _choice(*choices: str, aliases: dict[str, str] | None = None) -> Reader:
    table = {_fold(c): c for c in choices} | {_fold(k): v for k, v in (aliases or {}).items()}

    def read(value: str) -> str | None:
        return table.get(_fold(value))
    return read


def _enable(value: str) -> bool | None:
    folded = _fold(value)
    if folded in {_fold("Enable"), _fold("Enabled"), _fold("On")}:
        return True
    if folded in {_fold("Disable"), _fold("Disabled"), _fold("Off")}:
        return False
    return None


def _port(value: str) -> int | None:
    digits = re.sub(r"\s+", "", value).translate(_DIGIT_FOLD)
    if not digits.isdigit() or not 1 <= int(digits) <= 65535:
        return None
    return int(digits)


def _ipv4(value: str) -> str | None:
    text = re.sub(r"\s+", "", value).translate(_DIGIT_FOLD)
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        return None


_MAC_FOLD = str.maketrans({"O": "0", "I": "1", "L": "1", "|": "1", "S": "5", "-": ":"})


def _mac(value: str) -> str | None:
    text = re.sub(r"\s+", "", value).upper().translate(_MAC_FOLD)
    if re.fullmatch(r"[0-9A-F]{12}", text):
        text = ":".join(text[i:i + 2] for i in range(0, 12, 2))
    return text if re.fullmatch(r"[0-9A-F]{2}(:[0-9A-F]{2}){5}", text) else None


#: Epson's firmware version: ``07.59.LW14NB`` — digits, then two family letters, day, year letter, month.
_FIRMWARE_SHAPE = "99.99.AA99A?"


def _firmware(value: str) -> str | None:
    """The version as read; O/0-style confusions are undone only where Epson's version shape says which it is."""
    text = re.sub(r"\s+", "", value)
    if not text:
        return None
    if len(text) != len(_FIRMWARE_SHAPE):
        return text
    fixed = "".join(
        c.translate(_DIGIT_FOLD) if kind == "9" else c.upper().translate(_LETTER_FOLD) if kind == "A" else c
        for c, kind in zip(text, _FIRMWARE_SHAPE, strict=True)
    )
    return fixed if re.fullmatch(r"\d{2}\.\d{2}\.[A-Z]{2}\d{2}[A-Z][0-9A-Z]", fixed) else text


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"^(?:{_LABEL}\.)+[A-Za-z]{{2,63}}$")
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")


def _address(value: str) -> str | None:
    """An e-mail address (blank allowed: not set); one that is not shaped like an address is unreadable."""
    text = re.sub(r"\s+", "", value)
    if not text:
        return ""
    local, at, domain = text.rpartition("@")
    if not at or not _LOCAL.match(local) or local.startswith(".") or not _DOMAIN.match(domain):
        return None
    return text


def _host(value: str) -> str | None:
    """An SMTP server: FQDN or IPv4 (blank allowed: not set)."""
    text = re.sub(r"\s+", "", value)
    if not text:
        return ""
    if re.fullmatch(r"[0-9OoIl|,.]+", text) and text.count(".") + text.count(",") == 3:
        return _ipv4(text)
    return text if _DOMAIN.match(text) or re.fullmatch(_LABEL, text) else None


# --- the keys the reader knows --------------------------------------------------------------------------

Section = Literal["network", "email"]


@dataclass(frozen=True)
class _Key:
    label: str
    section: Section
    attr: str
    read: Reader
    aliases: tuple[str, ...] = ()
    #: how a value wrapped onto the next line joins: words with a space, addresses and numbers with nothing
    joiner: str = " "


_KEYS: tuple[_Key, ...] = (
    _Key("Device Name", "network", "device_name", _free_text),
    _Key("Model", "network", "model", _free_text, ("Printer Model", "Product Name", "Model Name")),
    _Key("Serial Number", "network", "serial_number", _free_text, ("Serial No.",), joiner=""),
    _Key("Firmware Version", "network", "firmware", _firmware, ("Firmware", "Main Version"), joiner=""),
    _Key("Connection Status", "network", "connection_status", _free_text),
    _Key("IP Address", "network", "ip_address", _ipv4, ("IPv4 Address",), joiner=""),
    _Key("Subnet Mask", "network", "subnet_mask", _ipv4, joiner=""),
    _Key("MAC Address", "network", "mac_address", _mac, joiner=""),
    _Key("Authentication Method", "email", "auth_method",
         _choice("Off", "SMTP AUTH", "POP before SMTP", "OAuth2", aliases={"OAuth 2.0": "OAuth2"})),
    _Key("Email service", "email", "email_service", _choice("Microsoft Exchange Online", "Outlook.com"),
         ("Email Service Provider",)),
    _Key("Current Status", "email", "current_status", _choice("Signed in", "Signed out")),
    _Key("Account", "email", "account", _address, ("Authenticated Account",), joiner=""),
    _Key("Sender's Email Address", "email", "sender", _address, ("Sender Email Address", "Sender's Address"),
         joiner=""),
    _Key("SMTP Server Address", "email", "smtp_server", _host, ("SMTP Server",), joiner=""),
    _Key("SMTP Server Port Number", "email", "smtp_port", _port, ("SMTP Server Port", "Port Number", "Port"),
         joiner=""),
    _Key("Secure Connection", "email", "secure_connection", _choice("None", "SSL/TLS", "STARTTLS")),
    _Key("Certificate Validation", "email", "certificate_validation", _enable),
)

_HEADERS: dict[str, Section | None] = {
    **{_fold(h): "email" for h in ("Email Server Status", "Email Server", "Email Server Settings")},
    **{_fold(h): "network" for h in ("Network Status", "Network", "Wired LAN", "Wi-Fi", "Wi-Fi Direct")},
    _fold("Network Status Sheet"): None,
}

#: (folded name, key) longest first, so "SMTP Server Port Number" wins over "SMTP Server".
_NAMES: list[tuple[str, _Key]] = sorted(
    ((_fold(name), key) for key in _KEYS for name in (key.label, *key.aliases)), key=lambda p: -len(p[0]))

_SEPARATOR = re.compile(r"^\s*[:;：]?\s*")
_UNKNOWN_COLON = re.compile(r"^\s*(?P<key>[A-Za-z][A-Za-z0-9 '’./()&+-]{2,48}?)\s*[:：](?!:)\s*(?P<value>.*)$")
_UNKNOWN_SPACED = re.compile(r"^\s*(?P<key>[A-Za-z][A-Za-z0-9'’./()&+-]*(?: [A-Za-z0-9'’./()&+-]+)*)"
                             r"\s{2,}(?P<value>\S.*)$")


def _known_key(line: str) -> tuple[_Key, str] | None:
    """The known key a line starts with and the rest of the line (its value), or None."""
    folded, ends = _fold_with_positions(line)
    for name, key in _NAMES:
        if not folded.startswith(name):
            continue
        cut = ends[len(name) - 1]
        if cut < len(line) and line[cut].isalnum():
            continue  # "Port" must not match "Portal"
        return key, _SEPARATOR.sub("", line[cut:], count=1)
    return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


@dataclass
class _Entry:
    key: _Key
    indent: int
    parts: list[str]
    closed: bool = False
    ambiguous: bool = False

    @property
    def text(self) -> str:
        return self.key.joiner.join(p.strip() for p in self.parts if p.strip())

    @property
    def complete(self) -> bool:
        value = self.key.read(self.text)
        return value is not None and value != ""


def parse_status_sheet_text(text: str) -> StatusSheet:
    """Parse the text of a status sheet (PDF text layer, OCR output, or Web Config's Network Status page)."""
    reader = _LineReader()
    for line in text.replace("\r", "").replace("\f", "\n").split("\n"):
        reader.feed(line)
    return _assemble(reader.entries, reader.other, reader.email_header)


class _LineReader:
    """Sorts lines into known keys (with their wrapped values), other ``Key : Value`` lines and headers."""

    def __init__(self) -> None:
        self.entries: dict[str, _Entry] = {}
        self.other: dict[str, str] = {}
        self.email_header = False
        self.current: _Entry | None = None  # the known key whose value may continue on the next line
        self.pending_other: str | None = None  # an unknown key whose value is on the next line

    def feed(self, line: str) -> None:
        if not line.strip():
            if self.current is not None and self.current.text:
                self.current.closed = True
            return
        known = _known_key(line)
        folded = _fold(line)
        unknown = _UNKNOWN_COLON.match(line)
        if self.pending_other is not None and known is None and unknown is None and folded not in _HEADERS:
            self.other[self.pending_other] = _squash(line)
            self.pending_other = None
            return
        self.pending_other = None
        if known is not None:
            key, value = known
            self.current = None
            if key.label not in self.entries:  # a repeated key (Web Config's Wi-Fi Direct tab): the first counts
                self.current = self.entries[key.label] = _Entry(key, _indent(line), [value])
            return
        if folded in _HEADERS:
            self.email_header = self.email_header or _HEADERS[folded] == "email"
            self.current = None
            return
        current = self.current
        if unknown is None and current is not None and not current.closed and not current.complete:
            current.parts.append(line)  # the value, or the rest of it, is on this line
            return
        unknown = unknown or _UNKNOWN_SPACED.match(line)
        if unknown is not None:
            name, value = _squash(unknown["key"]), _squash(unknown["value"])
            if name not in self.other:
                self.other[name] = value
                self.pending_other = None if value else name
            self.current = None
            return
        if current is not None and not current.closed:
            if _indent(line) > current.indent + 4:
                current.parts.append(line)  # a wrapped value, indented under the value column
                return
            if current.key.read(current.key.joiner.join([current.text, line.strip()])) is not None:
                current.ambiguous = True  # complete alone, and also with this line: cannot tell which
        self.current = None


def _assemble(entries: dict[str, _Entry], other: dict[str, str], email_header: bool) -> StatusSheet:
    found: dict[Section, dict[str, object]] = {"network": {}, "email": {}}
    missing: list[str] = []
    unreadable: list[str] = []
    for key in _KEYS:
        entry = entries.get(key.label)
        if entry is None:
            missing.append(key.label)
            continue
        value = key.read(entry.text)
        if value is None or entry.ambiguous:
            unreadable.append(key.label)
        else:
            found[key.section][key.attr] = value
    has_email = email_header or any(k.section == "email" and k.label in entries for k in _KEYS)
    return StatusSheet(
        network=NetworkStatus(**found["network"], other=other),  # type: ignore[arg-type]
        email=EmailServerStatus(**found["email"]) if has_email else None,  # type: ignore[arg-type]
        missing=tuple(missing),
        unreadable=tuple(unreadable),
        values={label: entry.text for label, entry in entries.items()},
    )


# --- from a PDF or an image -----------------------------------------------------------------------------

def _run(argv: list[str], data: bytes, *, missing: type[StatusSheetError], install: str) -> bytes:
    try:
        done = subprocess.run(argv, input=data, capture_output=True, timeout=_TOOL_TIMEOUT, check=False)
    except FileNotFoundError:
        raise missing(f"{argv[0]} is not installed: run `apt-get install {install}`") from None
    except subprocess.TimeoutExpired:
        raise StatusSheetError(f"{argv[0]} did not finish within {_TOOL_TIMEOUT} s") from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise StatusSheetError(f"{argv[0]} failed (exit {done.returncode}): {detail[-1] if detail else 'no output'}")
    return done.stdout


def parse_status_sheet_pdf(pdf_bytes: bytes) -> StatusSheet:
    """Parse a status sheet PDF through its text layer (poppler's ``pdftotext -layout``)."""
    if not pdf_bytes.startswith(b"%PDF"):
        raise StatusSheetError("not a PDF document (no %PDF header)")
    text = _run(["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], pdf_bytes,
                missing=PopplerUnavailable, install="poppler-utils")
    return parse_status_sheet_text(text.decode("utf-8", "replace"))


def parse_status_sheet_image(image_bytes: bytes) -> StatusSheet:
    """Parse a photographed or scanned status sheet (PNG, JPEG, TIFF) through tesseract OCR."""
    try:
        text = _run(["tesseract", "stdin", "stdout", "--psm", "6", "-l", "eng"], image_bytes,
                    missing=OcrUnavailable, install="tesseract-ocr")
    except StatusSheetError as exc:
        if "Failed loading language" in str(exc) or "eng.traineddata" in str(exc):
            raise OcrUnavailable(f"tesseract has no English data: run `apt-get install tesseract-ocr-eng` ({exc})") \
                from None
        raise
    return parse_status_sheet_text(text.decode("utf-8", "replace"))


def render_pdf_page_png(pdf_bytes: bytes, *, dpi: int = 150, page: int = 1) -> bytes:
    """One page of a PDF as a PNG image (poppler's ``pdftoppm``), e.g. to OCR what a printed sheet looks like."""
    return _run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile", "-f", str(page), "-l", str(page), "-"],
                pdf_bytes, missing=PopplerUnavailable, install="poppler-utils")
