"""The virtual device's e-mail settings and the validation rules Web Config applies to them.

Field limits are FIDELITY.md's documented ones; the message texts are the simulator's choice (real texts are
UNKNOWN) and are what the page shows in ``div.warning`` when a value is refused.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field, replace
from typing import Literal

AuthMethod = Literal["Off", "SMTP AUTH", "POP before SMTP", "OAuth2"]
EmailService = Literal["Microsoft Exchange Online", "Outlook.com"]
SecureConnection = Literal["None", "SSL/TLS", "STARTTLS"]

AUTH_METHODS: tuple[AuthMethod, ...] = ("Off", "SMTP AUTH", "POP before SMTP", "OAuth2")
EMAIL_SERVICES: tuple[EmailService, ...] = ("Microsoft Exchange Online", "Outlook.com")
SECURE_CONNECTIONS: tuple[SecureConnection, ...] = ("None", "SSL/TLS", "STARTTLS")

#: What choosing an e-mail service fills in (the guide's screen: smtp-mail.outlook.com / 587 / STARTTLS).
SERVICE_SERVERS: dict[str, tuple[str, int, SecureConnection]] = {
    "Microsoft Exchange Online": ("smtp.office365.com", 587, "STARTTLS"),
    "Outlook.com": ("smtp-mail.outlook.com", 587, "STARTTLS"),
}

_SERVER_CHARS = re.compile(r"^[A-Za-z0-9.\-]*$")
_SENDER_FORBIDDEN = set(":()<>[];¥\\")


@dataclass(frozen=True)
class EmailServerSettings:
    """Network > Email Server > Basic (and the same shape for Fax > Fax Server > Email Server Settings)."""

    auth_method: AuthMethod = "Off"
    email_service: EmailService = "Microsoft Exchange Online"
    account: str = ""
    password: str = ""
    sender: str = ""
    smtp_server: str = ""
    smtp_port: int = 25
    secure: SecureConnection = "None"
    cert_validation: bool = True
    pop3_server: str = ""
    pop3_port: int = 110

    def with_service(self, service: EmailService) -> EmailServerSettings:
        """The settings after choosing ``service`` with OAuth2: its server, port and STARTTLS filled in."""
        server, port, secure = SERVICE_SERVERS[service]
        return replace(self, email_service=service, smtp_server=server, smtp_port=port, secure=secure)


@dataclass(frozen=True)
class FieldError:
    """One refused field: the form field's key and the message the page shows."""

    field: str
    message: str


def _ascii(value: str) -> bool:
    return all(32 <= ord(c) < 127 for c in value)


def _valid_host(value: str) -> bool:
    if not value or not _SERVER_CHARS.match(value) or len(value) > 255:
        return False
    try:
        ipaddress.IPv4Address(value)
        return True
    except ValueError:
        pass
    if value.replace(".", "").isdigit():
        return False  # looks like an address but is not a valid IPv4 one
    labels = value.split(".")
    return all(label and len(label) <= 63 and not label.startswith("-") and not label.endswith("-")
               for label in labels)


def parse_port(raw: str, field_name: str, label: str) -> tuple[int | None, FieldError | None]:
    """An integer port 1–65535 from form text, or the page's error."""
    text = raw.strip()
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        return None, FieldError(field_name, f"Enter a value between 1 and 65535 for {label}.")
    return int(text), None


def validate_email_settings(s: EmailServerSettings) -> list[FieldError]:
    """Every rule the device enforces before it saves; an empty list means the settings are accepted."""
    errors: list[FieldError] = []
    if s.auth_method not in AUTH_METHODS:
        errors.append(FieldError("auth_method", "Select an Authentication Method."))
    if s.auth_method == "OAuth2" and s.email_service not in EMAIL_SERVICES:
        errors.append(FieldError("email_service", "Select an Email service."))
    if len(s.account) > 255 or not _ascii(s.account):
        errors.append(FieldError("account", "Enter the Authenticated Account using up to 255 ASCII characters."))
    if len(s.password) > 20 or not _ascii(s.password):
        errors.append(FieldError("password", "Enter the Authenticated Password using up to 20 ASCII characters."))
    if s.auth_method == "SMTP AUTH" and not s.account:
        errors.append(FieldError("account", "Enter the Authenticated Account."))
    sender_bad = (len(s.sender) > 255 or not _ascii(s.sender.replace("¥", "")) or s.sender.startswith(".")
                  or any(c in _SENDER_FORBIDDEN for c in s.sender))
    if sender_bad:
        errors.append(FieldError("sender", "Enter the Sender's Email Address using up to 255 characters. "
                                           "The following characters cannot be used: : ( ) < > [ ] ; ¥ and "
                                           "the address cannot start with \".\"."))
    if (s.auth_method != "Off" or s.smtp_server) and not _valid_host(s.smtp_server):
        errors.append(FieldError("smtp_server", "Enter the SMTP Server Address as an IPv4 address or FQDN "
                                                "using A-Z a-z 0-9 . -."))
    if not 1 <= s.smtp_port <= 65535:
        errors.append(FieldError("smtp_port", "Enter a value between 1 and 65535 for SMTP Server Port Number."))
    if s.secure not in SECURE_CONNECTIONS:
        errors.append(FieldError("secure", "Select a Secure Connection."))
    if s.auth_method == "POP before SMTP" and not _valid_host(s.pop3_server):
        errors.append(FieldError("pop3_server", "Enter the POP3 Server Address as an IPv4 address or FQDN "
                                                "using A-Z a-z 0-9 . -."))
    if not 1 <= s.pop3_port <= 65535:
        errors.append(FieldError("pop3_port", "Enter a value between 1 and 65535 for POP3 Server Port Number."))
    return errors


@dataclass(frozen=True)
class ServerlessSettings:
    """Epson Print Admin Serverless authentication settings relevant to Scan to My Email."""

    enabled: bool = True
    #: "device": the device's own sender address; "user": each user's own address (needs per-user sign-in).
    sender_mode: Literal["device", "user"] = "device"
    users: tuple[ServerlessUser, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ServerlessUser:
    """A registered Serverless user (ID, name, e-mail, whether the user may administer the printer)."""

    user_id: str
    name: str
    email: str
    printer_admin: bool = False
