"""Device Management > Export and Import Setting Value: the settings file a harness can restore a device from.

A JSON file: the configuration in clear, the secrets (SMTP/POP passwords) encrypted with the password the
administrator gives at export (PBKDF2 + Fernet), and no sign-ins or tokens at all. Importing validates the
whole file with the device's own rules before anything changes; any fault refuses the file with a message.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import asdict, dataclass, fields
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from harness.clock import iso
from harness.sim.castore import MAX_CERTIFICATES, CaCertificate, CertificateImportError, parse_certificate
from harness.sim.device import VirtualDevice, user_slot
from harness.sim.settings import EmailServerSettings, ServerlessSettings, ServerlessUser, validate_email_settings
from harness.sim.webconfig import facts
from harness.sim.webconfig.pages.rules import EXTENDED_BLOCKS_OAUTH2, rule_enforced
from harness.sim.webconfig.users import DUPLICATE_USER, MAX_USERS, TOO_MANY_USERS, duplicate_ids, user_errors

FORMAT = "EPSON Web Config setting values"
VERSION = 1
KDF_ITERATIONS = 100_000
MAX_FILE_BYTES = 256 * 1024

BAD_PASSWORD = "Enter a password using 8 to 20 ASCII characters."
NOT_A_SETTINGS_FILE = "The file cannot be imported. Select a file exported from Web Config of this printer."
WRONG_PASSWORD = "The password is incorrect."
_SECRET_FIELDS = ("password",)


class SettingsFileError(ValueError):
    """The file is refused; the message is the page's text."""


@dataclass(frozen=True)
class ImportedSettings:
    """Everything a valid file restores."""

    device_name: str
    email: EmailServerSettings
    fax_email: EmailServerSettings | None
    network: str | None
    serverless: ServerlessSettings | None
    ca_certificates: tuple[CaCertificate, ...]


def password_ok(password: str) -> bool:
    return 8 <= len(password) <= 20 and all(32 < ord(c) < 127 for c in password)


def _fernet(password: str, salt: bytes) -> Fernet:
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=KDF_ITERATIONS)
    return Fernet(base64.urlsafe_b64encode(kdf.derive(password.encode())))


def _public(settings: EmailServerSettings) -> dict[str, Any]:
    return {k: v for k, v in asdict(settings).items() if k not in _SECRET_FIELDS}


def export_settings(device: VirtualDevice, password: str) -> bytes:
    """The device's settings file, secrets encrypted with ``password`` (which must satisfy :func:`password_ok`)."""
    if not password_ok(password):
        raise SettingsFileError(BAD_PASSWORD)
    with device.lock:
        config = device.config
        certificates = [c.pem for c in device.ca.certificates()]
    settings: dict[str, Any] = {"device_name": config.device_name, "email": _public(config.email),
                                "ca_certificates": certificates}
    secrets = {"email": {k: getattr(config.email, k) for k in _SECRET_FIELDS}}
    if facts.has(device, "fax_server_email"):
        settings["fax_email"] = _public(config.fax_email)
        secrets["fax_email"] = {k: getattr(config.fax_email, k) for k in _SECRET_FIELDS}
    if facts.has(device, "extended_network"):
        settings["network"] = config.network
    if facts.has(device, "serverless"):
        settings["serverless"] = asdict(config.serverless)
    salt = os.urandom(16)
    token = _fernet(password, salt).encrypt(json.dumps(secrets).encode())
    document = {
        "format": FORMAT, "version": VERSION, "model": facts.model_name(device),
        "serial": device.identity.serial, "firmware": device.identity.firmware,
        "exported_at": iso(device.clock.now()), "settings": settings,
        "secrets": {"kdf": "pbkdf2-sha256", "iterations": KDF_ITERATIONS,
                    "salt": base64.b64encode(salt).decode(), "data": token.decode()},
    }
    return json.dumps(document, indent=2, ensure_ascii=False).encode()


def _mapping(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SettingsFileError(f"{NOT_A_SETTINGS_FILE} ({where})")
    return value


def _email(raw: object, secrets: dict[str, Any], where: str, label: str) -> EmailServerSettings:
    data = _mapping(raw, where)
    values = {**data, **_mapping(secrets.get(where, {}), where)}
    expected = {f.name: f.type for f in fields(EmailServerSettings)}
    if set(values) != set(expected):
        raise SettingsFileError(f"{NOT_A_SETTINGS_FILE} ({where})")
    for name, value in values.items():
        wanted = {"smtp_port": int, "pop3_port": int, "cert_validation": bool}.get(name, str)
        if not isinstance(value, wanted) or (wanted is int and isinstance(value, bool)):
            raise SettingsFileError(f"{NOT_A_SETTINGS_FILE} ({where}.{name})")
    settings = EmailServerSettings(**values)
    errors = validate_email_settings(settings)
    if errors:
        raise SettingsFileError(f"The file contains invalid settings: {label}: {errors[0].message}")
    return settings


def _serverless(raw: object) -> ServerlessSettings:
    data = _mapping(raw, "serverless")
    users_raw = data.get("users", [])
    if (not isinstance(data.get("enabled"), bool) or data.get("sender_mode") not in ("device", "user")
            or not isinstance(users_raw, list)):
        raise SettingsFileError(f"{NOT_A_SETTINGS_FILE} (serverless)")
    users = []
    for item in users_raw:
        user = _mapping(item, "serverless.users")
        uid, name, email, admin = (user.get("user_id"), user.get("name"), user.get("email"),
                                   user.get("printer_admin", False))
        if not all(isinstance(v, str) for v in (uid, name, email)) or not isinstance(admin, bool):
            raise SettingsFileError(f"{NOT_A_SETTINGS_FILE} (serverless.users)")
        errors = user_errors(str(uid), str(name), str(email))
        if errors:
            raise SettingsFileError(f"The file contains invalid settings: Serverless user {uid}: {errors[0]}")
        users.append(ServerlessUser(str(uid), str(name), str(email), admin))
    if duplicate_ids([u.user_id for u in users]):
        raise SettingsFileError(f"The file contains invalid settings: {DUPLICATE_USER}")
    if len(users) > MAX_USERS:
        raise SettingsFileError(f"The file contains invalid settings: {TOO_MANY_USERS}")
    return ServerlessSettings(enabled=data["enabled"], sender_mode=data["sender_mode"], users=tuple(users))


def _certificates(raw: object) -> tuple[CaCertificate, ...]:
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise SettingsFileError(f"{NOT_A_SETTINGS_FILE} (ca_certificates)")
    certs: list[CaCertificate] = []
    for pem in raw:
        try:
            cert = parse_certificate(pem.encode())
        except CertificateImportError as exc:
            raise SettingsFileError(f"The file contains invalid settings: CA Certificate: {exc}") from None
        if all(c.fingerprint != cert.fingerprint for c in certs):
            certs.append(cert)
    if len(certs) > MAX_CERTIFICATES:
        raise SettingsFileError(f"The file contains invalid settings: more than {MAX_CERTIFICATES} CA certificates.")
    return tuple(certs)


def read_settings(device: VirtualDevice, data: bytes, password: str) -> ImportedSettings:
    """Parse and validate a settings file for ``device``; raise :class:`SettingsFileError` with the page's text."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SettingsFileError(NOT_A_SETTINGS_FILE) from None
    document = _mapping(document, "file")
    if document.get("format") != FORMAT or document.get("version") != VERSION:
        raise SettingsFileError(NOT_A_SETTINGS_FILE)
    if document.get("model") != facts.model_name(device):
        raise SettingsFileError(f"The file cannot be imported: it was exported from a different model "
                                f"({str(document.get('model'))[:40]}).")
    sealed = _mapping(document.get("secrets"), "secrets")
    try:
        salt = base64.b64decode(str(sealed.get("salt", "")), validate=True)
        plain = _fernet(password, salt).decrypt(str(sealed.get("data", "")).encode())
        secrets = _mapping(json.loads(plain), "secrets")
    except InvalidToken:
        raise SettingsFileError(WRONG_PASSWORD) from None
    except ValueError:
        raise SettingsFileError(NOT_A_SETTINGS_FILE) from None
    settings = _mapping(document.get("settings"), "settings")
    name = settings.get("device_name")
    if not isinstance(name, str) or not 1 <= len(name) <= 53 or not all(c.isascii() and (c.isalnum() or c == "-")
                                                                        for c in name):
        raise SettingsFileError("The file contains invalid settings: Device Name must be 1 to 53 characters "
                                "A-Z a-z 0-9 -.")
    imported = ImportedSettings(
        device_name=name,
        email=_email(settings.get("email"), secrets, "email", "Email Server"),
        fax_email=(_email(settings.get("fax_email"), secrets, "fax_email", "Fax Server")
                   if facts.has(device, "fax_server_email") else None),
        network=_network(settings.get("network")) if facts.has(device, "extended_network") else None,
        serverless=_serverless(settings.get("serverless")) if facts.has(device, "serverless") else None,
        ca_certificates=_certificates(settings.get("ca_certificates", [])),
    )
    methods = {imported.email.auth_method, imported.fax_email.auth_method if imported.fax_email else "Off"}
    if imported.network == "extended" and "OAuth2" in methods and rule_enforced(device):
        raise SettingsFileError(f"The file contains invalid settings: {EXTENDED_BLOCKS_OAUTH2}")
    return imported


def _network(raw: object) -> str:
    if raw not in ("standard", "extended"):
        raise SettingsFileError(f"{NOT_A_SETTINGS_FILE} (network)")
    return str(raw)


def apply_settings(device: VirtualDevice, imported: ImportedSettings) -> None:
    """Restore ``imported`` on the device in one step; users no longer registered are signed out."""
    with device.lock:
        changes: dict[str, object] = {"device_name": imported.device_name, "email": imported.email}
        if imported.fax_email is not None:
            changes["fax_email"] = imported.fax_email
        if imported.network is not None:
            changes["network"] = imported.network
        if imported.serverless is not None:
            kept = {u.user_id for u in imported.serverless.users}
            for user in device.config.serverless.users:
                if user.user_id not in kept:
                    device.sign_out(user_slot(user.user_id))
            changes["serverless"] = imported.serverless
        device.update(**changes)
        for cert in device.ca.certificates():
            device.ca.remove(cert.fingerprint)
        for cert in imported.ca_certificates:
            device.ca.add(cert.der)

