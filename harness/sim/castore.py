"""The virtual device's CA certificate store (Network Security > CA Certificate)."""

from __future__ import annotations

import hashlib
import ssl
import threading
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

MAX_CERTIFICATES = 10


class CertificateImportError(ValueError):
    """The uploaded file is not a CA certificate the device can use; the message is the page's text."""


@dataclass(frozen=True)
class CaCertificate:
    """An imported CA certificate as the CA Certificate page lists it."""

    der: bytes
    subject: str
    issuer: str
    not_before: str
    not_after: str

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.der).hexdigest().upper()

    @property
    def pem(self) -> str:
        return ssl.DER_cert_to_PEM_cert(self.der)


def parse_certificate(data: bytes) -> CaCertificate:
    """Read one PEM or DER certificate; refuse anything else with the page's message."""
    try:
        cert = (x509.load_pem_x509_certificate(data) if b"-----BEGIN CERTIFICATE-----" in data
                else x509.load_der_x509_certificate(data))
    except ValueError:
        raise CertificateImportError("The file is not a valid certificate. Select a PEM or DER file.") from None
    try:
        ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        ca = cert.issuer == cert.subject
    if not ca:
        raise CertificateImportError("The certificate is not a CA certificate.")
    return CaCertificate(
        der=cert.public_bytes(serialization.Encoding.DER), subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(), not_before=cert.not_valid_before_utc.strftime("%Y-%m-%d %H:%M:%S"),
        not_after=cert.not_valid_after_utc.strftime("%Y-%m-%d %H:%M:%S"),
    )


class CaStore:
    """Imported CA certificates; builds the TLS client context the device's services use."""

    def __init__(self) -> None:
        self._certs: list[CaCertificate] = []
        self._lock = threading.Lock()

    def add(self, data: bytes) -> CaCertificate:
        cert = parse_certificate(data)
        with self._lock:
            if any(c.fingerprint == cert.fingerprint for c in self._certs):
                raise CertificateImportError("The certificate is already imported.")
            if len(self._certs) >= MAX_CERTIFICATES:
                raise CertificateImportError(f"Up to {MAX_CERTIFICATES} CA certificates can be imported. "
                                             "Delete a certificate and try again.")
            self._certs.append(cert)
        return cert

    def remove(self, fingerprint: str) -> bool:
        with self._lock:
            before = len(self._certs)
            self._certs = [c for c in self._certs if c.fingerprint != fingerprint.upper()]
            return len(self._certs) < before

    def certificates(self) -> list[CaCertificate]:
        with self._lock:
            return list(self._certs)

    def client_context(self, verify: bool) -> ssl.SSLContext:
        """A TLS client context: verifying against exactly these CAs, or (validation off) verifying nothing."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if not verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return ctx
        pems = "".join(c.pem for c in self.certificates())
        if pems:
            ctx.load_verify_locations(cadata=pems)
        return ctx
