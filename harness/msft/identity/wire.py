"""Reading requests and writing answers the way Entra's endpoints do: bounded form bodies, error JSON."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse

from harness.msft import errors
from harness.msft.errors import Aadsts, GrantError
from harness.msft.tenant import Tenant

#: Largest request body read; real token requests are well under 16 KiB.
MAX_BODY = 64 * 1024
MAX_FIELDS = 64
FORM_TYPE = "application/x-www-form-urlencoded"
MALFORMED = Aadsts(9002313, "invalid_request", "Invalid request. Request is malformed or invalid.")
#: Tenant path segments that stand for "whichever tenant the user belongs to". ``consumers`` is where
#: Outlook.com (personal Microsoft account) sign-ins go; the virtual lab's one tenant stands in for it too.
MULTI_TENANT = frozenset({"common", "organizations", "consumers"})
NO_STORE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}

_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}))(?::[0-9]{1,5})?$")


class Malformed(Exception):
    """The request cannot be read at all (too large, not UTF-8, not a form)."""


async def read_form(request: Request) -> dict[str, str]:
    """The url-encoded form in the body (first value of each name); other content types read as empty."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise Malformed("body too large")
    if content_type != FORM_TYPE:
        return {}
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise Malformed("not a url-encoded UTF-8 form") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form


def required(form: dict[str, str], name: str) -> str:
    """A parameter that must be present and non-blank, else Entra's AADSTS900144."""
    value = form.get(name, "").strip()
    if not value:
        raise GrantError(errors.MISSING_PARAMETER, name=name)
    return value


def request_origin(request: Request) -> str:
    """``https://host[:port]`` as the client addressed this server, so every URL we hand out works for it."""
    host = request.headers.get("host", "")
    if not _HOST.match(host):
        raise Malformed("bad Host header")
    return f"https://{host}"


def resolve_tenant(tenant: Tenant, segment: str) -> str:
    """The tenant path segment to echo in URLs (GUID, or common/organizations/consumers); raise 90002 for others."""
    lowered = segment.strip().lower()
    if lowered in MULTI_TENANT:
        return lowered
    if lowered in (tenant.tenant_id, tenant.domain.lower()):
        return tenant.tenant_id
    raise GrantError(errors.TENANT_NOT_FOUND, name=segment[:100])


def error_response(err: Aadsts, now: float, **fmt: str) -> JSONResponse:
    """Entra's JSON error answer for ``err``."""
    return JSONResponse(errors.error_body(err, now, **fmt), status_code=err.status, headers=NO_STORE)
