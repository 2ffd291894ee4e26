"""SMTP AUTH on the tier as Exchange Online answers it: XOAUTH2 only, token checks, SMTP AUTH switches."""

from __future__ import annotations

import base64
from collections.abc import Callable

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from smtp_support import (
    ALICE,
    PRINTER,
    access_token,
    auth_xoauth2,
    client_context,
    issue_tokens,
    open_session,
    reply,
    tenant_settings,
    user_settings,
)

from harness.msft.smtp import xoauth2_blob, xoauth2_response
from harness.msft.tenant import ConditionalAccessPolicy, User
from harness.msft.tier import MicrosoftTier

OK = "235 2.7.0 Authentication successful"
REFUSED = "535 5.7.3 Authentication unsuccessful"
DISABLED = ("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the {}. "
            "Visit https://aka.ms/smtp_auth_disabled for more information.")


def xoauth2(tier: MicrosoftTier, upn: str = PRINTER, token: str | None = None) -> str:
    """One XOAUTH2 attempt on a fresh STARTTLS session; the reply as on the wire."""
    client, _ = open_session(tier)
    try:
        return reply(*auth_xoauth2(client, upn, token or access_token(tier, upn)))
    finally:
        client.close()


# --- before TLS, before hello, before AUTH -------------------------------------------------------------------
def test_auth_and_mail_before_starttls_are_refused(tier: MicrosoftTier) -> None:
    client, _ = open_session(tier, starttls=False)
    blob = xoauth2_blob(PRINTER, access_token(tier))
    assert reply(*client.docmd("AUTH", "XOAUTH2 " + blob)) == "504 5.7.4 Unrecognized authentication type"
    assert reply(*client.docmd("AUTH", "LOGIN")) == "504 5.7.4 Unrecognized authentication type"
    assert reply(*client.docmd("MAIL", f"FROM:<{PRINTER}>")) == "530 5.7.57 Client not authenticated to send mail."
    assert reply(*client.docmd("NOOP")) == "250 2.0.0 OK"
    client.close()


def test_hello_is_needed_again_after_starttls(tier: MicrosoftTier) -> None:
    client, _ = open_session(tier, starttls=False)
    client.starttls(context=client_context(tier))  # no EHLO after it: docmd() sends only what it is given
    blob = xoauth2_blob(PRINTER, access_token(tier))
    assert reply(*client.docmd("AUTH", "XOAUTH2 " + blob)) == "503 5.5.2 Send hello first"
    client.ehlo("printer.lab")
    assert reply(*client.docmd("AUTH", "XOAUTH2 " + blob)) == OK
    client.close()


def test_mail_before_auth_names_the_failed_auth(tier: MicrosoftTier) -> None:
    client, _ = open_session(tier)
    assert reply(*client.docmd("MAIL", f"FROM:<{PRINTER}>")) == "530 5.7.57 Client not authenticated to send mail."
    with user_settings(tier, PRINTER, smtp_auth_enabled=False):
        auth_xoauth2(client, PRINTER, access_token(tier))
    assert reply(*client.docmd("MAIL", f"FROM:<{PRINTER}>")) == (
        "530 5.7.57 Client not authenticated to send mail. Error: " + DISABLED.format("Mailbox"))
    client.close()


# --- mechanisms ---------------------------------------------------------------------------------------------
def test_basic_auth_login_is_disabled(tier: MicrosoftTier) -> None:
    client, _ = open_session(tier)
    assert reply(*client.docmd("AUTH", "LOGIN")) == "334 VXNlcm5hbWU6"
    assert reply(*client.docmd(base64.b64encode(PRINTER.encode()).decode())) == "334 UGFzc3dvcmQ6"
    assert reply(*client.docmd(base64.b64encode(b"Printer-Mailbox-Pa55!").decode())) == (
        "535 5.7.139 Authentication unsuccessful, basic authentication is disabled.")
    assert reply(*client.docmd("AUTH", "PLAIN " + base64.b64encode(f"\0{PRINTER}\0pw".encode()).decode())) == (
        "504 5.7.4 Unrecognized authentication type")
    assert reply(*client.docmd("AUTH", "CRAM-MD5")) == "504 5.7.4 Unrecognized authentication type"
    assert auth_xoauth2(client, PRINTER, access_token(tier))[0] == 235
    assert reply(*client.docmd("AUTH", "XOAUTH2 =")) == "503 5.5.2 Already authenticated"
    client.close()


def test_bad_base64_and_wrong_shape_leave_the_connection_usable(tier: MicrosoftTier) -> None:
    token = access_token(tier)
    client, _ = open_session(tier)
    assert reply(*client.docmd("AUTH", "XOAUTH2 not*base64!")) == "501 5.5.2 Cannot Base64-decode Client responses"
    for wrong in (f"user={PRINTER}\x01auth=Bearer {token}",             # no ^A^A terminator
                  f"user={PRINTER}\x01auth=Basic {token}\x01\x01",       # not a bearer token
                  f"auth=Bearer {token}\x01\x01",                        # no user
                  "\x01\x01", ""):
        encoded = base64.b64encode(wrong.encode()).decode() or "="
        assert reply(*client.docmd("AUTH", "XOAUTH2 " + encoded)) == REFUSED, wrong[:20]
    assert reply(*client.docmd("AUTH", "XOAUTH2")) == "334 "
    assert reply(*client.docmd("*")) == "501 5.7.0 Client initiated Authentication Exchange"
    assert reply(*client.docmd("AUTH", "XOAUTH2")) == "334 "
    assert reply(*client.docmd("%%%")) == "501 5.5.2 Cannot Base64-decode Client responses"
    assert auth_xoauth2(client, PRINTER, token) == (235, "2.7.0 Authentication successful")
    client.close()


def test_long_xoauth2_lines_are_accepted(tier: MicrosoftTier) -> None:
    upn = "longname@epsonlab.onmicrosoft.com"
    tenant = tier.state.tenant
    tenant.users.append(User(upn=upn, password="x" * 12, display_name="Long Name " + "x" * 7000))
    try:
        token = access_token(tier, upn)
        assert len("AUTH XOAUTH2 " + xoauth2_blob(upn, token)) > 12288
        assert xoauth2(tier, upn, token) == OK
        client, _ = open_session(tier)
        assert reply(*client.docmd("AUTH", "XOAUTH2")) == "334 "
        assert reply(*client.docmd(xoauth2_blob(upn, token))) == OK
        client.close()
    finally:
        tenant.users[:] = [u for u in tenant.users if u.upn != upn]


def test_lines_beyond_the_limit_get_a_reply_not_a_hang_up(tier: MicrosoftTier) -> None:
    client, _ = open_session(tier)
    assert reply(*client.docmd("AUTH", "XOAUTH2 " + "A" * 40000)) == (
        "500 5.5.6 Authentication Exchange line is too long")
    assert reply(*client.docmd("NOOP")) == "250 2.0.0 OK"
    client.close()


# --- tokens -------------------------------------------------------------------------------------------------
def forged(tier: MicrosoftTier) -> str:
    claims = jwt.decode(access_token(tier), options={"verify_signature": False})
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": tier.state.tokens.kid})


def wrong_audience(tier: MicrosoftTier) -> str:
    return str(issue_tokens(tier)["id_token"])  # signed by the tier, but for the app, not for Exchange


def refresh_instead(tier: MicrosoftTier) -> str:
    return str(issue_tokens(tier)["refresh_token"])


@pytest.mark.parametrize("make_token", [forged, wrong_audience, refresh_instead], ids=lambda f: f.__name__)
def test_bad_tokens_get_535_5_7_3(tier: MicrosoftTier, make_token: Callable[[MicrosoftTier], str]) -> None:
    client, _ = open_session(tier)
    assert reply(*auth_xoauth2(client, PRINTER, make_token(tier))) == REFUSED
    assert reply(*auth_xoauth2(client, PRINTER, access_token(tier))) == OK  # the same connection still works
    client.close()


def test_token_of_another_user_gets_535_5_7_3(tier: MicrosoftTier) -> None:
    assert xoauth2(tier, PRINTER, access_token(tier, ALICE)) == REFUSED
    assert xoauth2(tier, ALICE, access_token(tier, ALICE)) == OK


def test_expired_token_gets_535_5_7_3(tier: MicrosoftTier) -> None:
    token = access_token(tier)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert xoauth2(tier, PRINTER, token) == OK
    tier.state.clock.advance(claims["exp"] - tier.state.clock.now())  # type: ignore[attr-defined]
    assert xoauth2(tier, PRINTER, token) == REFUSED
    assert xoauth2(tier, PRINTER, access_token(tier)) == OK


# --- SMTP AUTH switches, security defaults, conditional access -------------------------------------------------
def test_smtp_auth_off_for_the_tenant(tier: MicrosoftTier) -> None:
    with tenant_settings(tier, smtp_auth_enabled=False):
        assert xoauth2(tier) == DISABLED.format("Tenant")
        with user_settings(tier, PRINTER, smtp_auth_enabled=True):  # an explicit mailbox value wins
            assert xoauth2(tier) == OK
    assert xoauth2(tier) == OK


def test_smtp_auth_off_for_the_mailbox(tier: MicrosoftTier) -> None:
    with user_settings(tier, PRINTER, smtp_auth_enabled=False):
        assert xoauth2(tier) == DISABLED.format("Mailbox")
        assert xoauth2(tier, ALICE) == OK


def test_security_defaults_lock_smtp_auth(tier: MicrosoftTier) -> None:
    with tenant_settings(tier, security_defaults=True):
        assert xoauth2(tier) == ("535 5.7.139 Authentication unsuccessful, user is locked by your organization's "
                                 "security defaults policy. Contact your administrator.")


def test_conditional_access_blocks_all_sign_ins_but_not_device_code_only_policies(tier: MicrosoftTier) -> None:
    blocking = ConditionalAccessPolicy(name="Block printers", users=[PRINTER], applies_to="all")
    with tenant_settings(tier, conditional_access=[blocking]):
        assert xoauth2(tier) == ("535 5.7.139 Authentication unsuccessful, the request did not meet the criteria "
                                 "to be authenticated successfully. Contact your administrator.")
        assert xoauth2(tier, ALICE) == OK
    device_code_only = ConditionalAccessPolicy(name="No device code", users=["all"], applies_to="device_code")
    with tenant_settings(tier, conditional_access=[device_code_only]):
        assert xoauth2(tier) == OK


def test_raw_xoauth2_response_shape() -> None:
    assert xoauth2_response("u@x.y", "t0k") == b"user=u@x.y\x01auth=Bearer t0k\x01\x01"
