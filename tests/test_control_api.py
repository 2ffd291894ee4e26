"""The tier's control API over HTTPS with its client: auth, loopback only, every switch, clear 4xx errors."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.asgi import AsgiService, bind_tcp
from harness.clock import RealClock
from harness.msft import errors
from harness.msft.control import create_control_app
from harness.msft.control_client import ControlApiError, TierControl
from harness.msft.errors import GrantError
from harness.msft.mailstore import parse_message
from harness.msft.state import TierState
from harness.msft.tenant import SMTP_SEND, SignInEvent, Tenant
from harness.msft.tier import MicrosoftTier
from harness.pki import LabCA

PRINTER = "printer@epsonlab.onmicrosoft.com"
ALICE = "alice@epsonlab.onmicrosoft.com"


@pytest.fixture
def control(tier: MicrosoftTier) -> Iterator[TierControl]:
    """A client of the session tier's control API; the tenant's switches and revocations are put back after."""
    with tier.state.restoring(), TierControl(tier.control_url, tier.control_token, tier.ca_bundle) as client:
        yield client


@contextmanager
def serve(app: Any, host: str, ca: LabCA, directory: Path) -> Iterator[int]:
    """Serve ``app`` over HTTPS on ``host`` (certificate from ``ca``) in its own loop thread; yield the port."""
    certfile, keyfile = ca.issue((host,)).write(directory, "control")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    service = AsgiService(app, bind_tcp(host), certfile, keyfile)
    asyncio.run_coroutine_threadsafe(service.start(), loop).result(10)
    try:
        yield service.port
    finally:
        asyncio.run_coroutine_threadsafe(service.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def raw(control: TierControl, method: str, path: str, **kwargs: Any) -> requests.Response:
    return control.session.request(method, control.url + path, timeout=10, **kwargs)


def error_of(call: Any) -> ControlApiError:
    with pytest.raises(ControlApiError) as exc:
        call()
    return exc.value


# --- access ------------------------------------------------------------------------------------------------
def test_requests_without_the_bearer_token_are_refused(tier: MicrosoftTier) -> None:
    url = tier.control_url + "/tenant"
    with requests.Session() as anonymous:
        anonymous.trust_env = False
        anonymous.verify = str(tier.ca_bundle)
        missing = anonymous.get(url, timeout=10)
        wrong = anonymous.get(url, headers={"Authorization": "Bearer " + "x" * 43}, timeout=10)
        other_scheme = anonymous.get(url, headers={"Authorization": f"Basic {tier.control_token}"}, timeout=10)
    for response in (missing, wrong, other_scheme):
        assert response.status_code == 401
        assert response.json()["error"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert tier.control_token not in response.text


def local_address() -> str | None:
    """This host's non-loopback address, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") else address


def test_clients_off_loopback_are_refused_even_with_the_token(tmp_path: Path, default_tenant: Tenant) -> None:
    address = local_address()
    if address is None:
        pytest.skip("this host has no non-loopback IPv4 address to connect from")
    ca = LabCA.create()
    app = create_control_app(TierState(tenant=default_tenant), "secret-token", dict)
    bundle = ca.write_bundle(tmp_path / "ca.pem")
    with serve(app, address, ca, tmp_path) as port, \
            TierControl(f"https://{address}:{port}", "secret-token", bundle) as client:
        refused = error_of(client.health)
    assert refused.status == 403 and refused.body["error"] == "forbidden"


def test_health_and_info_describe_the_tier(tier: MicrosoftTier, control: TierControl) -> None:
    health = control.health()
    assert health["status"] == "ok" and health["tenant_id"] == tier.state.tenant.tenant_id
    info = control.info()
    assert info["authority"] == tier.authority and info["smtp"]["port"] == tier.smtp_port


# --- clock -------------------------------------------------------------------------------------------------
def test_clock_advance_moves_the_lab_clock(tier: MicrosoftTier, control: TierControl) -> None:
    before = control.clock()
    assert before["kind"] == "virtual" and before["now"] == tier.state.clock.now()
    after = control.advance_clock(7.5)
    assert after["now"] == before["now"] + 7.5 == tier.state.clock.now()


def test_clock_advance_on_a_real_clock_is_a_conflict(tmp_path: Path, default_tenant: Tenant) -> None:
    ca = LabCA.create()
    app = create_control_app(TierState(tenant=default_tenant, clock=RealClock()), "t0ken", dict)
    bundle = ca.write_bundle(tmp_path / "ca.pem")
    with serve(app, "127.0.0.1", ca, tmp_path) as port, \
            TierControl(f"https://127.0.0.1:{port}", "t0ken", bundle) as client:
        assert client.clock()["kind"] == "real"
        conflict = error_of(lambda: client.advance_clock(60))
    assert conflict.status == 409 and "real clock" in conflict.body["message"]


# --- bad input ---------------------------------------------------------------------------------------------
BAD_BODIES = [
    ("POST", "/clock/advance", {"seconds": -1}, 422, "seconds"),
    ("POST", "/clock/advance", {"seconds": "60"}, 422, "seconds"),
    ("POST", "/clock/advance", {}, 422, "seconds"),
    ("POST", "/clock/advance", {"seconds": 1, "minutes": 1}, 422, "minutes"),
    ("PUT", "/tenant/smtp-auth", {"enabled": "yes"}, 422, "enabled"),
    ("PUT", "/tenant/security-defaults", {"enabled": 1}, 422, "enabled"),
    ("PUT", f"/users/{PRINTER}/smtp-auth", {}, 422, "enabled"),
    ("POST", "/tenant/conditional-access", {"name": "p", "applies_to": "sometimes"}, 422, "applies_to"),
    ("POST", "/tenant/conditional-access", {"users": ["all"]}, 422, "name"),
    ("POST", "/tenant/conditional-access", {"name": "p", "users": "all"}, 422, "users"),
    ("POST", "/apps/3c8a6f2b-9d41-4e7a-b0c5-1f2e3d4a5b6c/consent", {"principal": "nobody@x.com"}, 422,
     "principal"),
    ("POST", "/apps/3c8a6f2b-9d41-4e7a-b0c5-1f2e3d4a5b6c/consent", {"scopes": ["openid"]}, 422, "scopes"),
    ("PUT", "/users/nobody@epsonlab.onmicrosoft.com/smtp-auth", {"enabled": True}, 404, "upn"),
    ("POST", "/users/nobody@epsonlab.onmicrosoft.com/revoke-sessions", None, 404, "upn"),
    ("PUT", "/apps/not-a-guid/public-client-flows", {"enabled": True}, 404, "client_id"),
    ("GET", "/mailboxes/not-an-address/messages", None, 422, "address"),
    ("DELETE", "/tenant/conditional-access/no such policy", None, 404, "name"),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "field"), BAD_BODIES)
def test_bad_requests_get_a_4xx_naming_the_field(control: TierControl, method: str, path: str, body: Any,
                                                  status: int, field: str) -> None:
    refused = error_of(lambda: control.request(method, path, body))
    assert refused.status == status
    assert refused.field == field and field in refused.body["message"]


@pytest.mark.parametrize("payload", [b"not json", b"[1, 2]", b'{"seconds": NaN}', b'{"seconds": Infinity}',
                                     b"\xff\xfe", b"", b'{"seconds": 1'])
def test_unreadable_bodies_get_400_and_the_api_keeps_serving(control: TierControl, payload: bytes) -> None:
    response = raw(control, "POST", "/clock/advance", data=payload, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["field"] == "body"
    assert control.health()["status"] == "ok"


def test_oversized_unknown_and_wrong_method_requests_get_json_errors(control: TierControl) -> None:
    huge = raw(control, "PUT", "/tenant/smtp-auth", data=b'{"enabled": true, "x": "' + b"a" * 100_000 + b'"}')
    assert huge.status_code == 413 and huge.json()["field"] == "body"
    unknown = raw(control, "GET", "/no/such/endpoint")
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
    wrong = raw(control, "DELETE", "/clock")
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"
    assert control.health()["status"] == "ok"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
BODY_ENDPOINTS = [("POST", "/clock/advance"), ("PUT", "/tenant/smtp-auth"), ("PUT", "/tenant/security-defaults"),
                  ("PUT", f"/users/{PRINTER}/smtp-auth"), ("POST", "/tenant/conditional-access"),
                  ("PUT", "/apps/3c8a6f2b-9d41-4e7a-b0c5-1f2e3d4a5b6c/public-client-flows"),
                  ("POST", "/apps/3c8a6f2b-9d41-4e7a-b0c5-1f2e3d4a5b6c/consent")]


def test_random_bodies_never_get_a_5xx(tmp_path: Path, default_tenant: Tenant) -> None:
    ca = LabCA.create()
    bundle = ca.write_bundle(tmp_path / "ca.pem")
    app = create_control_app(TierState(tenant=default_tenant), "fuzz", dict)  # a private tier: bodies may be valid
    with serve(app, "127.0.0.1", ca, tmp_path) as port, TierControl(f"https://127.0.0.1:{port}", "fuzz",
                                                                    bundle) as client:

        @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(endpoint=st.sampled_from(BODY_ENDPOINTS), body=JSON_VALUES | st.binary(max_size=64))
        def check(endpoint: tuple[str, str], body: Any) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            response = raw(client, *endpoint, data=data, headers={"Content-Type": "application/json"})
            assert response.status_code < 500, response.text
            assert isinstance(response.json(), dict | list)

        check()
        assert client.health()["status"] == "ok"


# --- tenant switches ---------------------------------------------------------------------------------------
def test_tenant_view_has_the_switches_and_no_password(tier: MicrosoftTier, control: TierControl) -> None:
    view = control.tenant()
    assert view["tenant_id"] == tier.state.tenant.tenant_id and view["smtp_auth_enabled"] is True
    assert {u["upn"] for u in view["users"]} == {u.upn for u in tier.state.tenant.users}
    text = json.dumps(view)
    assert "password" not in text
    assert not [u.upn for u in tier.state.tenant.users if u.password in text]


def test_smtp_auth_switches_take_effect(tier: MicrosoftTier, control: TierControl) -> None:
    tenant = tier.state.tenant
    assert control.set_tenant_smtp_auth(False) == {"smtp_auth_enabled": False}
    assert tenant.smtp_auth_block(PRINTER) == "tenant"
    assert control.set_mailbox_smtp_auth(PRINTER, True)["smtp_auth_block"] is None  # the mailbox's value wins
    assert tenant.smtp_auth_block(PRINTER) is None and tenant.smtp_auth_block(ALICE) == "tenant"
    control.set_mailbox_smtp_auth(PRINTER, None)  # inherit again
    assert tenant.user(PRINTER).smtp_auth_enabled is None  # type: ignore[union-attr]
    assert tenant.smtp_auth_block(PRINTER) == "tenant"
    control.set_tenant_smtp_auth(True)
    control.set_mailbox_smtp_auth(ALICE, False)
    assert tenant.smtp_auth_block(ALICE) == "mailbox" and tenant.smtp_auth_block(PRINTER) is None
    view = {u["upn"]: u for u in control.tenant()["users"]}
    assert view[ALICE]["smtp_auth_enabled"] is False and view[ALICE]["smtp_auth_block"] == "mailbox"


def test_security_defaults_block_smtp_auth(tier: MicrosoftTier, control: TierControl) -> None:
    control.set_security_defaults(True)
    assert tier.state.tenant.security_defaults and tier.state.tenant.smtp_auth_block(PRINTER) == "security_defaults"
    control.set_security_defaults(False)
    assert tier.state.tenant.smtp_auth_block(PRINTER) is None


def test_conditional_access_policies_are_added_listed_and_deleted(tier: MicrosoftTier,
                                                                  control: TierControl) -> None:
    tenant = tier.state.tenant
    name = "Block device code / printers"
    added = control.add_conditional_access(name, users=[PRINTER.upper()], applies_to="device_code")
    assert added["name"] == name and added["applies_to"] == "device_code"
    assert tenant.blocking_policy(PRINTER, "device_code").name == name  # type: ignore[union-attr]
    assert tenant.blocking_policy(PRINTER, "refresh_token") is None
    assert tenant.blocking_policy(ALICE, "device_code") is None
    assert [p["name"] for p in control.conditional_access()] == [name]
    duplicate = error_of(lambda: control.add_conditional_access(name))
    assert duplicate.status == 409 and duplicate.field == "name"
    assert control.remove_conditional_access(name) == {"deleted": name}
    assert tenant.blocking_policy(PRINTER, "device_code") is None and control.conditional_access() == []


def test_public_client_flows_switch(tier: MicrosoftTier, control: TierControl) -> None:
    app = tier.state.tenant.apps[0]
    answer = control.set_public_client_flows(app.client_id.upper(), False)
    assert answer == {"client_id": app.client_id, "allow_public_client_flows": False}
    assert tier.state.tenant.app(app.client_id).allow_public_client_flows is False  # type: ignore[union-attr]


def test_consent_is_granted_listed_and_revoked(tier: MicrosoftTier, control: TierControl) -> None:
    tenant, client_id = tier.state.tenant, tier.state.tenant.apps[0].client_id
    control.revoke_consent(client_id)
    assert not tenant.has_consent(client_id, ALICE, [SMTP_SEND])
    control.grant_consent(client_id, principal=PRINTER)
    assert tenant.has_consent(client_id, PRINTER, [SMTP_SEND]) and not tenant.has_consent(client_id, ALICE,
                                                                                           [SMTP_SEND])
    grants = control.grant_consent(client_id)
    assert {g["principal"] for g in grants} == {PRINTER, "all"} == {g["principal"] for g in control.consent(client_id)}
    assert tenant.has_consent(client_id, ALICE, [SMTP_SEND])
    assert control.revoke_consent(client_id) == 2
    assert control.consent(client_id) == [] and not tenant.has_consent(client_id, PRINTER, [SMTP_SEND])


def test_revoke_sessions_voids_earlier_refresh_tokens(tier: MicrosoftTier, control: TierControl) -> None:
    state = tier.state
    tenant = state.tenant
    issued = state.tokens.issue(tenant.user(ALICE), tenant.apps[0], [SMTP_SEND, "offline_access"],  # type: ignore[arg-type]
                                issuer=f"{tier.authority}/v2.0")
    refresh = str(issued["refresh_token"])
    assert state.tokens.redeem_refresh(refresh, tenant.apps[0].client_id).upn == ALICE
    assert control.revoke_sessions(ALICE.upper())["upn"] == ALICE
    with pytest.raises(GrantError) as exc:
        state.tokens.redeem_refresh(refresh, tenant.apps[0].client_id)
    assert exc.value.err is errors.GRANT_REVOKED


# --- mail and logs -----------------------------------------------------------------------------------------
def test_mailbox_messages_are_listed_and_deleted(tier: MicrosoftTier, control: TierControl) -> None:
    box = "control-api-test@epsonlab.onmicrosoft.com"
    raw_message = (b"From: printer@epsonlab.onmicrosoft.com\r\nTo: " + box.encode() + b"\r\nSubject: Scan 1\r\n"
                   b"Date: Mon, 01 Jan 2024 09:00:00 +0000\r\n\r\nHello\r\n")
    tier.state.mail.deliver(parse_message(raw_message, mailbox=box, received_at=tier.state.clock.now(),
                                          envelope_from=PRINTER, envelope_to=[box], authenticated_as=PRINTER))
    listed = control.messages(box.upper())
    assert [m["subject"] for m in listed] == ["Scan 1"] and listed[0]["from"] == PRINTER
    assert listed[0]["authenticated_as"] == PRINTER and listed[0]["body"].strip() == "Hello"
    assert control.clear_messages(box) == 1
    assert control.messages(box) == [] and tier.state.mail.messages(box) == []


def test_signins_are_listed_and_filtered(tier: MicrosoftTier, control: TierControl) -> None:
    now = tier.state.clock.now()
    for upn in ("carol@epsonlab.onmicrosoft.com", "dave@epsonlab.onmicrosoft.com"):
        tier.state.signins.record(SignInEvent(time=now, upn=upn, app_id="a", app_name="A", flow="device_code",
                                              status="failure", error_code=50126, failure_reason="bad password"))
    carol = control.signins("CAROL@epsonlab.onmicrosoft.com")
    assert [(e["upn"], e["error_code"]) for e in carol] == [("carol@epsonlab.onmicrosoft.com", 50126)]
    assert {"carol@epsonlab.onmicrosoft.com", "dave@epsonlab.onmicrosoft.com"} <= {e["upn"] for e in
                                                                                   control.signins()}


@dataclass
class _Session:
    id: str
    address: str
    lines: list[str]


def test_smtp_transcripts_come_from_the_smtp_server_when_it_has_them(tmp_path: Path,
                                                                     default_tenant: Tenant) -> None:
    sessions = [_Session("s1", PRINTER, ["EHLO x", "STARTTLS"]), _Session("s2", ALICE, ["EHLO y"])]
    seen: list[str | None] = []

    def transcripts(address: str | None) -> list[_Session]:
        seen.append(address)
        return [s for s in sessions if address is None or s.address == address]

    ca = LabCA.create()
    bundle = ca.write_bundle(tmp_path / "ca.pem")
    with_source = create_control_app(TierState(tenant=default_tenant), "tok", dict, transcripts=transcripts)
    without = create_control_app(TierState(tenant=default_tenant.model_copy(deep=True)), "tok", dict)
    with serve(with_source, "127.0.0.1", ca, tmp_path) as port, serve(without, "127.0.0.1", ca, tmp_path) as bare, \
            TierControl(f"https://127.0.0.1:{port}", "tok", bundle) as client, \
            TierControl(f"https://127.0.0.1:{bare}", "tok", bundle) as bare_client:
        assert client.smtp_transcripts(PRINTER) == [{"id": "s1", "address": PRINTER, "lines": ["EHLO x", "STARTTLS"]}]
        assert len(client.smtp_transcripts()) == 2 and seen == [PRINTER, None]
        missing = error_of(bare_client.smtp_transcripts)
    assert missing.status == 404
