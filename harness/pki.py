"""The lab CA and the server certificates of the Microsoft tier (and anything else on the lab's wire)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: Host names the built-in tier answers for, as devices and browsers are configured in the guide.
TIER_HOSTNAMES: tuple[str, ...] = (
    "login.microsoftonline.com",
    "microsoft.com",
    "www.microsoft.com",
    "smtp.office365.com",
    "smtp-mail.outlook.com",
    "outlook.office365.com",
    "graph.microsoft.com",
    "localhost",
    "127.0.0.1",
)

_VALIDITY = dt.timedelta(days=825)


@dataclass(frozen=True)
class ServerCertificate:
    """A PEM certificate and key issued by the lab CA, with the facts clients pin on."""

    cert_pem: bytes
    key_pem: bytes
    hostnames: tuple[str, ...]

    @property
    def spki_sha256_b64(self) -> str:
        """Base64 SHA-256 of the SubjectPublicKeyInfo, for Chromium's --ignore-certificate-errors-spki-list."""
        cert = x509.load_pem_x509_certificate(self.cert_pem)
        spki = cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(hashlib.sha256(spki).digest()).decode()

    def write(self, directory: Path, stem: str) -> tuple[Path, Path]:
        """Write ``stem.crt`` and ``stem.key`` (0600) into ``directory``; return both paths."""
        directory.mkdir(parents=True, exist_ok=True)
        crt, key = directory / f"{stem}.crt", directory / f"{stem}.key"
        crt.write_bytes(self.cert_pem)
        key.touch(mode=0o600, exist_ok=True)
        key.chmod(0o600)
        key.write_bytes(self.key_pem)
        return crt, key

    def server_context(self, directory: Path, stem: str) -> ssl.SSLContext:
        """A TLS server context presenting this certificate."""
        crt, key = self.write(directory, stem)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(crt, key)
        return ctx


class LabCA:
    """A self-signed certificate authority for one lab; issues server certificates."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> None:
        self._key = key
        self.cert = cert

    @classmethod
    def create(cls, name: str = "epson-hil Lab CA") -> LabCA:
        """Make a fresh CA (P-256, valid ten years)."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "epson-hil"),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]
        )
        now = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                    key_encipherment=False, data_encipherment=False, key_agreement=False,
                    encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert)

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def cert_der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    def issue(self, hostnames: tuple[str, ...] = TIER_HOSTNAMES) -> ServerCertificate:
        """Issue a server certificate whose SANs are ``hostnames`` (DNS names and IP addresses)."""
        if not hostnames:
            raise ValueError("a server certificate needs at least one host name")
        key = ec.generate_private_key(ec.SECP256R1())
        sans: list[x509.GeneralName] = []
        for name in hostnames:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                sans.append(x509.DNSName(name))
        now = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False
            )
            .sign(self._key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return ServerCertificate(cert.public_bytes(serialization.Encoding.PEM), key_pem, tuple(hostnames))

    def write_bundle(self, path: Path) -> Path:
        """Write the CA certificate as a PEM bundle file for clients (msal, smtplib, msmtp, curl)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.cert_pem)
        return path

    def client_context(self) -> ssl.SSLContext:
        """A TLS client context that trusts exactly this CA."""
        return ssl.create_default_context(cadata=self.cert_pem.decode())
