"""Microsoft Graph's mail-reading endpoints over the tier's mailboxes, for app-only tokens with ``Mail.Read``.

Served on the identity port under ``/v1.0`` (so ``https://graph.microsoft.com/v1.0/...`` works once the name
resolves to the tier, and ``https://localhost:PORT/v1.0/...`` always). Shapes follow Graph v1.0:
``GET /users/{upn}/messages`` (``$top``, ``$skip``, ``$orderby receivedDateTime``, ``$filter`` on
``receivedDateTime``/``hasAttachments``/``subject``, ``$select``, ``$expand=attachments``), one message, and
its attachments' metadata (the tier keeps no attachment content, so ``contentBytes`` is never given). Every
error is Graph's ``{"error": {"code", "message", "innerError"}}``.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from harness.msft.mailstore import Attachment, StoredMessage
from harness.msft.state import TierState
from harness.msft.tenant import User
from harness.msft.tokens import InvalidToken

PREFIX = "/v1.0"
GRAPH_RESOURCE = "https://graph.microsoft.com"
MAIL_READ_ROLES = frozenset({"Mail.Read", "Mail.ReadWrite"})
DEFAULT_TOP, MAX_TOP = 10, 1000
#: Graph's own client id, named in its WWW-Authenticate challenge.
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
_ID_PREFIX = "AAMkAD"
_ATTACHMENT_PREFIX = "AAMkAT"
_QUERY_OPTIONS = frozenset({"$top", "$skip", "$orderby", "$filter", "$select", "$expand"})
MESSAGE_PROPERTIES = (
    "id", "createdDateTime", "lastModifiedDateTime", "receivedDateTime", "sentDateTime", "hasAttachments",
    "subject", "bodyPreview", "importance", "isRead", "isDraft", "body", "sender", "from", "toRecipients",
    "ccRecipients", "bccRecipients", "replyTo",
)
ATTACHMENT_PROPERTIES = ("id", "name", "contentType", "size", "isInline", "lastModifiedDateTime")


class GraphError(Exception):
    """A refusal Graph would answer with ``status`` and ``{"error": {"code", "message"}}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message

    def response(self, now: float) -> JSONResponse:
        inner = {"date": graph_time(now), "request-id": str(uuid.uuid4()), "client-request-id": str(uuid.uuid4())}
        headers = None
        if self.status == 401:
            headers = {"WWW-Authenticate": 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/'
                                           f'common/oauth2/authorize", client_id="{GRAPH_APP_ID}"'}
        return JSONResponse({"error": {"code": self.code, "message": self.message, "innerError": inner}},
                            status_code=self.status, headers=headers)


def _bad_request(message: str) -> GraphError:
    return GraphError(400, "BadRequest", message)


def graph_time(epoch: float) -> str:
    """Graph's date-time text: ISO 8601 UTC to the second, ``Z`` suffix."""
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def message_id(stored: StoredMessage) -> str:
    return _ID_PREFIX + base64.urlsafe_b64encode(uuid.UUID(stored.id).bytes).decode().rstrip("=")


def _store_id(graph_id: str) -> str:
    """The mail store's id behind a Graph message id; Graph's 400 ErrorInvalidIdMalformed otherwise."""
    try:
        if not graph_id.startswith(_ID_PREFIX):
            raise ValueError
        raw = base64.urlsafe_b64decode(graph_id[len(_ID_PREFIX):] + "==")
        return str(uuid.UUID(bytes=raw))
    except (binascii.Error, ValueError):
        raise GraphError(400, "ErrorInvalidIdMalformed", "Id is malformed.") from None


# --- JSON shapes ----------------------------------------------------------------------------------------

def _recipient(address: str, name: str = "") -> dict[str, Any]:
    return {"emailAddress": {"name": name or address, "address": address}}


def message_json(stored: StoredMessage) -> dict[str, Any]:
    """One message in Graph's ``microsoft.graph.message`` shape."""
    received = graph_time(stored.received_at)
    try:
        sent = graph_time(datetime.fromisoformat(stored.date).timestamp()) if stored.date else received
    except ValueError:
        sent = received
    name, address = parseaddr(stored.from_)
    sender = _recipient(address, name)
    return {
        "@odata.etag": f'W/"{message_id(stored)[-16:]}"', "id": message_id(stored),
        "createdDateTime": received, "lastModifiedDateTime": received, "receivedDateTime": received,
        "sentDateTime": sent, "hasAttachments": bool(stored.attachments), "subject": stored.subject,
        "bodyPreview": " ".join(stored.body.split())[:255], "importance": "normal", "isRead": False,
        "isDraft": False, "body": {"contentType": "text", "content": stored.body}, "sender": sender,
        "from": sender, "toRecipients": [_recipient(a) for a in stored.to], "ccRecipients": [],
        "bccRecipients": [], "replyTo": [],
    }


def attachment_json(stored: StoredMessage, index: int, attachment: Attachment) -> dict[str, Any]:
    """One attachment in Graph's ``microsoft.graph.fileAttachment`` shape, without ``contentBytes``."""
    raw = uuid.UUID(stored.id).bytes + index.to_bytes(2, "big")
    return {
        "@odata.type": "#microsoft.graph.fileAttachment",
        "id": _ATTACHMENT_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "lastModifiedDateTime": graph_time(stored.received_at), "name": attachment.filename,
        "contentType": attachment.content_type, "size": attachment.size, "isInline": False,
    }


def _attachments(stored: StoredMessage) -> list[dict[str, Any]]:
    return [attachment_json(stored, i, a) for i, a in enumerate(stored.attachments)]


# --- query options --------------------------------------------------------------------------------------

_CLAUSE = re.compile(
    r"^\s*(?P<prop>\w+)\s+(?P<op>eq|ne|ge|gt|le|lt)\s+(?P<value>'(?:[^']|'')*'|[\w:.+-]+)\s*$", re.IGNORECASE)
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "ge": lambda a, b: a >= b,
    "gt": lambda a, b: a > b, "le": lambda a, b: a <= b, "lt": lambda a, b: a < b,
}
Predicate = Callable[[StoredMessage], bool]


def _clause(text: str) -> Predicate:
    match = _CLAUSE.match(text)
    if match is None:
        raise _bad_request(f"Invalid filter clause: {text.strip()[:200]}")
    prop, op, value = match["prop"].lower(), _OPS[match["op"].lower()], match["value"]
    if prop == "receiveddatetime":
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise _bad_request(f"Invalid filter clause: '{value[:100]}' is not a DateTimeOffset.") from None
        limit = int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())
        return lambda m: op(int(m.received_at), limit)
    if prop == "hasattachments" and value.lower() in ("true", "false"):
        flag = value.lower() == "true"
        return lambda m: op(bool(m.attachments), flag)
    if prop == "subject" and value.startswith("'") and match["op"].lower() in ("eq", "ne"):
        text_value = value[1:-1].replace("''", "'")
        return lambda m: op(m.subject, text_value)
    raise _bad_request(f"Invalid filter clause: filtering on '{match['prop']}' with this operator or value is "
                       "not supported.")


def parse_filter(text: str) -> Predicate:
    """``$filter``: clauses on receivedDateTime, hasAttachments or subject joined with ``and``."""
    clauses = [_clause(part) for part in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE)]
    return lambda m: all(c(m) for c in clauses)


def _int_option(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.strip().isdigit() or not low <= int(raw) <= high:
        raise _bad_request(f"Invalid value '{raw[:50]}' for query option '{name}'.")
    return int(raw)


def _descending(orderby: str | None) -> bool:
    if orderby is None:
        return True  # Graph lists messages newest first
    words = orderby.split()
    if not words or words[0].lower() != "receiveddatetime" or len(words) > 2 or (
            len(words) == 2 and words[1].lower() not in ("asc", "desc")):
        raise _bad_request(f"$orderby: only 'receivedDateTime [asc|desc]' is supported, got '{orderby[:100]}'.")
    return len(words) == 2 and words[1].lower() == "desc"


def _select(raw: str | None, known: tuple[str, ...]) -> list[str] | None:
    if raw is None:
        return None
    names = [n.strip() for n in raw.split(",") if n.strip()]
    lowered = {k.lower(): k for k in known}
    chosen = []
    for name in names:
        if name.lower() not in lowered:
            raise _bad_request(f"Could not find a property named '{name[:100]}' on type 'microsoft.graph.message'.")
        chosen.append(lowered[name.lower()])
    return chosen


def _project(item: dict[str, Any], chosen: list[str] | None) -> dict[str, Any]:
    if chosen is None:
        return item
    return {k: v for k, v in item.items() if k.startswith("@odata.") or k == "id" or k in chosen}


_EXPAND = re.compile(r"^attachments(?:\(\$select=(?P<select>[\w,\s]+)\))?$", re.IGNORECASE)


def _expand(raw: str | None) -> tuple[bool, list[str] | None]:
    """Whether ``$expand=attachments`` was asked, and its nested ``$select``."""
    if raw is None:
        return False, None
    match = _EXPAND.match(raw.strip())
    if match is None:
        raise _bad_request(f"$expand: only 'attachments' can be expanded, got '{raw[:100]}'.")
    return True, _select(match["select"], ATTACHMENT_PROPERTIES)


# --- the endpoints --------------------------------------------------------------------------------------

Handler = Callable[[Request], Awaitable[Response]]


class GraphMail:
    """The mail endpoints over one tier's state."""

    def __init__(self, state: TierState) -> None:
        self.state = state

    def answer(self, handler: Callable[[Request], Awaitable[Response]]) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except GraphError as exc:
                return exc.response(self.state.clock.now())
        return endpoint

    # --- who may read ---------------------------------------------------------------------------------
    def authorize(self, request: Request) -> None:
        """Check the bearer token as Graph does: 401 for a missing or invalid one, 403 without Mail.Read."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if not token:
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.")
        if scheme.lower() != "bearer" or token.count(".") != 2:
            raise GraphError(401, "InvalidAuthenticationToken", "CompactToken parsing failed with error code: "
                                                                "80049217")
        try:
            claims = self.state.tokens.verified_claims(token)
        except InvalidToken:
            raise GraphError(401, "InvalidAuthenticationToken", "Access token validation failure.") from None
        if claims.get("aud") not in (GRAPH_RESOURCE, GRAPH_APP_ID):
            raise GraphError(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
        if claims.get("tid") != self.state.tenant.tenant_id:
            raise GraphError(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid issuer.")
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= self.state.clock.now():
            raise GraphError(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
        roles = claims.get("roles")
        if not isinstance(roles, list) or not MAIL_READ_ROLES.intersection(map(str, roles)):
            raise GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")

    def mailbox_user(self, request: Request) -> User:
        name = request.path_params["user"]
        tenant = self.state.tenant
        user = tenant.user(name) or next((u for u in tenant.users if u.object_id == name.strip().lower()), None)
        if user is None:
            raise GraphError(404, "ErrorInvalidUser", f"The requested user '{name[:200]}' is invalid.")
        if not user.mailbox:
            raise GraphError(404, "MailboxNotEnabledForRESTAPI",
                             "The mailbox is either inactive, soft-deleted, or is hosted on-premise.")
        return user

    def _message(self, request: Request) -> StoredMessage:
        self.authorize(request)
        user = self.mailbox_user(request)
        wanted = _store_id(request.path_params["id"])
        found = next((m for m in self.state.mail.messages(user.upn) if m.id == wanted), None)
        if found is None:
            raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        return found

    # --- endpoints ------------------------------------------------------------------------------------
    async def list_messages(self, request: Request) -> Response:
        self.authorize(request)
        user = self.mailbox_user(request)
        params = dict(request.query_params)
        unknown = [name for name in params if name.startswith("$") and name.lower() not in _QUERY_OPTIONS]
        if unknown:
            raise _bad_request(f"Query option '{unknown[0][:50]}' is not allowed.")
        top = _int_option(params, "$top", DEFAULT_TOP, 1, MAX_TOP)
        skip = _int_option(params, "$skip", 0, 0, 1_000_000)
        descending = _descending(params.get("$orderby"))
        keep = parse_filter(params["$filter"]) if "$filter" in params else None
        chosen = _select(params.get("$select"), MESSAGE_PROPERTIES)
        expand, attachment_fields = _expand(params.get("$expand"))

        stored = list(enumerate(self.state.mail.messages(user.upn)))  # delivery order breaks ties of time
        stored.sort(key=lambda pair: (int(pair[1].received_at), pair[0]), reverse=descending)
        matching = [m for _, m in stored if keep is None or keep(m)]
        page = matching[skip: skip + top]
        values = []
        for item in page:
            shaped = _project(message_json(item), chosen)
            if expand:
                shaped["attachments"] = [_project(a, attachment_fields) for a in _attachments(item)]
            values.append(shaped)
        origin = f"{request.url.scheme}://{request.url.netloc}"
        body: dict[str, Any] = {"@odata.context": f"{origin}{PREFIX}/$metadata#users('{user.upn}')/messages",
                                "value": values}
        if skip + top < len(matching):
            body["@odata.nextLink"] = str(request.url.include_query_params(**{"$skip": str(skip + top)}))
        return JSONResponse(body)

    async def get_message(self, request: Request) -> Response:
        found = self._message(request)
        chosen = _select(request.query_params.get("$select"), MESSAGE_PROPERTIES)
        return JSONResponse(_project(message_json(found), chosen))

    async def list_attachments(self, request: Request) -> Response:
        found = self._message(request)
        chosen = _select(request.query_params.get("$select"), ATTACHMENT_PROPERTIES)
        return JSONResponse({"value": [_project(a, chosen) for a in _attachments(found)]})

    async def unsupported(self, request: Request) -> Response:
        self.authorize(request)
        segment = request.path_params.get("rest", "").split("/")[-1] or "v1.0"
        raise _bad_request(f"Resource not found for the segment '{segment[:100]}'.")


def graph_routes(state: TierState) -> list[BaseRoute]:
    """The Graph routes, for the identity provider's app (they share its HTTPS port and certificate)."""
    graph = GraphMail(state)
    return [
        Route(f"{PREFIX}/users/{{user}}/messages", graph.answer(graph.list_messages), methods=["GET"]),
        Route(f"{PREFIX}/users/{{user}}/messages/{{id}}", graph.answer(graph.get_message), methods=["GET"]),
        Route(f"{PREFIX}/users/{{user}}/messages/{{id}}/attachments", graph.answer(graph.list_attachments),
              methods=["GET"]),
        Route(f"{PREFIX}/{{rest:path}}", graph.answer(graph.unsupported),
              methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
    ]
