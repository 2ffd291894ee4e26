"""The tier's client-credentials grant (through msal) and its Graph mail endpoints, read over HTTPS with requests.

Mail is submitted with smtplib (STARTTLS + XOAUTH2, a token from the tier's token service) and read back the way
a Graph client reads it. The session tier is shared: every test picks its own messages by a unique subject.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import msal
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from smtp_support import ALICE, PRINTER, access_token, auth_xoauth2, open_session, scan_message

from harness.msft.control_client import TierControl
from harness.msft.tenant import AppRegistration
from harness.msft.tier import MicrosoftTier

READER = "epson-hil Mail Reader"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"


@pytest.fixture(scope="module")
def http(tier: MicrosoftTier) -> Iterator[requests.Session]:
    session = requests.Session()
    session.verify, session.trust_env = str(tier.ca_bundle), False
    yield session
    session.close()


def reader_app(tier: MicrosoftTier) -> AppRegistration:
    return next(a for a in tier.state.tenant.apps if a.display_name == READER)


def msal_token(tier: MicrosoftTier, http: requests.Session, secret: str | None = None) -> dict[str, Any]:
    """msal's client-credentials answer for the reader app (a fresh app: msal caches tokens and refusals)."""
    app = reader_app(tier)
    client = msal.ConfidentialClientApplication(app.client_id, client_credential=secret or app.client_secret,
                                                authority=tier.authority, instance_discovery=False, http_client=http)
    return client.acquire_token_for_client(scopes=[GRAPH_SCOPE])


def graph(tier: MicrosoftTier, http: requests.Session, path: str, token: str | None,
          **params: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http.get(f"https://localhost:{tier.identity_port}/v1.0{path}", params=params, headers=headers)


def token_url(tier: MicrosoftTier) -> str:
    return f"{tier.authority}/oauth2/v2.0/token"


def send(tier: MicrosoftTier, subject: str, to: str = ALICE) -> None:
    """Submit a scan-like message (PDF attached) as the printer's mailbox, as a device does."""
    client, _ = open_session(tier)
    try:
        assert auth_xoauth2(client, PRINTER, access_token(tier))[0] == 235
        message = scan_message(PRINTER, [to], subject)
        assert client.send_message(message) == {}
    finally:
        client.quit()


def unique(label: str) -> str:
    return f"{label} {secrets.token_hex(4)}"


def graph_error(response: requests.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and {"date", "request-id"} <= error["innerError"].keys()
    return str(error["message"])


# --- the client-credentials grant -------------------------------------------------------------------------

def test_msal_gets_an_app_only_graph_token_with_the_apps_roles(tier: MicrosoftTier, http: requests.Session) -> None:
    answer = msal_token(tier, http)
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 3599
    assert "refresh_token" not in answer and "id_token" not in answer
    claims = tier.state.tokens.verified_claims(answer["access_token"])  # signed with the tier's key
    app = reader_app(tier)
    assert claims["aud"] == "https://graph.microsoft.com" and claims["roles"] == ["Mail.Read"]
    assert claims["idtyp"] == "app" and claims["appid"] == app.client_id and "upn" not in claims
    assert claims["tid"] == tier.state.tenant.tenant_id and "scp" not in claims


def test_a_wrong_secret_is_refused_with_7000215(tier: MicrosoftTier, http: requests.Session) -> None:
    answer = msal_token(tier, http, secret="the-secret-id-not-its-value")
    assert answer["error"] == "invalid_client" and answer["error_codes"] == [7000215]
    assert answer["error_description"].startswith("AADSTS7000215: Invalid client secret provided.")
    assert reader_app(tier).client_id in answer["error_description"]
    # the device's app has no secret at all: any secret is wrong, none is Entra's 7000218
    raw = http.post(token_url(tier), data={"grant_type": "client_credentials", "client_id": tier.client_id,
                                           "client_secret": "guess", "scope": GRAPH_SCOPE})
    assert raw.status_code == 401 and raw.json()["error_codes"] == [7000215]
    raw = http.post(token_url(tier), data={"grant_type": "client_credentials", "client_id": tier.client_id,
                                           "scope": GRAPH_SCOPE})
    assert raw.status_code == 401 and raw.json()["error_codes"] == [7000218]


def test_client_secret_basic_is_accepted_too(tier: MicrosoftTier, http: requests.Session) -> None:
    app = reader_app(tier)
    answer = http.post(token_url(tier), data={"grant_type": "client_credentials", "scope": GRAPH_SCOPE},
                       auth=(app.client_id, app.client_secret or ""))
    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"].startswith("no-store")
    wrong = http.post(token_url(tier), data={"grant_type": "client_credentials", "scope": GRAPH_SCOPE},
                      auth=(app.client_id, "nope"))
    assert wrong.status_code == 401 and wrong.json()["error_codes"] == [7000215]


@pytest.mark.parametrize(("scope", "code", "error"), [
    ("https://graph.microsoft.com/Mail.Read", 1002012, "invalid_scope"),
    ("https://outlook.office.com/.default", 500011, "invalid_resource"),
    (f"{GRAPH_SCOPE} offline_access", 1002012, "invalid_scope"),
    ("", 900144, "invalid_request"),
])
def test_client_credentials_need_one_default_scope(tier: MicrosoftTier, http: requests.Session, scope: str,
                                                   code: int, error: str) -> None:
    app = reader_app(tier)
    answer = http.post(token_url(tier), data={"grant_type": "client_credentials", "client_id": app.client_id,
                                              "client_secret": app.client_secret, "scope": scope})
    assert answer.status_code == 400 and answer.json()["error"] == error
    assert answer.json()["error_codes"] == [code]


def test_the_shared_token_endpoint_still_answers_other_grants_and_garbage(tier: MicrosoftTier,
                                                                          http: requests.Session) -> None:
    refresh = http.post(token_url(tier), data={"grant_type": "refresh_token", "client_id": tier.client_id,
                                               "refresh_token": "1.Anot-a-token"})
    assert refresh.status_code == 400 and refresh.json()["error_codes"] == [9002313]
    huge = http.post(token_url(tier), data={"grant_type": "client_credentials", "pad": "x" * 70_000})
    assert huge.status_code == 400 and huge.json()["error_codes"] == [9002313]
    not_utf8 = http.post(token_url(tier), data=b"grant_type=\xff\xfe",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert not_utf8.status_code == 400 and not_utf8.json()["error"] == "invalid_request"
    assert msal_token(tier, http)["token_type"] == "Bearer"  # and it keeps serving


def test_the_reader_secret_never_leaves_the_tier(tier: MicrosoftTier) -> None:
    app = reader_app(tier)
    assert app.client_secret and app.client_secret not in repr(app)
    with TierControl(tier.control_url, tier.control_token, tier.ca_bundle) as control:
        listed = next(a for a in control.tenant()["apps"] if a["display_name"] == READER)
    assert "client_secret" not in listed and listed["app_roles"] == ["Mail.Read"]
    assert app.client_secret not in str(tier.lab_info())


# --- reading mail -------------------------------------------------------------------------------------------

def test_graph_lists_a_message_sent_with_smtplib_in_graphs_shape(tier: MicrosoftTier, http: requests.Session) -> None:
    subject = unique("Scan from WF-C5790")
    send(tier, subject)
    token = msal_token(tier, http)["access_token"]
    page = graph(tier, http, f"/users/{ALICE}/messages", token, **{"$filter": f"subject eq '{subject}'"})
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["@odata.context"].endswith(f"/v1.0/$metadata#users('{ALICE}')/messages")
    [message] = body["value"]
    assert message["subject"] == subject and message["hasAttachments"] is True
    assert message["from"]["emailAddress"]["address"] == PRINTER
    assert message["sender"] == message["from"]
    assert message["toRecipients"] == [{"emailAddress": {"name": ALICE, "address": ALICE}}]
    assert time.strptime(message["receivedDateTime"], "%Y-%m-%dT%H:%M:%SZ")
    assert message["body"] == {"contentType": "text", "content": "Scanned document attached.\r\n"}
    assert message["bodyPreview"] == "Scanned document attached."

    attachments = graph(tier, http, f"/users/{ALICE}/messages/{message['id']}/attachments", token)
    [attachment] = attachments.json()["value"]
    assert attachment["@odata.type"] == "#microsoft.graph.fileAttachment"
    assert (attachment["name"], attachment["contentType"], attachment["size"]) == (
        "scan0001.pdf", "application/pdf", len(b"%PDF-1.4\n") + 256 * 8)
    one = graph(tier, http, f"/users/{ALICE}/messages/{message['id']}", token, **{"$select": "subject"})
    assert set(one.json()) == {"@odata.etag", "id", "subject"}
    expanded = graph(tier, http, f"/users/{ALICE}/messages", token, **{
        "$filter": f"subject eq '{subject}'", "$expand": "attachments($select=name,size)"})
    assert expanded.json()["value"][0]["attachments"] == [
        {"@odata.type": "#microsoft.graph.fileAttachment", "id": attachment["id"], "name": "scan0001.pdf",
         "size": attachment["size"]}]


def test_top_orderby_filter_and_paging(tier: MicrosoftTier, http: requests.Session) -> None:
    token = msal_token(tier, http)["access_token"]
    started = tier.state.clock.now()
    subjects = [unique("Paging")]
    send(tier, subjects[0], to=PRINTER)
    tier.state.clock.advance(2)  # type: ignore[attr-defined]
    subjects.append(unique("Paging"))
    send(tier, subjects[1], to=PRINTER)
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started))
    path = f"/users/{PRINTER}/messages"

    newest = graph(tier, http, path, token, **{"$filter": f"receivedDateTime ge {since}", "$top": "1",
                                               "$orderby": "receivedDateTime desc"}).json()
    assert [m["subject"] for m in newest["value"]] == [subjects[1]]
    following = http.get(newest["@odata.nextLink"], headers={"Authorization": f"Bearer {token}"}).json()
    assert [m["subject"] for m in following["value"]][:1] == [subjects[0]]
    oldest_first = graph(tier, http, path, token, **{"$filter": f"receivedDateTime ge {since}",
                                                     "$orderby": "receivedDateTime asc"}).json()["value"]
    assert [m["subject"] for m in oldest_first if m["subject"] in subjects] == subjects
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(tier.state.clock.now() + 1))
    assert graph(tier, http, path, token, **{"$filter": f"receivedDateTime gt {later}"}).json()["value"] == []
    both = graph(tier, http, path, token,
                 **{"$filter": f"receivedDateTime ge {since} and hasAttachments eq true"}).json()["value"]
    assert {m["subject"] for m in both} >= set(subjects)
    selected = graph(tier, http, path, token, **{"$select": "subject,receivedDateTime", "$top": "1"}).json()
    assert set(selected["value"][0]) == {"@odata.etag", "id", "subject", "receivedDateTime"}


@pytest.mark.parametrize("params", [
    {"$filter": "receivedDateTime ge yesterday"}, {"$filter": "sender eq 'x'"}, {"$filter": "("},
    {"$top": "0"}, {"$top": "many"}, {"$orderby": "subject"}, {"$search": "scan"}, {"$select": "nope"},
    {"$expand": "mailFolder"},
])
def test_bad_query_options_are_graphs_400(tier: MicrosoftTier, http: requests.Session,
                                          params: dict[str, str]) -> None:
    token = msal_token(tier, http)["access_token"]
    graph_error(graph(tier, http, f"/users/{ALICE}/messages", token, **params), 400, "BadRequest")


# --- who may read -------------------------------------------------------------------------------------------

def test_missing_malformed_and_forged_tokens_get_401(tier: MicrosoftTier, http: requests.Session) -> None:
    path = f"/users/{ALICE}/messages"
    assert graph_error(graph(tier, http, path, None), 401, "InvalidAuthenticationToken") == "Access token is empty."
    response = graph(tier, http, path, "not-a-jwt")
    graph_error(response, 401, "InvalidAuthenticationToken")
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")

    genuine = msal_token(tier, http)["access_token"]
    claims = jwt.decode(genuine, options={"verify_signature": False})
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": tier.state.tokens.kid})
    message = graph_error(graph(tier, http, path, forged), 401, "InvalidAuthenticationToken")
    assert message == "Access token validation failure."
    head, _, signature = genuine.split(".")
    widened = base64.urlsafe_b64encode(
        json.dumps({**claims, "roles": ["Mail.ReadWrite"]}).encode()).decode().rstrip("=")
    graph_error(graph(tier, http, path, f"{head}.{widened}.{signature}"), 401, "InvalidAuthenticationToken")


def test_a_users_smtp_token_or_an_expired_app_token_is_refused(tier: MicrosoftTier,
                                                               http: requests.Session) -> None:
    path = f"/users/{ALICE}/messages"
    smtp_token = access_token(tier, PRINTER)  # aud https://outlook.office.com
    assert "Invalid audience" in graph_error(graph(tier, http, path, smtp_token), 401, "InvalidAuthenticationToken")
    claims = jwt.decode(msal_token(tier, http)["access_token"], options={"verify_signature": False})
    now = int(tier.state.clock.now())
    expired = tier.state.tokens.sign({**claims, "iat": now - 7200, "nbf": now - 7200, "exp": now - 1})
    assert "expired" in graph_error(graph(tier, http, path, expired), 401, "InvalidAuthenticationToken")
    foreign = tier.state.tokens.sign({**claims, "tid": str(uuid.uuid4())})
    graph_error(graph(tier, http, path, foreign), 401, "InvalidAuthenticationToken")


def test_an_app_without_mail_read_gets_403(tier: MicrosoftTier, http: requests.Session) -> None:
    with tier.state.restoring():
        reader_app(tier).app_roles = []
        token = msal_token(tier, http)["access_token"]
        assert "roles" not in jwt.decode(token, options={"verify_signature": False})
        message = graph_error(graph(tier, http, f"/users/{ALICE}/messages", token), 403, "ErrorAccessDenied")
        assert message == "Access is denied. Check credentials and try again."


def test_unknown_users_messages_and_paths(tier: MicrosoftTier, http: requests.Session) -> None:
    token = msal_token(tier, http)["access_token"]
    message = graph_error(graph(tier, http, "/users/nobody@epsonlab.onmicrosoft.com/messages", token), 404,
                          "ErrorInvalidUser")
    assert "nobody@epsonlab.onmicrosoft.com" in message
    missing = "AAMkAD" + base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    graph_error(graph(tier, http, f"/users/{ALICE}/messages/{missing}", token), 404, "ErrorItemNotFound")
    graph_error(graph(tier, http, f"/users/{ALICE}/messages/garbage/attachments", token), 400,
                "ErrorInvalidIdMalformed")
    graph_error(graph(tier, http, "/me/drive", token), 400, "BadRequest")
    posted = http.post(f"https://localhost:{tier.identity_port}/v1.0/users/{ALICE}/messages", json={},
                       headers={"Authorization": f"Bearer {token}"})
    graph_error(posted, 400, "BadRequest")
    by_object_id = tier.state.tenant.user(ALICE).object_id  # type: ignore[union-attr]
    assert graph(tier, http, f"/users/{by_object_id}/messages", token).status_code == 200
