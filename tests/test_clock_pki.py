"""The lab clock and the lab CA."""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path

import pytest
from cryptography import x509

from harness.clock import RealClock, VirtualClock
from harness.pki import TIER_HOSTNAMES, LabCA


def test_virtual_clock_moves_only_when_told() -> None:
    clock = VirtualClock(start=1_000.0)
    assert clock.now() == clock.now() == 1_000.0
    assert clock.advance(7200) == 8_200.0
    assert clock.set(9_000.0) == 9_000.0
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="forward"):
        clock.set(100.0)


def test_real_clock_follows_the_machine() -> None:
    a = RealClock().now()
    b = RealClock().now()
    assert b >= a > 1.7e9


def test_server_certificate_names_every_tier_host(tmp_path: Path) -> None:
    ca = LabCA.create()
    cert = x509.load_pem_x509_certificate(ca.issue().cert_pem)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = {str(v) for v in sans.get_values_for_type(x509.DNSName)}
    names |= {str(v) for v in sans.get_values_for_type(x509.IPAddress)}
    assert set(TIER_HOSTNAMES) <= names
    assert cert.issuer == ca.cert.subject


@pytest.mark.parametrize("server_name", ["smtp.office365.com", "login.microsoftonline.com", "localhost"])
def test_tls_handshake_verifies_against_the_bundle_only(tmp_path: Path, server_name: str) -> None:
    ca = LabCA.create()
    server_ctx = ca.issue().server_context(tmp_path, "srv")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        try:
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"ok")
        except (ssl.SSLError, OSError):
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = ssl.create_default_context(cafile=str(ca.write_bundle(tmp_path / "ca.pem")))
    with socket.create_connection(("127.0.0.1", port)) as raw, \
            client.wrap_socket(raw, server_hostname=server_name) as tls:
        assert tls.recv(2) == b"ok"
    thread.join(5)

    # A client that trusts another CA refuses the same server.
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    stranger = LabCA.create().client_context()
    with socket.create_connection(("127.0.0.1", port)) as raw, pytest.raises(ssl.SSLCertVerificationError):
        stranger.wrap_socket(raw, server_hostname=server_name)
    thread.join(5)
    listener.close()


def test_spki_pin_is_base64_sha256() -> None:
    pin = LabCA.create().issue().spki_sha256_b64
    assert len(pin) == 44 and pin.endswith("=")
