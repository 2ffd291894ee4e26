"""The tier's control API: HTTPS + JSON, bearer token, loopback only; tests steer the tenant and read mail.

Every answer is JSON. Errors are ``{"error", "message", "field"?}`` with 400 (unreadable body), 401 (no or
wrong token), 403 (not loopback), 404 (unknown user, app, policy or path), 409 (a conflict with the tier's
state), 413 (body over 64 KiB) or 422 (a field with a bad value); bad input never causes a 500.
Endpoints and examples: ``docs/control-api.md``.
"""

from __future__ import annotations

import dataclasses
import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NoReturn, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from harness.clock import VirtualClock, iso
from harness.lab.yamlfile import key_path
from harness.msft.state import TierState
from harness.msft.tenant import DAY, SMTP_SEND, AppRegistration, ConditionalAccessPolicy, Tenant, User

MAX_BODY = 64 * 1024
#: ``transcripts(address)`` → the SMTP server's session transcripts, optionally only those for one address.
TranscriptSource = Callable[[str | None], list[Any]]
B = TypeVar("B", bound=BaseModel)


class ApiError(Exception):
    """An error answer: HTTP status, a short code, a message, and the offending field if there is one."""

    def __init__(self, status: int, error: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.field = status, error, message, field

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"error": self.error, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        headers = {"WWW-Authenticate": 'Bearer realm="epson-hil control"'} if self.status == 401 else None
        return JSONResponse(body, status_code=self.status, headers=headers)


# --- request bodies --------------------------------------------------------------------------------------
class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ClockAdvance(Body):
    seconds: float = Field(ge=0, le=10 * 365 * DAY, allow_inf_nan=False)


class Switch(Body):
    enabled: bool


class MailboxSwitch(Body):
    #: None: inherit the organisation's switch (Set-CASMailbox -SmtpClientAuthenticationDisabled $null).
    enabled: bool | None


class ConsentRequest(Body):
    principal: str = "all"
    scopes: list[str] = Field(default_factory=lambda: [SMTP_SEND], min_length=1)


def _field_error(exc: ValidationError) -> ApiError:
    errs = exc.errors()
    lines = [f"{key_path(e['loc']) if e['loc'] else 'body'}: {e['msg']}" for e in errs]
    first = key_path(errs[0]["loc"]) if errs and errs[0]["loc"] else "body"
    return ApiError(422, "invalid_field", "; ".join(lines), field=first)


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


async def _json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, read with a size bound."""
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise ApiError(413, "too_large", f"body: larger than {MAX_BODY} bytes", field="body")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "bad_request", "body: not valid JSON", field="body") from None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", f"body: expected a JSON object, got {type(data).__name__}", field="body")
    return data


async def read_body(request: Request, model: type[B]) -> B:
    data = await _json_object(request)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _field_error(exc) from None


# --- views of the state ----------------------------------------------------------------------------------
def tenant_view(tenant: Tenant) -> dict[str, Any]:
    """The tenant's switches and directory without any password, with each mailbox's effective SMTP AUTH."""
    data = tenant.model_dump(exclude={"users": {"__all__": {"password"}}})
    for user in data["users"]:
        user["smtp_auth_block"] = tenant.smtp_auth_block(user["upn"])
    return data


def _jsonable(item: Any) -> Any:
    if hasattr(item, "as_dict"):
        return item.as_dict()
    if isinstance(item, BaseModel):
        return item.model_dump(mode="json")
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        return dataclasses.asdict(item)
    return item


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


class _Guard:
    """Loopback clients only (403), then the bearer token (401, compared in constant time)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        if not token:
            raise ValueError("the control API needs a non-empty token")
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            error = self._refusal(scope)
            if error is not None:
                await error.response()(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> ApiError | None:
        client = scope.get("client")
        if not _is_loopback(client[0] if client else None):
            return ApiError(403, "forbidden", "the control API answers loopback clients only")
        presented = b""
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                presented = value
        if not hmac.compare_digest(presented, self._expected):
            return ApiError(401, "unauthorized", "a valid 'Authorization: Bearer <token>' header is required")
        return None


# --- the app ---------------------------------------------------------------------------------------------
def create_control_app(state: TierState, token: str, tier_info: Callable[[], dict[str, Any]], *,
                       transcripts: TranscriptSource | None = None,
                       extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The control API over ``state``; ``transcripts`` (the SMTP server's) enables ``GET /smtp/transcripts``.

    ``extra_routes`` (e.g. the virtual devices') are served behind the same guard and error handling.
    """
    tenant = state.tenant

    def user_or_404(upn: str) -> User:
        user = tenant.user(upn)
        if user is None:
            raise ApiError(404, "not_found", f"upn: no user {upn!r} in tenant {tenant.domain}", field="upn")
        return user

    def app_or_404(client_id: str) -> AppRegistration:
        app = tenant.app(client_id)
        if app is None:
            raise ApiError(404, "not_found", f"client_id: no app registration {client_id!r}", field="client_id")
        return app

    def address_param(request: Request) -> str:
        address = request.path_params["address"].strip().lower()
        local, at, domain = address.partition("@")
        if not (local and at and domain):
            raise ApiError(422, "invalid_field", "address: expected an e-mail address like name@example.com",
                           field="address")
        return address

    def clock_view() -> dict[str, Any]:
        now = state.clock.now()
        return {"kind": "virtual" if isinstance(state.clock, VirtualClock) else "real", "now": now, "iso": iso(now)}

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "tenant_id": tenant.tenant_id, "clock": clock_view()})

    async def info(request: Request) -> Response:
        return JSONResponse(tier_info())

    async def get_clock(request: Request) -> Response:
        return JSONResponse(clock_view())

    async def advance_clock(request: Request) -> Response:
        body = await read_body(request, ClockAdvance)
        if not isinstance(state.clock, VirtualClock):
            raise ApiError(409, "conflict", "this tier runs on the real clock; only a virtual clock can be advanced")
        state.clock.advance(body.seconds)
        return JSONResponse(clock_view())

    async def list_messages(request: Request) -> Response:
        address = address_param(request)
        return JSONResponse({"address": address, "messages": [m.as_dict() for m in state.mail.messages(address)]})

    async def clear_messages(request: Request) -> Response:
        address = address_param(request)
        return JSONResponse({"address": address, "deleted": state.mail.clear(address)})

    async def get_tenant(request: Request) -> Response:
        return JSONResponse(tenant_view(tenant))

    async def tenant_smtp_auth(request: Request) -> Response:
        tenant.smtp_auth_enabled = (await read_body(request, Switch)).enabled
        return JSONResponse({"smtp_auth_enabled": tenant.smtp_auth_enabled})

    async def security_defaults(request: Request) -> Response:
        tenant.security_defaults = (await read_body(request, Switch)).enabled
        return JSONResponse({"security_defaults": tenant.security_defaults})

    async def user_smtp_auth(request: Request) -> Response:
        user = user_or_404(request.path_params["upn"])
        user.smtp_auth_enabled = (await read_body(request, MailboxSwitch)).enabled
        return JSONResponse({"upn": user.upn, "smtp_auth_enabled": user.smtp_auth_enabled,
                             "smtp_auth_block": tenant.smtp_auth_block(user.upn)})

    async def revoke_sessions(request: Request) -> Response:
        user = user_or_404(request.path_params["upn"])
        state.tokens.revoke_user(user.upn)
        return JSONResponse({"upn": user.upn, "revoked_at": state.clock.now()})

    async def list_policies(request: Request) -> Response:
        return JSONResponse([p.model_dump() for p in tenant.conditional_access])

    async def add_policy(request: Request) -> Response:
        data = await _json_object(request)
        try:
            policy = ConditionalAccessPolicy.model_validate(data, strict=True)
        except ValidationError as exc:
            raise _field_error(exc) from None
        if not policy.name.strip():
            raise ApiError(422, "invalid_field", "name: must not be empty", field="name")
        if not policy.users:
            raise ApiError(422, "invalid_field", "users: expected 'all' or at least one UPN", field="users")
        if any(p.name == policy.name for p in tenant.conditional_access):
            raise ApiError(409, "conflict", f"name: a policy named {policy.name!r} already exists", field="name")
        tenant.conditional_access = [*tenant.conditional_access, policy]
        return JSONResponse(policy.model_dump(), status_code=201)

    async def delete_policy(request: Request) -> Response:
        name = request.path_params["name"]
        kept = [p for p in tenant.conditional_access if p.name != name]
        if len(kept) == len(tenant.conditional_access):
            raise ApiError(404, "not_found", f"name: no conditional access policy named {name!r}", field="name")
        tenant.conditional_access = kept
        return JSONResponse({"deleted": name})

    async def public_client_flows(request: Request) -> Response:
        app = app_or_404(request.path_params["client_id"])
        app.allow_public_client_flows = (await read_body(request, Switch)).enabled
        return JSONResponse({"client_id": app.client_id, "allow_public_client_flows": app.allow_public_client_flows})

    def grants_of(client_id: str) -> list[dict[str, Any]]:
        return [g.model_dump() for g in tenant.consent_grants if g.client_id == client_id]

    async def get_consent(request: Request) -> Response:
        app = app_or_404(request.path_params["client_id"])
        return JSONResponse(grants_of(app.client_id))

    async def grant_consent(request: Request) -> Response:
        app = app_or_404(request.path_params["client_id"])
        body = await read_body(request, ConsentRequest)
        if body.principal != "all" and tenant.user(body.principal) is None:
            raise ApiError(422, "invalid_field", f"principal: expected 'all' or a tenant user's UPN, got "
                           f"{body.principal!r}", field="principal")
        if not any(s.startswith("https://") for s in body.scopes):
            raise ApiError(422, "invalid_field", f"scopes: expected a resource permission such as {SMTP_SEND}",
                           field="scopes")
        tenant.grant_consent(app.client_id, body.scopes, body.principal, on_behalf_of_org=body.principal == "all")
        return JSONResponse(grants_of(app.client_id), status_code=201)

    async def revoke_consent(request: Request) -> Response:
        app = app_or_404(request.path_params["client_id"])
        removed = len(grants_of(app.client_id))
        tenant.revoke_consent(app.client_id)
        return JSONResponse({"client_id": app.client_id, "removed": removed})

    async def signins(request: Request) -> Response:
        return JSONResponse(state.signins.as_dicts(request.query_params.get("upn") or None))

    async def smtp_transcripts(request: Request) -> Response:
        if transcripts is None:
            raise ApiError(404, "not_found", "this tier's SMTP server keeps no transcripts")
        address = request.query_params.get("address") or None
        return JSONResponse([_jsonable(t) for t in transcripts(address)])

    def route(path: str, endpoint: Callable[[Request], Awaitable[Response]], method: str) -> Route:
        return Route(path, endpoint, methods=[method])

    routes = [
        route("/health", health, "GET"),
        route("/info", info, "GET"),
        route("/clock", get_clock, "GET"),
        route("/clock/advance", advance_clock, "POST"),
        route("/mailboxes/{address}/messages", list_messages, "GET"),
        route("/mailboxes/{address}/messages", clear_messages, "DELETE"),
        route("/tenant", get_tenant, "GET"),
        route("/tenant/smtp-auth", tenant_smtp_auth, "PUT"),
        route("/tenant/security-defaults", security_defaults, "PUT"),
        route("/tenant/conditional-access", list_policies, "GET"),
        route("/tenant/conditional-access", add_policy, "POST"),
        route("/tenant/conditional-access/{name:path}", delete_policy, "DELETE"),
        route("/users/{upn}/smtp-auth", user_smtp_auth, "PUT"),
        route("/users/{upn}/revoke-sessions", revoke_sessions, "POST"),
        route("/apps/{client_id}/public-client-flows", public_client_flows, "PUT"),
        route("/apps/{client_id}/consent", get_consent, "GET"),
        route("/apps/{client_id}/consent", grant_consent, "POST"),
        route("/apps/{client_id}/consent", revoke_consent, "DELETE"),
        route("/signins", signins, "GET"),
        route("/smtp/transcripts", smtp_transcripts, "GET"),
        *extra_routes,
    ]

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return exc.response()

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        codes = {404: "not_found", 405: "method_not_allowed"}
        error = ApiError(exc.status_code, codes.get(exc.status_code, "bad_request"),
                         f"{request.method} {request.url.path}: {exc.detail}")
        response = error.response()
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    async def server_error(request: Request, exc: Exception) -> Response:
        return ApiError(500, "internal_error", f"the control API failed: {type(exc).__name__}").response()

    return Starlette(routes=routes, middleware=[Middleware(_Guard, token=token)],
                     exception_handlers={ApiError: api_error, HTTPException: http_error, Exception: server_error})
