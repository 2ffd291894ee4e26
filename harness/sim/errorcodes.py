"""The virtual device's job error codes: the one table mapping what went wrong to the code and its texts.

360/361/370 and their status texts are the guide's (§7). 312 and 313 follow the wording of Epson's
job-status codes for SMTP refusals that the guide's table does not cover: the server's reply is kept in the
job's detail so that a suite can quote the exact Exchange text.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    """One job error code as the device documents it: the code, its status text and the fix."""

    code: int
    status: str
    fix: str


CANNOT_REACH = 360
SIGNIN_EXPIRED = 361
SIGN_IN_AGAIN = 370
SERVER_AUTH_FAILED = 312
SERVER_REFUSED = 313

ERROR_CODES: dict[int, ErrorCode] = {e.code: e for e in (
    ErrorCode(CANNOT_REACH, "No connection to the cloud service or e-mail service.",
              "Connect to the cloud service or e-mail service."),
    ErrorCode(SIGNIN_EXPIRED, "The connection to the cloud service or e-mail service has expired.",
              "Connect to the cloud service or e-mail service."),
    ErrorCode(SIGN_IN_AGAIN, "You need to sign in to the cloud service again.", "Sign in to the cloud service."),
    ErrorCode(SERVER_AUTH_FAILED, "An authentication error occurred.",
              "Check the email server settings and the account's SMTP AUTH setting."),
    ErrorCode(SERVER_REFUSED, "A communication error occurred.",
              "Check the email server settings and the sender's and recipient's addresses."),
)}

#: What a refused refresh-token grant (AADSTS number) means for a job; any other refusal is SIGN_IN_AGAIN.
AADSTS_CODES: dict[int, int] = {
    700082: SIGNIN_EXPIRED,   # refresh token expired after 90 days of inactivity
    50173: SIGN_IN_AGAIN,     # grant revoked (revokeSignInSessions, password reset)
    65001: SIGN_IN_AGAIN,     # consent withdrawn
    53003: SIGN_IN_AGAIN,     # blocked by conditional access
    9002313: SIGN_IN_AGAIN,   # refresh token unknown to the directory
}


def code_for_aadsts(aadsts: int) -> int:
    """The job error code for a refresh-token grant refused with ``aadsts``."""
    return AADSTS_CODES.get(aadsts, SIGN_IN_AGAIN)


def status_text(code: int) -> str:
    """The status text of ``code`` (the guide's, for 360/361/370)."""
    entry = ERROR_CODES.get(code)
    return entry.status if entry else f"Error code {code}"


#: SMTP reply codes that mean the server refused the client's authentication (or its absence).
_AUTH_REPLIES = frozenset({530, 534, 535, 538})


def code_for_smtp_reply(reply_code: int) -> int:
    """The job error code for an SMTP refusal: authentication refused (312) or any other refusal (313)."""
    return SERVER_AUTH_FAILED if reply_code in _AUTH_REPLIES else SERVER_REFUSED
