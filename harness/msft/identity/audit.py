"""Writing sign-in attempts to the tenant's sign-in log, as Entra's sign-in logs show them."""

from __future__ import annotations

from harness.msft.errors import Aadsts
from harness.msft.state import TierState
from harness.msft.tenant import SignInEvent

DEVICE_CODE_FLOW = "device_code"
REFRESH_FLOW = "refresh_token"


def record_signin(state: TierState, upn: str, client_id: str, flow: str, err: Aadsts | None = None,
                  policy: str = "", **fmt: str) -> SignInEvent:
    """Log one attempt by ``upn`` through ``client_id``: a success when ``err`` is None."""
    reason = "" if err is None else err.description.format(**fmt) if fmt else err.description
    app = state.tenant.app(client_id)
    return state.signins.record(SignInEvent(
        time=state.clock.now(), upn=upn.strip().lower()[:256], app_id=client_id,
        app_name=app.display_name if app else "", flow=flow,
        status="success" if err is None else "failure",
        error_code=0 if err is None else err.code,
        failure_reason=reason,
        policy=policy,
    ))
