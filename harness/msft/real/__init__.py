"""What the harness uses against a real Microsoft 365 tenant: msal's device flow, a Graph mailbox reader and a
pre-flight of the guide's prerequisites. The built-in tier speaks the same protocols, so all of it is tested there.
"""

from harness.msft.real.deviceflow import DeviceFlow, RealTenant, SignInResult
from harness.msft.real.errors import (
    ConditionalAccessBlocked,
    ConsentRequired,
    DeviceCodeExpired,
    IdentityError,
    InvalidClientSecret,
    PublicClientFlowsDisabled,
    SignInDeclined,
    SignInTimedOut,
    TenantUnreachable,
)
from harness.msft.real.mailbox import AttachmentInfo, GraphError, GraphMailbox, MailMessage, MailNotReceived
from harness.msft.real.preflight import Finding, preflight, preflight_lab
from harness.msft.real.smtpcheck import SmtpAttempt, SmtpEndpoint, try_xoauth2

__all__ = [
    "AttachmentInfo", "ConditionalAccessBlocked", "ConsentRequired", "DeviceCodeExpired", "DeviceFlow", "Finding",
    "GraphError", "GraphMailbox", "IdentityError", "InvalidClientSecret", "MailMessage", "MailNotReceived",
    "PublicClientFlowsDisabled", "RealTenant", "SignInDeclined", "SignInResult", "SignInTimedOut", "SmtpAttempt",
    "SmtpEndpoint", "TenantUnreachable", "preflight", "preflight_lab", "try_xoauth2",
]
