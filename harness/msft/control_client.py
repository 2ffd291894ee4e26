"""A typed client of the tier's control API (``harness.msft.control``), one method per endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self
from urllib.parse import quote

import requests

from harness.reporting.steps import step

JSON = dict[str, Any]


class ControlApiError(Exception):
    """The control API refused a request; ``status`` and ``body`` are its answer."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        message = body.get("message") if isinstance(body, dict) else str(body)
        super().__init__(f"{method} {path} -> {status}: {message}")
        self.status = status
        self.body = body

    @property
    def field(self) -> str | None:
        return self.body.get("field") if isinstance(self.body, dict) else None


def _seg(value: str) -> str:
    return quote(value, safe="@")


class TierControl:
    """Talks to one tier's control API over HTTPS, trusting only the lab CA and ignoring proxy settings."""

    def __init__(self, url: str, token: str, ca_bundle: Path | str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = str(ca_bundle)
        self.session.headers["Authorization"] = f"Bearer {token}"

    def __repr__(self) -> str:
        return f"TierControl({self.url!r})"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None) -> Any:
        """Send one request; return the decoded JSON answer or raise :class:`ControlApiError`."""
        response = self.session.request(method, self.url + path, json=body, params=params, timeout=self.timeout)
        status, ok = response.status_code, response.ok
        try:
            data = response.json()
        except ValueError:
            data = response.text
        # A raised error's traceback keeps this frame; the response would keep its socket open (and a server's
        # graceful shutdown waiting) for as long as the error lives.
        del response
        if not ok:
            raise ControlApiError(method, path, status, data)
        return data

    # --- lab -----------------------------------------------------------------------------------------------
    def health(self) -> JSON:
        return self.request("GET", "/health")

    def info(self) -> JSON:
        return self.request("GET", "/info")

    def clock(self) -> JSON:
        return self.request("GET", "/clock")

    @step("Lab: move the virtual clock forward {seconds} s")
    def advance_clock(self, seconds: float) -> JSON:
        return self.request("POST", "/clock/advance", {"seconds": seconds})

    # --- mail ----------------------------------------------------------------------------------------------
    def messages(self, address: str) -> list[JSON]:
        return self.request("GET", f"/mailboxes/{_seg(address)}/messages")["messages"]

    @step("Microsoft tier: empty the mailbox of {address}")
    def clear_messages(self, address: str) -> int:
        return self.request("DELETE", f"/mailboxes/{_seg(address)}/messages")["deleted"]

    def smtp_transcripts(self, address: str | None = None) -> list[JSON]:
        return self.request("GET", "/smtp/transcripts", params={"address": address} if address else None)

    # --- tenant --------------------------------------------------------------------------------------------
    def tenant(self) -> JSON:
        return self.request("GET", "/tenant")

    @step("Microsoft tier: set the organisation's SMTP AUTH to {enabled}")
    def set_tenant_smtp_auth(self, enabled: bool) -> JSON:
        return self.request("PUT", "/tenant/smtp-auth", {"enabled": enabled})

    @step("Microsoft tier: set security defaults to {enabled}")
    def set_security_defaults(self, enabled: bool) -> JSON:
        return self.request("PUT", "/tenant/security-defaults", {"enabled": enabled})

    @step("Microsoft tier: set SMTP AUTH of the mailbox {upn} to {enabled}")
    def set_mailbox_smtp_auth(self, upn: str, enabled: bool | None) -> JSON:
        """``None`` makes the mailbox inherit the organisation's switch."""
        return self.request("PUT", f"/users/{_seg(upn)}/smtp-auth", {"enabled": enabled})

    @step("Microsoft tier: revoke the sign-in sessions of {upn}")
    def revoke_sessions(self, upn: str) -> JSON:
        return self.request("POST", f"/users/{_seg(upn)}/revoke-sessions")

    def conditional_access(self) -> list[JSON]:
        return self.request("GET", "/tenant/conditional-access")

    @step("Microsoft tier: add the conditional access policy {name!r} (blocks {applies_to})")
    def add_conditional_access(self, name: str, users: list[str] | None = None, applies_to: str = "all") -> JSON:
        """Add a blocking policy for ``users`` (default: everyone) on every sign-in or only ``device_code``."""
        return self.request("POST", "/tenant/conditional-access",
                            {"name": name, "users": users or ["all"], "applies_to": applies_to})

    @step("Microsoft tier: remove the conditional access policy {name!r}")
    def remove_conditional_access(self, name: str) -> JSON:
        return self.request("DELETE", f"/tenant/conditional-access/{_seg(name)}")

    @step("Microsoft tier: set public client flows of app {client_id} to {enabled}")
    def set_public_client_flows(self, client_id: str, enabled: bool) -> JSON:
        return self.request("PUT", f"/apps/{_seg(client_id)}/public-client-flows", {"enabled": enabled})

    def consent(self, client_id: str) -> list[JSON]:
        return self.request("GET", f"/apps/{_seg(client_id)}/consent")

    @step("Microsoft tier: grant consent to app {client_id} for {principal}")
    def grant_consent(self, client_id: str, principal: str = "all", scopes: list[str] | None = None) -> list[JSON]:
        """Grant the app consent for the organisation (``principal='all'``) or one user's UPN."""
        body: JSON = {"principal": principal}
        if scopes is not None:
            body["scopes"] = scopes
        return self.request("POST", f"/apps/{_seg(client_id)}/consent", body)

    @step("Microsoft tier: revoke every consent to app {client_id}")
    def revoke_consent(self, client_id: str) -> int:
        return self.request("DELETE", f"/apps/{_seg(client_id)}/consent")["removed"]

    def signins(self, upn: str | None = None) -> list[JSON]:
        return self.request("GET", "/signins", params={"upn": upn} if upn else None)
