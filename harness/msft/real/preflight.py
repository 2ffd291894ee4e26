"""Pre-flight: which of the guide's prerequisites a tenant is missing, found by doing what a device would do.

A device code poll shows whether the app registration allows public client flows; an optional sign-in shows
consent and conditional access; one STARTTLS + AUTH XOAUTH2 attempt with the mailbox's token shows Exchange's
verdict on security defaults and the SMTP AUTH switches (``535 5.7.139 ...``). Each :class:`Finding` quotes
the server's words and says how an administrator fixes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.msft.real.deviceflow import DeviceFlow, RealTenant
from harness.msft.real.errors import (
    ConditionalAccessBlocked,
    ConsentRequired,
    IdentityError,
    PublicClientFlowsDisabled,
)
from harness.msft.real.smtpcheck import SmtpAttempt, SmtpEndpoint, try_xoauth2

if TYPE_CHECKING:
    from harness.lab.labfile import MsftInfo

PUBLIC_CLIENT_FLOWS = "§3: the app registration allows public client flows (device code sign-in)"
CONSENT = "§3 step 11: consent on behalf of the organisation"
CONDITIONAL_ACCESS = "§7: no conditional access policy blocks the sign-in"
SECURITY_DEFAULTS = "§2: security defaults are turned off"
TENANT_SMTP_AUTH = "§2: SMTP AUTH is enabled for the organisation"
MAILBOX_SMTP_AUTH = "§2: SMTP AUTH is enabled for the mailbox {upn}"

FIX_PUBLIC_CLIENT = ("In Entra ID > App registrations > the device's app > Authentication > Advanced settings, set "
                     "\"Allow public client flows: Yes\" and save.")
FIX_CONSENT = ("Sign in once as a global administrator and tick \"Consent on behalf of your organization\" on the "
               "permissions page (guide §3 step 11).")
FIX_CONDITIONAL_ACCESS = ("Check the conditional access policies in Entra ID (Protection > Conditional Access): the "
                          "policy named in the sign-in logs blocks this account or the device code flow.")
FIX_SECURITY_DEFAULTS = ("Turn off security defaults in Entra ID (Microsoft Entra admin center > Identity > Overview >"
                         " Properties > Manage security defaults: Disabled); they block SMTP AUTH.")
FIX_TENANT = "Exchange Online PowerShell: Set-TransportConfig -SmtpClientAuthenticationDisabled $false"
FIX_MAILBOX = "Exchange Online PowerShell: Set-CASMailbox -Identity {upn} -SmtpClientAuthenticationDisabled $false"

SignIn = Callable[[DeviceFlow], None]


@dataclass(frozen=True)
class Finding:
    """One prerequisite: ``ok`` True (met), False (missing) or None (could not be checked: ``evidence`` says why)."""

    prerequisite: str
    ok: bool | None
    evidence: str
    fix: str = ""

    def __str__(self) -> str:
        verdict = {True: "OK", False: "MISSING", None: "NOT CHECKED"}[self.ok]
        text = f"{verdict:<11} {self.prerequisite}: {self.evidence}"
        return f"{text}\n            Fix: {self.fix}" if self.fix and self.ok is False else text


def preflight(tenant: RealTenant, mailbox: str, *, smtp: SmtpEndpoint | None = None, token: str | None = None,
              sign_in: SignIn | None = None, sign_in_timeout: float = 300.0) -> list[Finding]:
    """Check the guide's prerequisites for ``mailbox`` sending through ``tenant``'s app registration.

    The SMTP AUTH checks need the mailbox's SMTP.Send token: pass ``token``, or ``sign_in``, which is given the
    device flow to complete (a person, or a browser driving the sign-in pages) before its outcome is awaited.
    """
    findings: list[Finding] = []
    flow, public_ok = _public_client_flows(tenant, findings)
    if token is None and sign_in is not None and flow is not None and public_ok:
        token = _signed_in_token(flow, sign_in, sign_in_timeout, findings)
    endpoint = smtp or SmtpEndpoint()
    upn = mailbox.strip().lower()
    if token is None:
        why = f"no SMTP.Send token for {upn}: pass one, or a sign-in step that completes the device flow"
        findings += [Finding(SECURITY_DEFAULTS, None, why), Finding(TENANT_SMTP_AUTH, None, why),
                     Finding(MAILBOX_SMTP_AUTH.format(upn=upn), None, why)]
    else:
        findings += smtp_findings(try_xoauth2(endpoint, upn, token), upn)
    return findings


def preflight_lab(msft: MsftInfo, mailbox: str, **options: Any) -> list[Finding]:
    """:func:`preflight` against a running lab's built-in tier, from its lab.json ``msft`` section."""
    return preflight(RealTenant.from_lab(msft), mailbox, smtp=SmtpEndpoint.from_lab(msft), **options)


def _public_client_flows(tenant: RealTenant, findings: list[Finding]) -> tuple[DeviceFlow | None, bool]:
    try:
        flow = tenant.start_device_flow()
        pending = flow.poll() is None
    except PublicClientFlowsDisabled as exc:
        findings.append(Finding(PUBLIC_CLIENT_FLOWS, False, str(exc), FIX_PUBLIC_CLIENT))
        return None, False
    except IdentityError as exc:
        findings.append(Finding(PUBLIC_CLIENT_FLOWS, None, f"the device code request was refused: {exc}"))
        return None, False
    evidence = ("a device code poll was answered authorization_pending: the token endpoint accepts the device code "
                "flow for this app" if pending else "a device code poll was answered with a token")
    findings.append(Finding(PUBLIC_CLIENT_FLOWS, True, evidence))
    return flow, True


def _signed_in_token(flow: DeviceFlow, sign_in: SignIn, timeout: float, findings: list[Finding]) -> str | None:
    sign_in(flow)
    try:
        result = flow.wait(timeout)
    except ConsentRequired as exc:
        findings.append(Finding(CONSENT, False, str(exc), FIX_CONSENT))
        return None
    except ConditionalAccessBlocked as exc:
        findings.append(Finding(CONDITIONAL_ACCESS, False, str(exc), FIX_CONDITIONAL_ACCESS))
        return None
    except IdentityError as exc:
        findings.append(Finding(CONSENT, None, f"the sign-in did not complete: {exc}"))
        return None
    signed_in = f"{result.upn} signed in through the device code flow and got {' '.join(result.scopes)}"
    findings += [Finding(CONSENT, True, signed_in), Finding(CONDITIONAL_ACCESS, True, signed_in)]
    return result.access_token


def smtp_findings(attempt: SmtpAttempt, upn: str) -> list[Finding]:
    """Exchange's verdict on one AUTH XOAUTH2 attempt, as findings on security defaults and both SMTP AUTH switches."""
    reply, lowered = attempt.reply, attempt.reply.lower()
    mailbox = MAILBOX_SMTP_AUTH.format(upn=upn)
    fix_mailbox = FIX_MAILBOX.format(upn=upn)
    if attempt.accepted:
        return [Finding(SECURITY_DEFAULTS, True, reply), Finding(TENANT_SMTP_AUTH, True, reply),
                Finding(mailbox, True, reply)]
    if "security defaults" in lowered:
        blocked = f"not reached: security defaults refuse SMTP AUTH first ({reply})"
        return [Finding(SECURITY_DEFAULTS, False, reply, FIX_SECURITY_DEFAULTS),
                Finding(TENANT_SMTP_AUTH, None, blocked), Finding(mailbox, None, blocked)]
    if "disabled for the tenant" in lowered:
        return [Finding(SECURITY_DEFAULTS, True, f"not the reason given: {reply}"),
                Finding(TENANT_SMTP_AUTH, False, reply,
                        f"{FIX_TENANT} (or for this mailbox only: {fix_mailbox})"),
                Finding(mailbox, None, "the mailbox inherits the organisation's switch (no setting of its own)")]
    if "disabled for the mailbox" in lowered:
        return [Finding(SECURITY_DEFAULTS, True, f"not the reason given: {reply}"),
                Finding(TENANT_SMTP_AUTH, None, "not decisive: the mailbox's own setting overrides the organisation's"),
                Finding(mailbox, False, reply, fix_mailbox)]
    if "did not meet the criteria" in lowered:
        not_reached = f"not reached: {reply}"
        return [Finding(CONDITIONAL_ACCESS, False, reply, FIX_CONDITIONAL_ACCESS),
                Finding(SECURITY_DEFAULTS, None, not_reached), Finding(TENANT_SMTP_AUTH, None, not_reached),
                Finding(mailbox, None, not_reached)]
    refused = f"the token itself was refused, so the switches were not reached ({reply}); get a fresh SMTP.Send token"
    return [Finding(SECURITY_DEFAULTS, None, refused), Finding(TENANT_SMTP_AUTH, None, refused),
            Finding(mailbox, None, refused)]
