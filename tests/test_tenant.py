"""The tenant model: loading from the inventory, SMTP AUTH precedence, policies, consent."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.lab.yamlfile import InventoryError
from harness.msft.tenant import SMTP_SEND, ConditionalAccessPolicy, Tenant, load_tenant

PRINTER = "printer@epsonlab.onmicrosoft.com"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inventory.yaml"
    path.write_text(text)
    return path


def test_default_inventory_loads(default_tenant: Tenant) -> None:
    assert default_tenant.user("ADMIN@epsonlab.onmicrosoft.com") is not None
    assert default_tenant.user("admin@epsonlab.onmicrosoft.com").is_consent_admin  # type: ignore[union-attr]
    assert not default_tenant.user(PRINTER).is_consent_admin  # type: ignore[union-attr]
    assert default_tenant.apps[0].allow_public_client_flows


def test_bad_value_names_file_key_and_expectation(tmp_path: Path) -> None:
    path = write(tmp_path, """
msft:
  tenant:
    domain: x.onmicrosoft.com
    users:
      - {upn: ok@x.onmicrosoft.com, password: p, display_name: OK}
      - {upn: not-an-address, password: p, display_name: Bad}
    apps: [{client_id: 3c8a6f2b-9d41-4e7a-b0c5-1f2e3d4a5b6c, display_name: A}]
""")
    with pytest.raises(InventoryError) as exc:
        load_tenant(path)
    message = str(exc.value)
    assert str(path) in message
    assert "msft.tenant.users[1].upn" in message
    assert "user principal name" in message


def test_unknown_key_and_wrong_type_are_named(tmp_path: Path) -> None:
    path = write(tmp_path, """
msft:
  tenant:
    domain: x.onmicrosoft.com
    security_default: true
    smtp_auth_enabled: maybe-later
    users: []
    apps: []
""")
    with pytest.raises(InventoryError) as exc:
        load_tenant(path)
    message = str(exc.value)
    assert "msft.tenant.security_default: Extra inputs are not permitted" in message
    assert "msft.tenant.smtp_auth_enabled" in message and "boolean" in message


def test_missing_section_and_syntax_error(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match=r"msft: missing"):
        load_tenant(write(tmp_path, "devices: []\n"))
    with pytest.raises(InventoryError, match=r"msft.tenant: missing"):
        load_tenant(write(tmp_path, "msft: {kind: builtin}\n"))
    with pytest.raises(InventoryError, match=r"not valid YAML at line \d+, column \d+: expected"):
        load_tenant(write(tmp_path, "msft:\n  tenant: [unclosed\n"))
    with pytest.raises(InventoryError, match="no such file"):
        load_tenant(tmp_path / "absent.yaml")


def test_smtp_auth_mailbox_setting_wins_over_the_organisation(default_tenant: Tenant) -> None:
    t = default_tenant
    assert t.smtp_auth_block(PRINTER) is None
    t.smtp_auth_enabled = False
    assert t.smtp_auth_block(PRINTER) == "tenant"
    t.user(PRINTER).smtp_auth_enabled = True  # type: ignore[union-attr]
    assert t.smtp_auth_block(PRINTER) is None
    t.smtp_auth_enabled = True
    t.user(PRINTER).smtp_auth_enabled = False  # type: ignore[union-attr]
    assert t.smtp_auth_block(PRINTER) == "mailbox"
    t.user(PRINTER).smtp_auth_enabled = None  # type: ignore[union-attr]
    t.security_defaults = True
    assert t.smtp_auth_block(PRINTER) == "security_defaults"


def test_conditional_access_targets_users_and_flows(default_tenant: Tenant) -> None:
    t = default_tenant
    t.conditional_access.append(ConditionalAccessPolicy(name="No device code", users=[PRINTER],
                                                        applies_to="device_code"))
    assert t.blocking_policy(PRINTER, "device_code").name == "No device code"  # type: ignore[union-attr]
    assert t.blocking_policy(PRINTER, "refresh_token") is None
    assert t.blocking_policy("alice@epsonlab.onmicrosoft.com", "device_code") is None
    t.conditional_access[0].enabled = False
    assert t.blocking_policy(PRINTER, "device_code") is None


def test_consent_for_the_organisation_covers_every_user(default_tenant: Tenant) -> None:
    t = default_tenant
    app = t.apps[0].client_id
    scopes = [SMTP_SEND, "offline_access", "openid"]
    assert not t.has_consent(app, PRINTER, scopes)
    t.grant_consent(app, scopes, "alice@epsonlab.onmicrosoft.com", on_behalf_of_org=False)
    assert t.has_consent(app, "alice@epsonlab.onmicrosoft.com", scopes)
    assert not t.has_consent(app, PRINTER, scopes)
    t.grant_consent(app, scopes, "admin@epsonlab.onmicrosoft.com", on_behalf_of_org=True)
    assert t.has_consent(app, PRINTER, scopes)
    t.revoke_consent(app)
    assert not t.has_consent(app, "alice@epsonlab.onmicrosoft.com", scopes)
