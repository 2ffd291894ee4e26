"""Serving ASGI apps (HTTP or HTTPS) on pre-bound loopback sockets, in an existing loop or a thread of their own."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, Self

import uvicorn


def bind_tcp(host: str, port: int = 0) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0 = ephemeral), so the port is known before serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio sets TCP_NODELAY only on accepted sockets whose proto is IPPROTO_TCP, and
    # without it Nagle holds a response's second TLS record for the client's delayed ACK (~40 ms a request).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(256)
    sock.setblocking(False)
    return sock


class AsgiService:
    """One uvicorn server on one socket, over TLS when given a certificate; start and stop from its loop."""

    def __init__(self, app: Any, sock: socket.socket, certfile: Path | None = None,
                 keyfile: Path | None = None) -> None:
        self.app = app
        self.sock = sock
        self.certfile, self.keyfile = certfile, keyfile
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    @property
    def url(self) -> str:
        scheme = "https" if self.certfile else "http"
        return f"{scheme}://{self.sock.getsockname()[0]}:{self.port}"

    async def start(self) -> None:
        tls: dict[str, Any] = {}
        if self.certfile and self.keyfile:
            tls = {"ssl_certfile": str(self.certfile), "ssl_keyfile": str(self.keyfile)}
        # A short graceful shutdown: a lab stops when its run is over, and a request still open then (2 s of every
        # run's end with uvicorn's default wait) has nobody left to answer.
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off",
                                server_header=False, timeout_keep_alive=30, timeout_graceful_shutdown=1, **tls)
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


class LoopThread:
    """An asyncio loop running in a daemon thread; other threads hand it coroutines."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 30.0) -> Any:
        """Run ``coro`` on the loop and return its result (raising what it raised)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self, timeout: float = 15.0) -> None:
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)
        if not self.loop.is_running():
            self.loop.close()


class ThreadedAsgiServer:
    """An :class:`AsgiService` on its own loop thread (tests, one-off tools)."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, *,
                 certfile: Path | None = None, keyfile: Path | None = None) -> None:
        self.service = AsgiService(app, bind_tcp(host, port), certfile, keyfile)
        self._loop: LoopThread | None = None

    @property
    def url(self) -> str:
        return self.service.url

    @property
    def port(self) -> int:
        return self.service.port

    def start(self, timeout: float = 15.0) -> None:
        self._loop = LoopThread("asgi-server")
        self._loop.run(self.service.start(), timeout)

    def stop(self, timeout: float = 15.0) -> None:
        if self._loop is None:
            return
        try:
            self._loop.run(self.service.stop(), timeout)
        finally:
            self._loop.close(timeout)
            self._loop = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
