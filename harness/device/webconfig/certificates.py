"""Network Security > CA Certificate: import a PEM or DER CA certificate, list them, delete one.

The virtual devices trust the lab CA (and so the built-in tier's SMTP and sign-in servers) only once it is
imported here, as a real lab imports its CA.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.device.webconfig.base import WebConfigPage
from harness.reporting.steps import step


@dataclass(frozen=True)
class CaCertificate:
    """One row of the list; ``fingerprint`` is SHA-256, upper-case hex as the page shows it."""

    subject: str
    issuer: str
    valid_from: str
    valid_to: str
    fingerprint: str


class CaCertificatePage(WebConfigPage):
    page_key = "ca_certificates"

    @step("{device}: list the CA certificates")
    def certificates(self) -> list[CaCertificate]:
        """The imported CA certificates, in the page's order."""
        self.open()
        return self._listed()

    @step("{device}: import a CA certificate")
    def import_certificate(self, certificate: Path | bytes, *, filename: str = "ca.pem",
                           reload: bool = True) -> tuple[str, ...]:
        """Upload a PEM or DER file (a path, or its bytes); return the result or raise the page's refusal.

        ``reload`` False uses the page as it stands (right after :meth:`certificates` listed them).
        """
        if reload:
            self.open()
        if isinstance(certificate, Path):
            self.loc("file").set_input_files(certificate, timeout=self.timeout_ms)
        else:
            payload = {"name": filename, "mimeType": "application/octet-stream", "buffer": certificate}
            self.loc("file").set_input_files(payload, timeout=self.timeout_ms)  # type: ignore[arg-type]
        return self.submit("import")

    @step("{device}: delete the CA certificate {fingerprint}")
    def delete(self, fingerprint: str) -> tuple[str, ...]:
        """Delete the certificate with ``fingerprint`` through its row's Delete button."""
        self.open()
        wanted = fingerprint.replace(":", "").upper()
        row = self.loc("rows").filter(has_text=wanted)
        if not row.count():
            raise LookupError(f"{self.title}: no CA certificate with fingerprint {wanted} is listed")
        self.click_and_wait("delete", within=row.first)
        return self.result()

    def _listed(self) -> list[CaCertificate]:
        rows = self.table_rows("certificates")
        return [CaCertificate(subject=r.get("Subject", ""), issuer=r.get("Issuer", ""),
                              valid_from=r.get("Valid From", ""), valid_to=r.get("Valid To", ""),
                              fingerprint=r.get("Fingerprint (SHA-256)", "").replace(":", "").upper())
                for r in rows]
