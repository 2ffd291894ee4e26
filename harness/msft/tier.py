"""The built-in Microsoft tier: identity provider, SMTP submission and control API in one asyncio loop.

Everything listens on loopback ephemeral ports and presents one certificate from the lab CA whose names are
Microsoft's (login.microsoftonline.com, microsoft.com, smtp.office365.com, ...), so clients configured exactly
as the guide says reach the tier once their resolver maps those names here.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, Self

from starlette.routing import BaseRoute

from harness.asgi import AsgiService, bind_tcp
from harness.clock import Clock, VirtualClock
from harness.msft.state import TierState
from harness.msft.tenant import SMTP_SEND, Tenant
from harness.pki import LabCA, ServerCertificate
from harness.reporting.redaction import register_secret

#: What a client asks for; msal adds the reserved scopes (offline_access, openid, profile) itself and refuses them.
SCOPES = [SMTP_SEND]


class TierError(RuntimeError):
    """The tier could not start or stop."""


class MicrosoftTier:
    """Starts and stops the tier in a background thread; exposes where each service listens."""

    def __init__(self, tenant: Tenant, state_dir: Path, *, clock: Clock | None = None,
                 host: str = "127.0.0.1", ca: LabCA | None = None,
                 control_routes: Sequence[BaseRoute] = ()) -> None:
        self.state = TierState(tenant=tenant, clock=clock or VirtualClock())
        self.state_dir = Path(state_dir)
        self.host = host
        self.ca = ca or LabCA.create()
        self.server_cert: ServerCertificate = self.ca.issue()
        self.control_token = secrets.token_urlsafe(32)
        register_secret(self.control_token, *(u.password for u in tenant.users),
                        *(a.client_secret for a in tenant.apps))
        self.control_routes = list(control_routes)
        self.ca_bundle = self.state_dir / "lab-ca.pem"
        self.identity_port = self.smtp_port = self.control_port = 0
        self.smtp: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    # --- addresses --------------------------------------------------------------------------------------
    @property
    def authority(self) -> str:
        return f"https://localhost:{self.identity_port}/{self.state.tenant.tenant_id}"

    @property
    def devicelogin_url(self) -> str:
        return f"https://localhost:{self.identity_port}/devicelogin"

    @property
    def control_url(self) -> str:
        return f"https://localhost:{self.control_port}"

    @property
    def client_id(self) -> str:
        return self.state.tenant.apps[0].client_id

    def lab_info(self) -> dict[str, Any]:
        """The ``msft`` section of lab.json (test identities of the virtual tenant included)."""
        tenant = self.state.tenant
        return {
            "kind": "builtin",
            "tenant_id": tenant.tenant_id,
            "domain": tenant.domain,
            "authority": self.authority,
            "client_id": self.client_id,
            "scopes": list(SCOPES),
            "ca_bundle": str(self.ca_bundle),
            "devicelogin_url": self.devicelogin_url,
            "graph_url": f"https://localhost:{self.identity_port}/v1.0",
            "identity": {"host": self.host, "port": self.identity_port,
                         "spki_sha256": self.server_cert.spki_sha256_b64},
            "smtp": {"host": self.host, "port": self.smtp_port, "server_name": "smtp.office365.com"},
            "control": {"url": self.control_url, "token": self.control_token},
            "users": [{"upn": u.upn, "password": u.password, "roles": list(u.roles)} for u in tenant.users],
        }

    # --- life cycle -------------------------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> None:
        """Start every service; return once all accept connections (raise :class:`TierError` otherwise)."""
        if self._thread is not None:
            raise TierError("the tier is already running")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.ca.write_bundle(self.ca_bundle)
        self._thread = threading.Thread(target=self._run, name="msft-tier", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TierError(f"the Microsoft tier did not start within {timeout:.0f} s")
        if self._failure is not None:
            self._thread.join(5)
            self._thread = None
            raise TierError(f"the Microsoft tier failed to start: {self._failure}") from self._failure

    def stop(self, timeout: float = 15.0) -> None:
        """Stop every service and the loop; idempotent."""
        if self._thread is None or self._loop is None or self._stopping is None:
            return
        self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout)
        self._thread = None

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 30.0) -> Any:
        """Run ``coro`` on the tier's loop from another thread and return its result."""
        if self._loop is None:
            raise TierError("the tier is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start() through _failure
            self._failure = exc
            self._ready.set()
        finally:
            loop.close()

    async def _serve(self) -> None:
        # Imported here so that the tier's pieces load only when a tier runs.
        from harness.msft.control import create_control_app
        from harness.msft.identity import create_identity_app
        from harness.msft.smtp import ExchangeSmtp

        self._stopping = asyncio.Event()
        certfile, keyfile = self.server_cert.write(self.state_dir, "tier")
        identity = AsgiService(create_identity_app(self.state), bind_tcp(self.host), certfile, keyfile)
        self.smtp = ExchangeSmtp(self.state, self.server_cert.server_context(self.state_dir, "tier"))
        control = AsgiService(
            create_control_app(self.state, self.control_token, self.lab_info, transcripts=self.smtp.transcripts,
                               extra_routes=self.control_routes),
            bind_tcp(self.host), certfile, keyfile,
        )
        loop = asyncio.get_running_loop()
        smtp_server = await loop.create_server(self.smtp.protocol_factory, self.host, 0)
        started: list[AsgiService] = []
        try:
            for service in (identity, control):
                await service.start()
                started.append(service)
            self.identity_port, self.control_port = identity.port, control.port
            self.smtp_port = int(smtp_server.sockets[0].getsockname()[1])
            self._ready.set()
            await self._stopping.wait()
        finally:
            smtp_server.close()
            await smtp_server.wait_closed()
            # Together: each notices its stop on its own 0.1 s tick.
            await asyncio.gather(*(service.stop() for service in started))
