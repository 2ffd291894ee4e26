"""Exchange-compatible SMTP client submission for the built-in Microsoft tier."""

from harness.msft.smtp.server import AuthVerdict, ExchangeSmtp
from harness.msft.smtp.xoauth2 import Xoauth2Credentials, parse_xoauth2, xoauth2_blob, xoauth2_response

__all__ = ["AuthVerdict", "ExchangeSmtp", "Xoauth2Credentials", "parse_xoauth2", "xoauth2_blob",
           "xoauth2_response"]
