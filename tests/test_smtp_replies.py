"""Exchange's reply texts: every reply aiosmtpd can make is reworded with an enhanced status code."""

from __future__ import annotations

import ast
import inspect
import re

import aiosmtpd.smtp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.msft.smtp.replies import (
    NOT_AUTHENTICATED,
    STARTTLS_FIRST,
    UNRECOGNIZED_AUTH,
    exchange_reply,
    greeting_text,
)
from harness.msft.smtp.xoauth2 import decode_initial_response, parse_xoauth2, xoauth2_response

ENHANCED = re.compile(r"^[245]\d\d [245]\.\d{1,3}\.\d{1,3} \S")


def aiosmtpd_literal_replies() -> list[str]:
    """Every reply aiosmtpd's SMTP class pushes as a plain string literal."""
    tree = ast.parse(inspect.getsource(aiosmtpd.smtp))
    found = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "push"
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.add(node.args[0].value)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and any(
                isinstance(t, ast.Name) and t.id in {"CODE_SUCCESS", "CODE_INVALID", "syntaxerr", "status"}
                for t in node.targets) and isinstance(node.value.value, str):
            found.add(node.value.value)
    return sorted(found)


@pytest.mark.parametrize("status", aiosmtpd_literal_replies())
def test_every_aiosmtpd_reply_gets_an_enhanced_code(status: str) -> None:
    translated = exchange_reply(status, "MAIL")
    if status[:3] in {"220", "334", "354"}:
        return
    assert ENHANCED.match(translated), (status, translated)


def test_the_starttls_gate_answers_per_command() -> None:
    gate = "530 Must issue a STARTTLS command first"
    assert exchange_reply(gate, "AUTH") == UNRECOGNIZED_AUTH
    assert exchange_reply(gate, "MAIL") == NOT_AUTHENTICATED
    assert exchange_reply(gate, "RSET") == STARTTLS_FIRST
    assert exchange_reply('500 Error: command "FOO" not recognized', "FOO") == "500 5.3.3 Unrecognized command 'FOO'"
    assert exchange_reply("500 Command line too long", "AUTH") == "500 5.5.6 Authentication Exchange line is too long"


@given(code=st.sampled_from(["250", "251", "421", "450", "451", "500", "501", "550", "554"]),
       text=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=40))
def test_any_plain_reply_gains_an_enhanced_code(code: str, text: str) -> None:
    translated = exchange_reply(f"{code} {text}", "NOOP")
    assert re.match(r"^\d{3} [245]\.\d{1,3}\.\d{1,3}\b", translated), translated


def test_ehlo_lines_and_challenges_are_left_alone() -> None:
    assert exchange_reply("250 SMTPUTF8", "EHLO") == "250 SMTPUTF8"
    assert exchange_reply("250-PIPELINING", "EHLO") == "250-PIPELINING"
    assert exchange_reply("334 ", "AUTH") == "334 "


def test_greeting_date_is_written_as_exchange_writes_it() -> None:
    assert greeting_text(1_762_168_340.0, "08DE2A6028D26C22") == (
        "Microsoft ESMTP MAIL Service ready at Mon, 3 Nov 2025 11:12:20 +0000 [08DE2A6028D26C22]")


@given(user=st.emails(), token=st.from_regex(r"[A-Za-z0-9._-]{1,400}", fullmatch=True))
def test_xoauth2_round_trip(user: str, token: str) -> None:
    parsed = parse_xoauth2(xoauth2_response(user, token))
    assert parsed is not None and (parsed.user, parsed.token) == (user, token)
    assert repr(parsed) == f"Xoauth2Credentials(user={user!r})"  # the token never shows


@given(st.binary(max_size=300))
def test_xoauth2_parser_never_raises(response: bytes) -> None:
    parsed = parse_xoauth2(response)
    assert parsed is None or (parsed.user and parsed.token)


def test_initial_response_decoding() -> None:
    assert decode_initial_response("=") == b""
    assert decode_initial_response("dXNlcg==") == b"user"
    assert decode_initial_response("dXNlcg") is None
    assert decode_initial_response("not base64!") is None
    assert decode_initial_response("é") is None
