"""``create_webconfig_app``: one virtual device's Web Config as a Starlette app (served over plain HTTP).

Answers carry ``Server: EPSON-HTTP``. Unknown pages get a 404 page, malformed requests a 400 page, and an
unexpected fault a 500 page; the server keeps serving either way.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harness.sim.device import VirtualDevice
from harness.sim.services import DeviceServices
from harness.sim.webconfig.context import WebConfig
from harness.sim.webconfig.markup import document, esc, header
from harness.sim.webconfig.pages import certificates, common, email_server, info, network, serverless, signin, transfer
from harness.sim.webconfig.session import SessionStore

log = logging.getLogger(__name__)
SERVER = b"EPSON-HTTP"


class ServerHeader:
    """ASGI middleware: every answer names its server as Epson's does."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_named(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                message = {**message, "headers": [*headers, (b"server", SERVER)]}
            await send(message)

        await self.app(scope, receive, send_named)


def _error_page(status: int, text: str) -> HTMLResponse:
    page = document("Web Config", header(f"Error {status}") + f'<div class="section"><p>{esc(text)}</p></div>')
    return HTMLResponse(page, status_code=status, headers={"Server": SERVER.decode()})


def create_webconfig_app(device: VirtualDevice, services: DeviceServices) -> Starlette:
    """Web Config of ``device``; sign-in, connection test and certificate checks go through ``services``."""
    wc = WebConfig(device, services, SessionStore(device))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return wc.not_found(request)
        return _error_page(exc.status_code, str(exc.detail))

    async def server_error(request: Request, exc: Exception) -> Response:
        log.error("Web Config of %s failed on %s %s: %s", device.identity.name, request.method, request.url.path,
                  type(exc).__name__)
        return _error_page(500, "An internal error occurred. Try again.")

    routes = []
    for module in (common, info, email_server, signin, certificates, network, serverless, transfer):
        routes += module.routes(wc)
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error, Exception: server_error})
    app.add_middleware(ServerHeader)
    app.state.webconfig = wc
    return app
