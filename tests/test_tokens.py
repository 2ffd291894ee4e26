"""The token service: what Exchange accepts and what Entra refuses at refresh."""

from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from harness.clock import VirtualClock
from harness.msft import errors
from harness.msft.errors import GrantError
from harness.msft.tenant import SMTP_SEND, Tenant
from harness.msft.tokens import InvalidToken, TokenService

SCOPES = [SMTP_SEND, "offline_access", "openid", "profile"]
DAY = 86400


@pytest.fixture
def service(default_tenant: Tenant) -> TokenService:
    return TokenService(default_tenant, VirtualClock(start=1_800_000_000.0))


def issue(service: TokenService, upn: str = "printer@epsonlab.onmicrosoft.com") -> dict[str, object]:
    t = service.tenant
    return service.issue(t.user(upn), t.apps[0], SCOPES, issuer="https://localhost/x/v2.0")  # type: ignore[arg-type]


def test_access_token_shape_and_validation(service: TokenService) -> None:
    response = issue(service)
    claims = jwt.decode(str(response["access_token"]), options={"verify_signature": False})
    assert claims["aud"] == "https://outlook.office.com" and claims["scp"] == "SMTP.Send"
    assert claims["upn"] == "printer@epsonlab.onmicrosoft.com" and claims["tid"] == service.tenant.tenant_id
    assert 3600 <= claims["exp"] - claims["iat"] <= 5400
    checked = service.validate_access_token(str(response["access_token"]))
    assert checked.upn == "printer@epsonlab.onmicrosoft.com"
    assert response["client_info"] and response["id_token"] and response["refresh_token"]


def test_expired_forged_and_wrong_audience_tokens_are_refused(service: TokenService) -> None:
    token = str(issue(service)["access_token"])
    claims = jwt.decode(token, options={"verify_signature": False})
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": service.kid})
    with pytest.raises(InvalidToken, match="signature"):
        service.validate_access_token(forged)
    with pytest.raises(InvalidToken, match="audience"):
        service.validate_access_token(token, audience="https://graph.microsoft.com")
    with pytest.raises(InvalidToken, match="malformed"):
        service.validate_access_token("not.a.token")
    service.clock.advance(5401)  # type: ignore[attr-defined]
    with pytest.raises(InvalidToken, match="expired"):
        service.validate_access_token(token)


def test_refresh_token_idle_limit_is_per_token(service: TokenService) -> None:
    first = str(issue(service)["refresh_token"])
    app = service.tenant.apps[0].client_id
    service.clock.advance(89 * DAY)  # type: ignore[attr-defined]
    assert service.redeem_refresh(first, app).upn == "printer@epsonlab.onmicrosoft.com"
    service.clock.advance(2 * DAY)  # type: ignore[attr-defined]
    with pytest.raises(GrantError) as exc:
        service.redeem_refresh(first, app)
    assert exc.value.err is errors.REFRESH_IDLE_EXPIRED


def test_revocation_voids_earlier_refresh_tokens_only(service: TokenService) -> None:
    app = service.tenant.apps[0].client_id
    old = str(issue(service)["refresh_token"])
    service.revoke_user("printer@epsonlab.onmicrosoft.com")
    service.clock.advance(1)  # type: ignore[attr-defined]
    new = str(issue(service)["refresh_token"])
    with pytest.raises(GrantError) as exc:
        service.redeem_refresh(old, app)
    assert exc.value.err is errors.GRANT_REVOKED
    assert service.redeem_refresh(new, app)


def test_unknown_or_foreign_refresh_token_is_malformed(service: TokenService) -> None:
    token = str(issue(service)["refresh_token"])
    for bad, client in [("1.Agarbage", service.tenant.apps[0].client_id),
                        (token, "00000000-0000-0000-0000-000000000000")]:
        with pytest.raises(GrantError) as exc:
            service.redeem_refresh(bad, client)
        assert exc.value.err is errors.BAD_REFRESH_TOKEN


def test_error_body_has_microsofts_shape() -> None:
    body = errors.error_body(errors.CONSENT_REQUIRED, 1_800_000_000.0)
    assert body["error"] == "invalid_grant" and body["error_codes"] == [65001]
    assert str(body["error_description"]).startswith("AADSTS65001: ")
    assert body["suberror"] == "consent_required"
    assert {"timestamp", "trace_id", "correlation_id"} <= set(body)
