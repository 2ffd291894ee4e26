"""The one redaction filter: known secrets in any encoding, credential shapes, bytes, files and zip archives."""

from __future__ import annotations

import base64
import json
import zipfile
from pathlib import Path
from urllib.parse import quote_plus

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.msft.identity.devicecodes import DeviceCodeStore
from harness.msft.smtp.xoauth2 import xoauth2_blob
from harness.reporting.redaction import REDACTED, Redactor, redactor

PASSWORD = "Tr0ub4dor&3 horse"


def fresh(*secrets: str) -> Redactor:
    r = Redactor()
    r.register(*secrets)
    return r


def test_a_registered_secret_is_removed_in_plain_url_json_and_base64_forms() -> None:
    r = fresh(PASSWORD)
    for text in (f"typed {PASSWORD} here", f"pw={quote_plus(PASSWORD)}&x=1", json.dumps({"v": PASSWORD}),
                 base64.b64encode(f"prefix {PASSWORD} suffix".encode()).decode()):
        out = r.redact_text(text)
        assert PASSWORD not in out and quote_plus(PASSWORD) not in out
        assert REDACTED in out, text


def test_credential_shapes_are_removed_without_registration() -> None:
    token = "eyJhbGciOiJSUzI1NiJ9.eyJ1cG4iOiJhQGIuYyJ9.c2lnbmF0dXJlLXBhcnQ"
    r = Redactor()
    assert token not in r.redact_text(f"Authorization: Bearer {token}")
    assert token not in r.redact_text(f'{{"access_token": "{token}"}}')
    blob = xoauth2_blob("printer@contoso.example", "opaque-access-token-value")
    assert r.redact_text(f"AUTH XOAUTH2 {blob}") == f"AUTH XOAUTH2 {REDACTED}"
    assert "opaque-access-token-value" not in r.redact_text("user=a@b\x01auth=Bearer opaque-access-token-value\x01")
    assert r.redact_text("username=admin&password=hunter2&next=/") == f"username=admin&password={REDACTED}&next=/"
    assert r.redact_text('{"client_secret": "s3cr3t~value"}') == f'{{"client_secret": "{REDACTED}"}}'


def test_ordinary_text_is_left_alone() -> None:
    text = "Connection Test: Error 360. Password: required. Signed in as printer@contoso.example"
    assert fresh(PASSWORD).redact_text(text) == text


def test_redact_bytes_keeps_binary_content_intact_apart_from_the_secret() -> None:
    r = fresh(PASSWORD)
    data = bytes(range(256)) + PASSWORD.encode() + b"\xff\xfe"
    out = r.redact_bytes(data)
    assert PASSWORD.encode() not in out
    assert out.startswith(bytes(range(256))) and out.endswith(REDACTED.encode() + b"\xff\xfe")


def test_redact_zip_rewrites_every_member_also_nested(tmp_path: Path) -> None:
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("deep.txt", f"deep {PASSWORD}")
    trace = tmp_path / "trace.zip"
    with zipfile.ZipFile(trace, "w") as z:
        z.writestr("trace.trace", json.dumps({"type": "input", "text": PASSWORD}))
        z.writestr("resources/abc.dat", f"admin_password={quote_plus(PASSWORD)}".encode())
        z.writestr("nested.zip", inner.read_bytes())
        z.writestr("resources/", b"")
    fresh(PASSWORD).redact_file(trace)
    with zipfile.ZipFile(trace) as z:
        names = z.namelist()
        contents = {n: z.read(n) for n in names}
    assert names == ["trace.trace", "resources/abc.dat", "nested.zip", "resources/"]
    assert all(PASSWORD.encode() not in c and quote_plus(PASSWORD).encode() not in c for c in contents.values())
    nested = tmp_path / "out.zip"
    nested.write_bytes(contents["nested.zip"])
    with zipfile.ZipFile(nested) as z:
        assert z.read("deep.txt") == f"deep {REDACTED}".encode()


def test_redact_file_leaves_a_clean_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_text("nothing secret")
    before = path.stat().st_mtime_ns
    fresh(PASSWORD).redact_file(path)
    assert path.stat().st_mtime_ns == before


def test_the_tier_registers_the_codes_it_issues() -> None:
    device_code, user_code, _ = DeviceCodeStore().create("client", ["openid"], 0.0, 900, 5)
    assert {device_code, user_code} <= redactor().secrets
    assert user_code not in redactor().redact_text(f"Enter the code {user_code} to sign in")


secret_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=6, max_size=40)


@settings(max_examples=150, deadline=None)
@given(secret=secret_text, before=st.text(max_size=60), after=st.text(max_size=60),
       encoding=st.sampled_from(["plain", "json", "url", "base64"]))
def test_a_registered_secret_embedded_anywhere_is_removed(secret: str, before: str, after: str,
                                                          encoding: str) -> None:
    r = fresh(secret)
    if encoding == "plain":
        text, probe = before + secret + after, secret
    elif encoding == "json":
        text, probe = json.dumps(before + secret + after), json.dumps(secret)[1:-1]
    elif encoding == "url":
        text, probe = quote_plus(before + secret + after), quote_plus(secret)
    else:
        text = base64.b64encode((before + secret + after).encode()).decode()
        probe = base64.b64encode(secret.encode()).decode()[:8]  # any 8 characters of it pinned to the secret
    out = r.redact_text(text)
    assert secret not in out
    if encoding != "base64":
        assert probe not in out
    else:
        assert REDACTED in out


def test_a_public_value_stays_even_when_it_is_also_a_password() -> None:
    r = fresh("X4ZB012345", PASSWORD)  # a device still on its factory admin password: the serial on its label
    r.allow("X4ZB012345")
    assert r.redact_text(f"serial X4ZB012345, {PASSWORD}") == f"serial X4ZB012345, {REDACTED}"
    r.register("X4ZB012345")
    assert "X4ZB012345" in r.redact_text("serial X4ZB012345")
