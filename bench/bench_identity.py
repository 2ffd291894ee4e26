"""Benchmark: token requests per second to the tier's identity provider over HTTPS with keep-alive, beside a baseline.

Each client thread keeps one HTTPS connection (a ``requests.Session``, as msal uses) and repeats one request:

  baseline   a bare Starlette endpoint answering a fixed small JSON, served by the same stack as the tier (uvicorn +
             TLS with the tier's certificate + Starlette), posted the same form as a device-code poll
  poll       the device-code grant answered ``authorization_pending`` (400): what a waiting printer sends every
             interval, the most frequent request; codes come from a pool so that none is polled sooner than the
             tenant's interval (a faster poll is answered ``slow_down``, which counts as an error here)
  refresh    the refresh-token grant (msal's ``acquire_token_silent``): checks the grant, signs an access token and
             an ID token (RS256) and rotates the refresh token; each thread goes on with the one it got last

Servers run in one child process; rounds are interleaved (baseline, poll, refresh, baseline, ...) and the median
rate is reported, with the server's CPU per request, which does not depend on client speed. The child also times
RS256 signing and a whole token issue on their own, and names uvicorn's HTTP parser and the tier's event loop.
Usage: ``.venv/bin/python bench/bench_identity.py [--threads 4] [--seconds 3] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import requests
from common import (
    Result,
    ServerProcess,
    Work,
    add_arguments,
    answer_until_stopped,
    interleaved,
    load,
    median,
    print_table,
    total_errors,
)

PRINTER = "printer@epsonlab.onmicrosoft.com"
#: What msal asks for: the resource scope plus the reserved OpenID Connect ones.
SCOPE = "https://outlook.office.com/SMTP.Send offline_access openid profile"
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
TARGET_RATE = 500.0
TARGET_RATIO = 0.5
SIGN_SAMPLES = 200
#: The identity provider keeps at most 10,000 pending device codes; the pool stays well below.
MAX_POOL = 8000


class BenchFailure(Exception):
    """An answer other than the one the measured request must get."""


# --- server side (child process) ---------------------------------------------------------------------------
async def _fixed_json(request: Any) -> Any:
    from starlette.responses import JSONResponse

    return JSONResponse({"status": "ok"})


async def _loop_name() -> str:
    return type(asyncio.get_running_loop()).__module__


def _time_signing(tier: Any) -> dict[str, float]:
    """Milliseconds per RS256 signature (PyJWT, 2048-bit key as the tier's) and per whole token issue."""
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    from harness.msft.tier import SCOPES

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tenant = tier.state.tenant
    user, app = tenant.user(PRINTER), tenant.apps[0]
    started = time.process_time()
    for i in range(SIGN_SAMPLES):
        jwt.encode({"sub": "bench", "n": i}, key, algorithm="RS256", headers={"kid": "bench"})
    signed = time.process_time()
    for _ in range(SIGN_SAMPLES):
        tier.state.tokens.issue(user, app, list(SCOPES), issuer=tier.authority)
    issued = time.process_time()
    return {"sign_ms": 1000 * (signed - started) / SIGN_SAMPLES, "issue_ms": 1000 * (issued - signed) / SIGN_SAMPLES}


def _serve(conn: Connection, inventory: str, threads: int) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Route
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    from harness.asgi import ThreadedAsgiServer
    from harness.msft.tenant import SMTP_SEND, load_tenant
    from harness.msft.tier import SCOPES, MicrosoftTier

    state_dir = Path(tempfile.mkdtemp(prefix="bench-identity-"))
    tenant = load_tenant(Path(inventory))
    app = tenant.apps[0]
    tenant.grant_consent(app.client_id, [SMTP_SEND], "admin", on_behalf_of_org=True)  # the guide's first sign-in
    tier = MicrosoftTier(tenant, state_dir)
    tier.start()
    certfile, keyfile = tier.server_cert.write(state_dir, "baseline")
    baseline = ThreadedAsgiServer(Starlette(routes=[Route("/baseline", _fixed_json, methods=["POST"])]),
                                  certfile=certfile, keyfile=keyfile)
    baseline.start()
    user = tenant.user(PRINTER)
    assert user is not None
    scopes = [*SCOPES, "offline_access", "openid", "profile"]
    refresh_tokens = [tier.state.tokens.issue(user, app, scopes, issuer=f"{tier.authority}/v2.0")["refresh_token"]
                      for _ in range(threads)]
    answer_until_stopped(conn, {
        "identity": f"https://localhost:{tier.identity_port}/{tenant.tenant_id}",
        "baseline": f"https://localhost:{baseline.port}/baseline",
        "ca_bundle": str(tier.ca_bundle),
        "client_id": app.client_id,
        "refresh_tokens": refresh_tokens,
        "http": AutoHTTPProtocol.__name__,
        "loop": tier.call(_loop_name()),
        **_time_signing(tier),
    })
    baseline.stop()
    tier.stop()


# --- client side ----------------------------------------------------------------------------------------------
class DeviceCodePool:
    """Pending device codes shared by the client threads, each handed out no sooner than ``gap`` after its last use."""

    def __init__(self, gap: float) -> None:
        self.gap = gap
        self.misses = 0
        self._codes: collections.deque[tuple[float, str]] = collections.deque()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._codes)

    def take(self) -> str | None:
        """The code rested longest, or None when even that one was used too recently (the pool is too small)."""
        with self._lock:
            if self._codes and time.monotonic() - self._codes[0][0] >= self.gap:
                return self._codes.popleft()[1]
            self.misses += 1
            return None

    def give_back(self, code: str) -> None:
        with self._lock:
            self._codes.append((time.monotonic(), code))


class Client:
    """The benchmark's three requests, each checked for the answer it must get."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self.client_id: str = info["client_id"]
        self.token_url = f"{info['identity']}/oauth2/v2.0/token"
        self.devicecode_url = f"{info['identity']}/oauth2/v2.0/devicecode"
        self.pool = DeviceCodePool(gap=1.0)
        self._refresh_tokens: list[str] = list(info["refresh_tokens"])
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def session(self) -> Iterator[requests.Session]:
        with requests.Session() as http:
            http.verify, http.trust_env = self.info["ca_bundle"], False  # not REQUESTS_CA_BUNDLE, no proxies
            yield http

    def new_device_code(self, http: requests.Session) -> str:
        answer = http.post(self.devicecode_url, data={"client_id": self.client_id, "scope": SCOPE})
        if answer.status_code != 200:
            raise BenchFailure(f"devicecode answered {answer.status_code}")
        body = answer.json()
        self.pool.gap = max(self.pool.gap, float(body["interval"]))
        return str(body["device_code"])

    def fill_pool(self, size: int, threads: int) -> None:
        """Create device codes until the pool holds ``size``; raise the first failure."""
        failed: list[BaseException] = []

        def worker() -> None:
            with self.session() as http:
                while len(self.pool) < size and not failed:
                    try:
                        self.pool.give_back(self.new_device_code(http))
                    except (OSError, BenchFailure, ValueError, KeyError) as exc:
                        failed.append(exc)

        pool = [threading.Thread(target=worker) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        if failed:
            raise BenchFailure(f"could not create device codes: {failed[0]}")

    def poll_form(self, device_code: str) -> dict[str, str]:
        return {"grant_type": DEVICE_CODE_GRANT, "client_id": self.client_id, "device_code": device_code}

    def baseline(self) -> Work:
        form = self.poll_form("DAQABIQEAAAD" + "x" * 192)  # as long as a real device code

        @contextlib.contextmanager
        def work() -> Iterator[Callable[[], None]]:
            with self.session() as http:
                def once() -> None:
                    answer = http.post(self.info["baseline"], data=form)
                    if answer.status_code != 200 or answer.json() != {"status": "ok"}:
                        raise BenchFailure(f"baseline answered {answer.status_code}")
                yield once
        return work

    def poll(self) -> Work:
        @contextlib.contextmanager
        def work() -> Iterator[Callable[[], None]]:
            with self.session() as http:
                def once() -> None:
                    code = self.pool.take() or self.new_device_code(http)
                    answer = http.post(self.token_url, data=self.poll_form(code))
                    self.pool.give_back(code)
                    if answer.status_code != 400 or answer.json().get("error") != "authorization_pending":
                        raise BenchFailure(f"poll answered {answer.status_code} {answer.text[:120]}")
                yield once
        return work

    def refresh(self) -> Work:
        @contextlib.contextmanager
        def work() -> Iterator[Callable[[], None]]:
            with self._lock:
                token = self._refresh_tokens.pop()
            try:
                with self.session() as http:
                    def once() -> None:
                        nonlocal token
                        answer = http.post(self.token_url, data={
                            "grant_type": "refresh_token", "client_id": self.client_id, "refresh_token": token,
                            "scope": SCOPE, "client_info": "1"})
                        if answer.status_code != 200:
                            raise BenchFailure(f"refresh answered {answer.status_code} {answer.text[:120]}")
                        token = answer.json()["refresh_token"]
                    yield once
            finally:
                with self._lock:
                    self._refresh_tokens.append(token)
        return work


def _report(args: argparse.Namespace, info: dict[str, Any], client: Client, pool_size: int,
            runs: dict[str, list[Result]]) -> None:
    results = {name: median(r) for name, r in runs.items()}
    baseline, poll, refresh = results["baseline"], results["poll"], results["refresh"]
    print(f"Token requests over HTTPS keep-alive on loopback: {args.threads} client threads (requests.Session), "
          f"median of {args.rounds} interleaved {args.seconds:.0f} s runs per server")
    print(f"uvicorn HTTP parser: {info['http']}; tier event loop: {info['loop']}; device codes in the poll pool: "
          f"{pool_size}, pool misses: {client.pool.misses}")
    print_table(runs, "request")
    for result in (poll, refresh):
        label = f"rate ratio {result.name}/baseline:"
        print(f"{label:<30}{result.rate / baseline.rate:.2f}  (target >= {TARGET_RATIO})"
              f"   server CPU ratio baseline/{result.name}: {baseline.cpu_ms / result.cpu_ms:.2f}")
    print(f"RS256 signature: {info['sign_ms']:.3f} ms; whole token issue (2 signatures): {info['issue_ms']:.3f} ms, "
          f"{100 * info['issue_ms'] / refresh.cpu_ms:.0f} % of a refresh request's server CPU "
          f"({refresh.cpu_ms:.3f} ms)")
    errors = total_errors(runs.values())
    for result in (poll, refresh):
        met = result.rate >= TARGET_RATE and result.rate >= TARGET_RATIO * baseline.rate and errors == 0
        print(f"{result.name} token requests/s: {result.rate:.1f} (target >= {TARGET_RATE:.0f}), errors {errors} "
              f"-> {'MET' if met else 'NOT MET'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args()

    servers = ServerProcess(_serve, args.inventory, args.threads)
    try:
        client = Client(servers.info)
        works = {"baseline": client.baseline(), "poll": client.poll(), "refresh": client.refresh()}
        failures = (OSError, BenchFailure, ValueError, KeyError)  # requests' errors are OSErrors
        # Enough codes that each rests a full interval even if polls went as fast as the baseline is answered.
        ceiling = load("baseline", works["baseline"], args.threads, 1.0, servers.cpu, failures).rate
        client.fill_pool(min(MAX_POOL, int(ceiling * client.pool.gap * 2) + args.threads), args.threads)
        pool_size = len(client.pool)
        runs = interleaved(works, args, servers.cpu, failures)
    finally:
        servers.stop()
    _report(args, servers.info, client, pool_size, runs)


if __name__ == "__main__":
    main()
