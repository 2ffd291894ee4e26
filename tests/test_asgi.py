"""harness.asgi: the listening sockets it makes for uvicorn."""

from __future__ import annotations

import asyncio
import socket

from harness.asgi import LoopThread, bind_tcp


def test_connections_accepted_on_bind_tcp_sockets_have_nodelay() -> None:
    """asyncio sets TCP_NODELAY only when the socket says it is TCP; without it every keep-alive request waits
    for the peer's delayed ACK (~40 ms)."""

    async def accepted_nodelay() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        listening = bind_tcp("127.0.0.1")
        server = await asyncio.get_running_loop().create_server(Probe, sock=listening)
        async with server:
            _, writer = await asyncio.open_connection("127.0.0.1", listening.getsockname()[1])
            try:
                return await asyncio.wait_for(accepted, 10)
            finally:
                writer.close()

    loop = LoopThread("nodelay-probe")  # its own thread: Playwright's sync API may hold a loop in this one
    try:
        assert loop.run(accepted_nodelay()) != 0
    finally:
        loop.close()
