"""Benchmark: authenticated XOAUTH2 submissions per second to the tier's SMTP server, beside baselines.

Each client session is what a printer does per job: connect, EHLO, STARTTLS, EHLO, AUTH XOAUTH2 (tier only), one
small message, QUIT. All servers run in one child process, one at a time under the same clients:

  plain      aiosmtpd, no TLS, no AUTH; the handler keeps nothing
  tls        aiosmtpd with STARTTLS required (the tier's certificate), no AUTH; the handler keeps nothing
  tls+store  as tls, but the handler parses and stores the message exactly as the tier does (parse_message
             into a MailStore), so tier against tls+store isolates XOAUTH2 and the Exchange behaviour
  tier       the Microsoft tier's ExchangeSmtp: STARTTLS + XOAUTH2 (RS256 check) + SendAs check + storing

Clients are threads using smtplib in this process, so the two cores are split between clients and servers.
Rounds are interleaved (plain, tls, tls+store, tier, plain, ...) and the median rate is reported, which damps
other load on the machine. Server CPU time per session is printed too: it does not depend on client speed.
Usage: ``.venv/bin/python bench/bench_smtp.py [--threads 4] [--seconds 3] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import smtplib
import ssl
import tempfile
import threading
from email.message import EmailMessage
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from common import (
    ServerProcess,
    Work,
    add_arguments,
    answer_until_stopped,
    interleaved,
    median,
    print_table,
    total_errors,
)

PRINTER = "printer@epsonlab.onmicrosoft.com"
ALICE = "alice@epsonlab.onmicrosoft.com"
TARGET_RATE = 150.0
TARGET_RATIO = 0.5


# --- server side (child process) ---------------------------------------------------------------------------
class _Accept:
    """The plain and tls baselines' handler: accept the message, keep nothing."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


class _Store:
    """The tls+store baseline's handler: parse and store the message as the tier does, without AUTH."""

    def __init__(self, clock: Any) -> None:
        from harness.msft.mailstore import MailStore

        self.clock = clock
        self.mail = MailStore()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from harness.msft.mailstore import parse_message

        for rcpt in envelope.rcpt_tos:
            self.mail.deliver(parse_message(envelope.original_content, mailbox=rcpt, received_at=self.clock.now(),
                                            envelope_from=envelope.mail_from, envelope_to=envelope.rcpt_tos,
                                            authenticated_as=""))
        return "250 OK"


def _serve(conn: Connection, inventory: str) -> None:
    from aiosmtpd.smtp import SMTP

    from harness.msft.tenant import load_tenant
    from harness.msft.tier import SCOPES, MicrosoftTier

    state_dir = Path(tempfile.mkdtemp(prefix="bench-smtp-"))
    tier = MicrosoftTier(load_tenant(Path(inventory)), state_dir)
    tier.start()
    tenant = tier.state.tenant
    user = tenant.user(PRINTER)
    assert user is not None
    token = tier.state.tokens.issue(user, tenant.apps[0], list(SCOPES), issuer=tier.authority)["access_token"]
    tls_context = tier.server_cert.server_context(state_dir, "baseline")

    loop = asyncio.new_event_loop()
    ports: dict[str, int] = {}
    ready = threading.Event()

    async def baselines() -> None:
        accept, store = _Accept(), _Store(tier.state.clock)
        plain = await loop.create_server(lambda: SMTP(accept, hostname="baseline", loop=loop), "127.0.0.1", 0)
        handlers: dict[str, object] = {"tls": accept, "tls+store": store}
        for name, handler in handlers.items():
            server = await loop.create_server(
                functools.partial(SMTP, handler, hostname="baseline", tls_context=tls_context,
                                  require_starttls=True, loop=loop),
                "127.0.0.1", 0)
            ports[name] = server.sockets[0].getsockname()[1]
        ports["plain"] = plain.sockets[0].getsockname()[1]
        ready.set()
        await asyncio.Event().wait()

    threading.Thread(target=lambda: loop.run_until_complete(baselines()), daemon=True).start()
    ready.wait(10)
    ports["tier"] = tier.smtp_port
    answer_until_stopped(conn, {"ports": ports, "ca_bundle": str(tier.ca_bundle), "token": token})
    tier.stop()


# --- client side ----------------------------------------------------------------------------------------------
def _message() -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = PRINTER, ALICE, "bench"
    message.set_content("One small scan-to-mail notification.\n")
    return message.as_bytes()


def _session(name: str, port: int, context: ssl.SSLContext, token: str, body: bytes) -> None:
    from harness.msft.smtp import xoauth2_blob

    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo("bench.lab")
        if name != "plain":
            client.starttls(context=context)
            client.ehlo("bench.lab")
        if name == "tier":
            code, text = client.docmd("AUTH", "XOAUTH2 " + xoauth2_blob(PRINTER, token))
            if code != 235:
                raise smtplib.SMTPAuthenticationError(code, text)
        client.sendmail(PRINTER, [ALICE], body)


SERVERS = ("plain", "tls", "tls+store", "tier")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args()

    servers = ServerProcess(_serve, args.inventory)
    info = servers.info
    context = ssl.create_default_context(cafile=info["ca_bundle"])
    body = _message()

    def work_for(name: str) -> Work:
        port = info["ports"][name]
        return lambda: contextlib.nullcontext(lambda: _session(name, port, context, info["token"], body))

    runs = interleaved({name: work_for(name) for name in SERVERS}, args, servers.cpu, (OSError, smtplib.SMTPException))
    servers.stop()
    results = {name: median(r) for name, r in runs.items()}

    print(f"SMTP submissions over loopback: {args.threads} client threads, median of {args.rounds} interleaved "
          f"{args.seconds:.0f} s runs per server")
    print_table(runs, "session")
    tier, tls, stored = results["tier"], results["tls"], results["tls+store"]
    print(f"rate ratio tier/tls:        {tier.rate / tls.rate:.2f}  (target >= {TARGET_RATIO})")
    print(f"rate ratio tier/tls+store:  {tier.rate / stored.rate:.2f}  (XOAUTH2 and Exchange behaviour alone)")
    print(f"rate ratio tier/plain:      {tier.rate / results['plain'].rate:.2f}")
    print(f"server CPU ratio tls/tier:  {tls.cpu_ms / tier.cpu_ms:.2f}   tls+store/tier: "
          f"{stored.cpu_ms / tier.cpu_ms:.2f}")
    errors = total_errors(runs.values())
    met = tier.rate >= TARGET_RATE and tier.rate >= TARGET_RATIO * tls.rate and errors == 0
    print(f"XOAUTH2 submissions/s: {tier.rate:.1f} (target >= {TARGET_RATE:.0f}), errors {errors} -> "
          f"{'MET' if met else 'NOT MET'}")


if __name__ == "__main__":
    main()
