"""The AADSTS errors the built-in identity provider answers, in Microsoft's JSON error shape."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from harness.clock import iso


@dataclass(frozen=True)
class Aadsts:
    """One Entra error: OAuth ``error`` code, AADSTS number, HTTP status, description, optional suberror."""

    code: int
    error: str
    description: str
    status: int = 400
    suberror: str | None = None


# Texts follow Microsoft's published AADSTS descriptions.
AUTHORIZATION_PENDING = Aadsts(
    70016, "authorization_pending",
    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
SLOW_DOWN = Aadsts(70016, "slow_down", "OAuth 2.0 device flow error. Polling too fast; slow down.")
EXPIRED_TOKEN = Aadsts(70020, "expired_token", "The provided value for the input parameter 'device_code' is not valid. "
                       "This device code has expired.")
AUTHORIZATION_DECLINED = Aadsts(70000, "authorization_declined",
                                "The end user denied the authorization request.")
BAD_VERIFICATION_CODE = Aadsts(70019, "bad_verification_code",
                               "Verification code expired or is not recognized.")
PUBLIC_CLIENT_OFF = Aadsts(7000218, "invalid_client",
                           "The request body must contain the following parameter: 'client_assertion' or "
                           "'client_secret'.", status=401)
UNKNOWN_CLIENT = Aadsts(700016, "unauthorized_client",
                        "Application with identifier was not found in the directory.")
BAD_CREDENTIALS = Aadsts(50126, "invalid_grant",
                         "Error validating credentials due to invalid username or password.")
UNKNOWN_USER = Aadsts(50034, "invalid_grant", "The user account does not exist in this directory.")
ACCOUNT_DISABLED = Aadsts(50057, "invalid_grant", "The user account is disabled.")
CONDITIONAL_ACCESS = Aadsts(53003, "invalid_grant",
                            "Access has been blocked by Conditional Access policies. The access policy does "
                            "not allow token issuance.", suberror="message_only")
CONSENT_REQUIRED = Aadsts(65001, "invalid_grant",
                          "The user or administrator has not consented to use the application. Send an "
                          "interactive authorization request for this user and resource.",
                          suberror="consent_required")
REFRESH_IDLE_EXPIRED = Aadsts(700082, "invalid_grant",
                              "The refresh token has expired due to inactivity. The token was issued on "
                              "{issued} and was inactive for {days} days.")
GRANT_REVOKED = Aadsts(50173, "invalid_grant",
                       "The provided grant has expired due to it being revoked, a fresh auth token is needed. "
                       "The user might have changed or reset their password.")
BAD_REFRESH_TOKEN = Aadsts(9002313, "invalid_grant", "Invalid request. Request is malformed or invalid.")
MISSING_PARAMETER = Aadsts(900144, "invalid_request",
                           "The request body must contain the following parameter: '{name}'.")
UNSUPPORTED_GRANT = Aadsts(70003, "unsupported_grant_type",
                           "The app requested an unsupported grant type '{name}'.")
INVALID_SCOPE = Aadsts(70011, "invalid_scope",
                       "The provided value for the input parameter 'scope' is not valid. {detail}")
TENANT_NOT_FOUND = Aadsts(90002, "invalid_tenant", "Tenant '{name}' not found.")

#: Visible page texts of the sign-in pages, keyed by the AADSTS code they explain.
PAGE_MESSAGES: dict[int, str] = {
    50126: "Your account or password is incorrect. If you don't remember your password, reset it now.",
    50034: "We couldn't find an account with that username. Try another, or get a new Microsoft account.",
    50057: "Your account has been locked. Contact your support person to unlock it, then try again.",
    53003: "You cannot access this right now. Your sign-in was successful but does not meet the criteria "
           "to access this resource.",
    70019: "The code you entered has expired. Get a new code from the device you're trying to sign in to "
           "and try again.",
    70000: "You have declined to sign in to the application on your device. You may now close this window.",
    65001: "Need admin approval. This app needs permission to access resources in your organization that "
           "only an admin can grant.",
    7000218: "The application is not configured to allow public client flows.",
}


def error_body(err: Aadsts, now: float, **fmt: str) -> dict[str, object]:
    """Microsoft's JSON error body for ``err`` at lab time ``now``."""
    trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    description = err.description.format(**fmt) if fmt else err.description
    body: dict[str, object] = {
        "error": err.error,
        "error_description": f"AADSTS{err.code}: {description} Trace ID: {trace_id} "
                             f"Correlation ID: {correlation_id} Timestamp: {iso(now)}",
        "error_codes": [err.code],
        "timestamp": iso(now),
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": "https://login.microsoftonline.com/error?code=" + str(err.code),
    }
    if err.suberror:
        body["suberror"] = err.suberror
    return body


class GrantError(Exception):
    """A token request that Entra would refuse with ``err``."""

    def __init__(self, err: Aadsts, **fmt: str) -> None:
        super().__init__(f"AADSTS{err.code} {err.error}")
        self.err = err
        self.fmt = fmt
