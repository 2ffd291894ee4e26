"""The identity provider's endpoints on the wire: shapes, AADSTS refusals, pacing, and garbage."""

from __future__ import annotations

import html
import re
import socket
import ssl
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import jwt
import msal
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.msft.identity.devicecodes import DeviceCodeStore
from harness.msft.identity.pages import EMPTY_CODE, SESSION_LOST, UNKNOWN_CODE
from harness.msft.identity.signin import DEVICEAUTH_URL
from harness.msft.tenant import SMTP_SEND
from harness.msft.tier import MicrosoftTier

SCOPE = f"{SMTP_SEND} offline_access openid profile"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
GARBAGE = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def http(tier: MicrosoftTier) -> Iterator[requests.Session]:
    session = requests.Session()
    session.verify = str(tier.ca_bundle)
    session.trust_env = False
    yield session
    session.close()


def url(tier: MicrosoftTier, path: str) -> str:
    return f"https://localhost:{tier.identity_port}{path}"


def tenant_url(tier: MicrosoftTier, path: str) -> str:
    return f"{tier.authority}{path}"


def device_code(tier: MicrosoftTier, http: requests.Session, **form: str) -> requests.Response:
    return http.post(tenant_url(tier, "/oauth2/v2.0/devicecode"),
                     data={"client_id": tier.client_id, "scope": SCOPE, **form})


def assert_entra_error(response: requests.Response, error: str, code: int, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error and body["error_codes"] == [code], body
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    assert {"timestamp", "trace_id", "correlation_id"} <= body.keys()
    return body


def assert_serving(tier: MicrosoftTier, http: requests.Session) -> None:
    response = http.get(tenant_url(tier, "/v2.0/.well-known/openid-configuration"), timeout=10)
    assert response.status_code == 200 and "token_endpoint" in response.json()


# --- discovery and keys ---------------------------------------------------------------------------------
@pytest.mark.parametrize("segment", ["tid", "domain", "DOMAIN", "organizations", "common", "consumers"])
def test_discovery_by_tenant_id_domain_and_multi_tenant_names(
        tier: MicrosoftTier, http: requests.Session, segment: str) -> None:
    tenant = tier.state.tenant
    name = {"tid": tenant.tenant_id, "domain": tenant.domain, "DOMAIN": tenant.domain.upper()}.get(segment, segment)
    doc = http.get(url(tier, f"/{name}/v2.0/.well-known/openid-configuration")).json()
    echoed = segment if segment in ("organizations", "common", "consumers") else tenant.tenant_id
    base = f"https://localhost:{tier.identity_port}/{echoed}"
    assert doc["token_endpoint"] == f"{base}/oauth2/v2.0/token"
    assert doc["device_authorization_endpoint"] == f"{base}/oauth2/v2.0/devicecode"
    assert doc["jwks_uri"] == f"{base}/discovery/v2.0/keys"
    issuer_tenant = "{tenantid}" if echoed != tenant.tenant_id else tenant.tenant_id
    assert doc["issuer"] == f"https://localhost:{tier.identity_port}/{issuer_tenant}/v2.0"


def test_discovery_urls_follow_the_host_name_the_client_used(tier: MicrosoftTier, http: requests.Session) -> None:
    tid = tier.state.tenant.tenant_id
    doc = http.get(tenant_url(tier, "/v2.0/.well-known/openid-configuration"),
                   headers={"Host": "login.microsoftonline.com"}).json()
    assert doc["issuer"] == f"https://login.microsoftonline.com/{tid}/v2.0"
    assert doc["token_endpoint"] == f"https://login.microsoftonline.com/{tid}/oauth2/v2.0/token"


def test_unknown_tenant_is_90002_on_every_endpoint(tier: MicrosoftTier, http: requests.Session) -> None:
    other = "00000000-0000-0000-0000-000000000001"
    body = assert_entra_error(http.get(url(tier, f"/{other}/v2.0/.well-known/openid-configuration")),
                              "invalid_tenant", 90002)
    assert f"Tenant '{other}' not found." in body["error_description"]
    assert_entra_error(http.post(url(tier, f"/{other}/oauth2/v2.0/token"), data={"grant_type": DEVICE_GRANT}),
                       "invalid_tenant", 90002)
    assert_entra_error(http.get(url(tier, "/nope.example/discovery/v2.0/keys")), "invalid_tenant", 90002)


def test_jwks_verifies_the_tokens_the_tier_issues(tier: MicrosoftTier, http: requests.Session) -> None:
    keys = http.get(tenant_url(tier, "/discovery/v2.0/keys")).json()["keys"]
    tenant = tier.state.tenant
    issued = tier.state.tokens.issue(tenant.user("printer@epsonlab.onmicrosoft.com"), tenant.apps[0],  # type: ignore[arg-type]
                                     [SMTP_SEND], issuer="https://localhost/x/v2.0")
    kid = jwt.get_unverified_header(issued["access_token"])["kid"]
    (jwk,) = [k for k in keys if k["kid"] == kid]
    claims = jwt.decode(issued["access_token"], jwt.PyJWK(jwk).key, algorithms=["RS256"],
                        audience="https://outlook.office.com", options={"verify_exp": False})
    assert claims["upn"] == "printer@epsonlab.onmicrosoft.com"


# --- device authorization -------------------------------------------------------------------------------
def test_device_authorization_has_microsofts_shape(tier: MicrosoftTier, http: requests.Session) -> None:
    first, second = device_code(tier, http), device_code(tier, http)
    assert first.status_code == 200 and first.headers["cache-control"].startswith("no-store")
    body = first.json()
    assert set(body) == {"user_code", "device_code", "verification_uri", "expires_in", "interval", "message"}
    assert re.fullmatch(r"[A-Z0-9]{9}", body["user_code"]) and len(body["device_code"]) > 100
    assert body["verification_uri"] == "https://microsoft.com/devicelogin"
    assert body["message"] == ("To sign in, use a web browser to open the page https://microsoft.com/devicelogin "
                               f"and enter the code {body['user_code']} to authenticate.")
    settings_ = tier.state.tenant.tokens
    assert (body["expires_in"], body["interval"]) == (settings_.device_code_lifetime, settings_.device_code_interval)
    assert second.json()["user_code"] != body["user_code"]
    assert second.json()["device_code"] != body["device_code"]


@pytest.mark.parametrize(("form", "error", "code", "mentions"), [
    ({"client_id": ""}, "invalid_request", 900144, "'client_id'"),
    ({"scope": ""}, "invalid_request", 900144, "'scope'"),
    ({"client_id": "11111111-2222-3333-4444-555555555555"}, "unauthorized_client", 700016, ""),
    ({"scope": "https://graph.microsoft.com/Mail.Send"}, "invalid_scope", 70011, "Mail.Send"),
])
def test_device_authorization_refusals(tier: MicrosoftTier, http: requests.Session, form: dict[str, str],
                                       error: str, code: int, mentions: str) -> None:
    body = assert_entra_error(device_code(tier, http, **form), error, code)
    assert mentions in body["error_description"]


def test_device_code_store_keeps_digests_only_and_reads_codes_as_typed() -> None:
    store = DeviceCodeStore()
    device, user, auth = store.create("client", [SMTP_SEND], now=0.0, lifetime=900, interval=5)
    kept = repr(vars(store)) + repr(vars(auth))
    assert device not in kept and user not in kept
    assert store.by_device_code(device) is auth
    assert store.by_user_code(f" {user[:4].lower()}-{user[4:]} ") is auth
    assert store.by_user_code(user[::-1]) is None or user == user[::-1]


# --- token endpoint -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("form", "error", "code"), [
    ({}, "invalid_request", 900144),
    ({"grant_type": "password"}, "unsupported_grant_type", 70003),
    ({"grant_type": DEVICE_GRANT}, "invalid_request", 900144),
    ({"grant_type": DEVICE_GRANT, "client_id": "CLIENT"}, "invalid_request", 900144),
    ({"grant_type": DEVICE_GRANT, "client_id": "CLIENT", "device_code": "DAQAB-not-issued"},
     "bad_verification_code", 70019),
    ({"grant_type": "refresh_token", "client_id": "CLIENT", "refresh_token": "1.Anot-issued"},
     "invalid_grant", 9002313),
])
def test_token_endpoint_refusals(tier: MicrosoftTier, http: requests.Session, form: dict[str, str],
                                 error: str, code: int) -> None:
    form = {k: v.replace("CLIENT", tier.client_id) for k, v in form.items()}
    assert_entra_error(http.post(tenant_url(tier, "/oauth2/v2.0/token"), data=form), error, code)


def test_a_json_body_is_read_as_missing_parameters(tier: MicrosoftTier, http: requests.Session) -> None:
    response = http.post(tenant_url(tier, "/oauth2/v2.0/token"), json={"grant_type": DEVICE_GRANT})
    assert "'grant_type'" in assert_entra_error(response, "invalid_request", 900144)["error_description"]


def test_oversized_and_undecodable_bodies_are_refused_and_serving_goes_on(
        tier: MicrosoftTier, http: requests.Session) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    huge = http.post(tenant_url(tier, "/oauth2/v2.0/token"), data=b"scope=" + b"A" * 200_000, headers=form)
    assert_entra_error(huge, "invalid_request", 9002313)
    latin1 = http.post(tenant_url(tier, "/oauth2/v2.0/devicecode"), data=b"client_id=\xff\xfe", headers=form)
    assert_entra_error(latin1, "invalid_request", 9002313)
    bad_host = http.get(tenant_url(tier, "/v2.0/.well-known/openid-configuration"), headers={"Host": "bad_host name"})
    assert_entra_error(bad_host, "invalid_request", 9002313)
    assert device_code(tier, http).status_code == 200


def test_public_client_flows_off_is_401_7000218(tier: MicrosoftTier) -> None:
    app_registration = tier.state.tenant.apps[0]
    session = requests.Session()
    session.verify, session.trust_env = str(tier.ca_bundle), False
    app = msal.PublicClientApplication(tier.client_id, authority=tier.authority, instance_discovery=False,
                                       http_client=session)
    try:
        app_registration.allow_public_client_flows = False
        flow = app.initiate_device_flow(scopes=[SMTP_SEND])
        result = app.acquire_token_by_device_flow(flow, exit_condition=lambda _flow: True)
        raw = session.post(tenant_url(tier, "/oauth2/v2.0/token"), data={
            "grant_type": DEVICE_GRANT, "client_id": tier.client_id, "device_code": flow["device_code"]})
    finally:
        app_registration.allow_public_client_flows = True
        session.close()
    assert result["error"] == "invalid_client" and result["error_codes"] == [7000218]
    assert_entra_error(raw, "invalid_client", 7000218, status=401)


@pytest.mark.filterwarnings("ignore:Attempted too soon")
def test_polling_faster_than_the_interval_gets_slow_down_judged_on_wall_time(tier: MicrosoftTier) -> None:
    session = requests.Session()
    session.verify, session.trust_env = str(tier.ca_bundle), False
    app = msal.PublicClientApplication(tier.client_id, authority=tier.authority, instance_discovery=False,
                                       http_client=session)
    try:
        flow = app.initiate_device_flow(scopes=[SMTP_SEND])
        first = app.acquire_token_by_device_flow(flow, exit_condition=lambda _flow: True)
        tier.state.clock.advance(120)  # type: ignore[attr-defined]  # lab time passing does not pace a client
        second = app.acquire_token_by_device_flow(flow, exit_condition=lambda _flow: True)
    finally:
        session.close()
    assert first["error"] == "authorization_pending" and first["error_codes"] == [70016]
    assert second["error"] == "slow_down" and second["error_codes"] == [70016]
    assert flow["interval"] == tier.state.tenant.tokens.device_code_interval + 5  # msal backs off


def test_devicelogin_redirects_on_microsoft_com_and_is_served_on_localhost(
        tier: MicrosoftTier, http: requests.Session) -> None:
    moved = http.get(url(tier, "/devicelogin"), headers={"Host": "microsoft.com"}, allow_redirects=False)
    assert moved.status_code == 302 and moved.headers["location"] == DEVICEAUTH_URL
    page = http.get(tier.devicelogin_url)
    assert page.status_code == 200 and "<h1>Enter code</h1>" in page.text
    assert page.headers["x-frame-options"] == "DENY" and "no-store" in page.headers["cache-control"]


# --- garbage on the wire --------------------------------------------------------------------------------
content_types = st.sampled_from([
    "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8", "application/json",
    "text/plain", "multipart/form-data; boundary=xyz", "", "application/x-www-form-urlencoded; charset=latin1",
])
field_names = st.sampled_from(["grant_type", "client_id", "device_code", "refresh_token", "scope", "code",
                               "client_info", "otc", "flowToken", "loginfmt", "passwd", "action", "orgConsent"])
form_bodies = st.dictionaries(field_names | st.text(max_size=20), st.text(max_size=300), max_size=8).map(
    lambda d: urlencode(d).encode())
bodies = st.one_of(st.binary(max_size=3000), form_bodies, st.just(b"grant_type=" + b"x" * 70_000))


@GARBAGE
@given(endpoint=st.sampled_from(["devicecode", "token"]), content_type=content_types, body=bodies)
def test_garbage_to_oauth_endpoints_gets_entra_json_errors(tier: MicrosoftTier, http: requests.Session,
                                                           endpoint: str, content_type: str, body: bytes) -> None:
    response = http.post(tenant_url(tier, f"/oauth2/v2.0/{endpoint}"), data=body,
                         headers={"Content-Type": content_type})
    assert response.status_code in (400, 401), response.text[:300]
    error = response.json()
    assert error["error"] and re.match(r"AADSTS\d+: ", error["error_description"])


@GARBAGE
@given(path=st.sampled_from(["/common/oauth2/deviceauth", "/common/login"]), content_type=content_types,
       body=bodies)
def test_garbage_to_sign_in_pages_gets_a_page_with_a_message(tier: MicrosoftTier, http: requests.Session,
                                                             path: str, content_type: str, body: bytes) -> None:
    response = http.post(url(tier, path), data=body, headers={"Content-Type": content_type})
    assert response.status_code in (200, 400) and response.headers["content-type"].startswith("text/html")
    assert "<h1>Enter code</h1>" in response.text
    assert any(html.escape(message) in response.text for message in (UNKNOWN_CODE, EMPTY_CODE, SESSION_LOST))


@GARBAGE
@given(host=st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=60),
       path=st.sampled_from(["/devicelogin", "/common/oauth2/deviceauth",
                             "/TENANT/v2.0/.well-known/openid-configuration", "/TENANT/discovery/v2.0/keys"]))
def test_any_host_header_gets_an_answer_not_a_crash(tier: MicrosoftTier, http: requests.Session, host: str,
                                                    path: str) -> None:
    response = http.get(url(tier, path.replace("TENANT", tier.state.tenant.tenant_id)), headers={"Host": host},
                        allow_redirects=False)
    assert response.status_code in (200, 302, 400), (response.status_code, response.text[:200])


@settings(max_examples=25, deadline=None)
@given(data=st.binary(min_size=1, max_size=4096), tls=st.booleans())
def test_raw_garbage_never_stops_the_server(tier: MicrosoftTier, http: requests.Session, data: bytes,
                                            tls: bool) -> None:
    with socket.create_connection(("127.0.0.1", tier.identity_port), timeout=5) as raw:
        conn: socket.socket = raw
        if tls:
            conn = ssl.create_default_context(cafile=str(tier.ca_bundle)).wrap_socket(raw, server_hostname="localhost")
        try:
            conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)
            while conn.recv(65536):
                pass
        except (OSError, ssl.SSLError):
            pass  # the server may drop the connection: that is an acceptable answer to garbage
    assert_serving(tier, http)
