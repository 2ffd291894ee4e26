"""Serving an ASGI app over HTTPS on a pre-bound loopback socket inside an existing asyncio loop."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from pathlib import Path

import uvicorn


def bind_tcp(host: str, port: int = 0) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0 = ephemeral), so the port is known before serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(256)
    sock.setblocking(False)
    return sock


@dataclass
class HttpsService:
    """One uvicorn server bound to one socket; start and stop from the owning loop."""

    app: object
    sock: socket.socket
    certfile: Path
    keyfile: Path
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    async def start(self) -> None:
        config = uvicorn.Config(
            self.app, ssl_certfile=str(self.certfile), ssl_keyfile=str(self.keyfile),
            log_level="warning", access_log=False, lifespan="off", server_header=False,
            timeout_keep_alive=30, timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.get_running_loop().create_task(self._server.serve(sockets=[self.sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raise the start-up failure
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        self.sock.close()
