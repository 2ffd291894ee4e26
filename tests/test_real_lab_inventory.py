"""A real lab's inventory: the documented example validates, secrets come only from the environment, and the
real-tenant side reads mail through Graph (tested against the built-in tier, which speaks Graph too)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from harness.lab.inventory import RealDeviceEntry, RealMicrosoft, load_inventory
from harness.lab.microsoft import RealSide
from harness.lab.yamlfile import InventoryError
from harness.msft.tier import MicrosoftTier

EXAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "example-real-lab.yaml"


def test_the_documented_example_validates() -> None:
    inventory = load_inventory(EXAMPLE)
    assert isinstance(inventory.msft, RealMicrosoft)
    [device] = inventory.devices
    assert isinstance(device, RealDeviceEntry) and device.webconfig_url.startswith("https://")


def test_an_inline_password_is_refused_with_the_key(tmp_path: Path) -> None:
    data = yaml.safe_load(EXAMPLE.read_text())
    data["msft"]["admin"]["password"] = "hunter2"
    bad = tmp_path / "inline.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(InventoryError) as exc:
        load_inventory(bad)
    assert f"{bad}: msft.admin.password" in str(exc.value)
    assert "hunter2" not in str(exc.value)


def test_a_missing_environment_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EPSON_HIL_ADMIN_PASSWORD", raising=False)
    inventory = load_inventory(EXAMPLE)
    assert isinstance(inventory.msft, RealMicrosoft)
    with pytest.raises(InventoryError, match="EPSON_HIL_ADMIN_PASSWORD is not set"):
        RealSide(inventory.msft, str(EXAMPLE))


def test_real_side_reads_mail_through_graph(tier: MicrosoftTier, monkeypatch: pytest.MonkeyPatch) -> None:
    import smtplib

    from harness.msft.smtp.xoauth2 import xoauth2_blob

    tenant = tier.state.tenant
    reader = next(a for a in tenant.apps if a.client_secret)
    for name in ("ADMIN", "MAILBOX", "ALICE", "GRAPH"):
        monkeypatch.setenv(f"T_{name}", {"GRAPH": reader.client_secret or ""}.get(name, "pw"))
    section = RealMicrosoft.model_validate({
        "kind": "tenant", "tenant_id": tenant.tenant_id, "domain": tenant.domain, "client_id": tier.client_id,
        "authority": f"https://localhost:{tier.identity_port}",
        "admin": {"upn": "admin@epsonlab.onmicrosoft.com", "password": {"env": "T_ADMIN"}},
        "mailbox": {"upn": "printer@epsonlab.onmicrosoft.com", "password": {"env": "T_MAILBOX"}},
        "users": [{"upn": "alice@epsonlab.onmicrosoft.com", "password": {"env": "T_ALICE"}}],
        "graph": {"client_id": reader.client_id, "client_secret": {"env": "T_GRAPH"}},
    })
    side = RealSide(section, "test", graph_url=f"https://localhost:{tier.identity_port}/v1.0",
                    ca_bundle=tier.ca_bundle)
    # A real tenant stamps mail with real time, and RealSide reads from the wall-clock moment of clear(). The session
    # tier's virtual clock stands still unless a test moves it: catch it up, or this test depends on what ran before.
    clock = tier.state.clock
    clock.set(max(clock.now(), time.time()))  # type: ignore[attr-defined]
    try:
        alice = side.users[0].upn
        side.clear(alice)
        printer = tenant.user("printer@epsonlab.onmicrosoft.com")
        assert printer is not None
        token = tier.state.tokens.issue(printer, tenant.apps[0], ["https://outlook.office.com/SMTP.Send"],
                                        issuer="https://localhost/x/v2.0")["access_token"]
        with smtplib.SMTP("127.0.0.1", tier.smtp_port, timeout=10) as smtp:
            smtp.starttls(context=tier.ca.client_context())
            smtp.ehlo()
            code, _ = smtp.docmd("AUTH", "XOAUTH2 " + xoauth2_blob(printer.upn, str(token)))
            assert code == 235
            smtp.sendmail(printer.upn, [alice], f"From: {printer.upn}\r\nTo: {alice}\r\nSubject: real side "
                                                f"{time.time()}\r\n\r\nhello\r\n")
        [message] = [m for m in side.messages(alice) if m["subject"].startswith("real side")]
        assert message["from"] == printer.upn and message["to"] == [alice]
        assert side.control is None and side.ca_certificate() is None
        assert side.browser_resolution() == (None, [])
    finally:
        side.close()
