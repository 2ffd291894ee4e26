"""Guide §2: SMTP AUTH must be on for the organisation and the administrator's mailbox, security defaults off.

Each test signs nothing in anew: it switches one of the tenant's settings off, checks that the device's sends
fail with Exchange's exact reply and that the device reports that reply, switches it on again and checks that
sending works. The switches are the tier's (``msft.control``); they are put back as found after each test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from scan_jobs import new_smtp_sessions, scan_to_email, server_reply_to

from harness.device.panel import Panel
from harness.device.webconfig import WebConfig
from harness.lab.microsoft import MicrosoftSide, wait_for_message
from harness.msft.control_client import TierControl
from harness.msft.smtp.replies import SMTP_AUTH_BLOCKED

pytestmark = [pytest.mark.guide("§2"),
              pytest.mark.requires("oauth2_email", "scan_to_email", "tenant_control", "remote_panel")]


@dataclass(frozen=True)
class SmtpAuthSwitches:
    """The tenant's settings that decide whether the administrator's mailbox may use SMTP AUTH."""

    organisation: bool
    security_defaults: bool
    #: The administrator's mailbox; None inherits the organisation's switch.
    mailbox: bool | None


def read_switches(control: TierControl, upn: str) -> SmtpAuthSwitches:
    tenant = control.tenant()
    user = next(u for u in tenant["users"] if u["upn"].casefold() == upn.casefold())
    return SmtpAuthSwitches(tenant["smtp_auth_enabled"], tenant["security_defaults"], user["smtp_auth_enabled"])


def write_switches(control: TierControl, upn: str, switches: SmtpAuthSwitches) -> None:
    control.set_tenant_smtp_auth(switches.organisation)
    control.set_security_defaults(switches.security_defaults)
    control.set_mailbox_smtp_auth(upn, switches.mailbox)


@pytest.fixture
def tenant(msft: MicrosoftSide) -> Iterator[TierControl]:
    """The tenant's switches; those found before the test are put back after it, and checked."""
    assert msft.control is not None
    before = read_switches(msft.control, msft.admin.upn)
    yield msft.control
    write_switches(msft.control, msft.admin.upn, before)
    after = read_switches(msft.control, msft.admin.upn)
    assert after == before, f"could not restore the tenant's SMTP AUTH settings: {after} (wanted {before})"


def sending_fails_then_works(wc: WebConfig, panel: Panel, msft: MicrosoftSide, recipient: str, *,
                             block: Callable[[], object], unblock: Callable[[], object], reply: str) -> None:
    """With ``block`` applied the device's sends fail with Exchange's ``reply``, quoted by the device;
    after ``unblock`` they succeed."""
    assert msft.control is not None
    block()
    with new_smtp_sessions(msft.control, msft.admin.upn) as sessions:
        test = wc.email_server.test_connection()
        failed = scan_to_email(panel, wc, recipient)

    said = [server_reply_to(s, "AUTH XOAUTH2") for s in sessions]
    assert said and all(r == reply for r in said), f"Exchange should have answered AUTH with {reply!r}: {said}"
    assert not test.ok and reply in test.message, f"Connection Test should quote Exchange: {test.message!r}"
    assert not failed.outcome.sent and failed.outcome.error_code is not None, failed.outcome.lines
    assert failed.job.error_code == failed.outcome.error_code, (failed.job, failed.outcome)
    assert reply in failed.job.detail, f"Job History should quote Exchange: {failed.job.detail!r}"
    assert not msft.messages(recipient), "nothing may be delivered while SMTP AUTH is refused"

    unblock()
    sent = scan_to_email(panel, wc, recipient)
    assert sent.outcome.sent and sent.job.error_code is None, (sent.outcome.lines, sent.job)
    wait_for_message(msft, recipient, lambda m: any(a["filename"] == sent.job.file_name for a in m["attachments"]))


def test_s2_security_defaults_must_be_off(signed_in: WebConfig, panel: Panel, msft: MicrosoftSide,
                                          recipient: str, tenant: TierControl) -> None:
    """§2: "In the Exchange admin center, turn off *security defaults* for the whole organisation" — with them
    on, Exchange refuses SMTP AUTH (5.7.139) and the device reports that reply; turned off, sending works."""
    sending_fails_then_works(signed_in, panel, msft, recipient, reply=SMTP_AUTH_BLOCKED["security_defaults"],
                             block=lambda: tenant.set_security_defaults(True),
                             unblock=lambda: tenant.set_security_defaults(False))


def test_s2_smtp_auth_must_be_enabled_for_the_organisation(signed_in: WebConfig, panel: Panel, msft: MicrosoftSide,
                                                           recipient: str, tenant: TierControl) -> None:
    """§2: "… and enable SMTP AUTH" for the organisation — disabled for the tenant (the mailbox inheriting it),
    Exchange answers "SmtpClientAuthentication is disabled for the Tenant" and the device reports that reply."""
    def block() -> None:
        tenant.set_mailbox_smtp_auth(msft.admin.upn, None)
        tenant.set_tenant_smtp_auth(False)

    sending_fails_then_works(signed_in, panel, msft, recipient, reply=SMTP_AUTH_BLOCKED["tenant"], block=block,
                             unblock=lambda: tenant.set_tenant_smtp_auth(True))


def test_s2_smtp_auth_must_be_enabled_for_the_administrators_mailbox(signed_in: WebConfig, panel: Panel,
                                                                     msft: MicrosoftSide, recipient: str,
                                                                     tenant: TierControl) -> None:
    """§2: "In the Microsoft 365 admin center, enable SMTP AUTH for the mailbox of the printer's administrator" —
    disabled for that mailbox, Exchange answers "… disabled for the Mailbox" and the device reports that reply."""
    upn = msft.admin.upn
    sending_fails_then_works(signed_in, panel, msft, recipient, reply=SMTP_AUTH_BLOCKED["mailbox"],
                             block=lambda: tenant.set_mailbox_smtp_auth(upn, False),
                             unblock=lambda: tenant.set_mailbox_smtp_auth(upn, True))
