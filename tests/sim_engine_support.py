"""Helpers for the device-engine tests: virtual devices wired to the session tier, sign-ins, polling."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from harness.msft.tier import SCOPES, MicrosoftTier
from harness.sim.device import DeviceIdentity, StoredSignIn, VirtualDevice
from harness.sim.resolver import Resolver
from harness.sim.settings import EmailServerSettings
from harness.sim.signin import signin_from_tokens

ADMIN = "admin@epsonlab.onmicrosoft.com"
PRINTER = "printer@epsonlab.onmicrosoft.com"
ALICE = "alice@epsonlab.onmicrosoft.com"
BOB = "bob@epsonlab.onmicrosoft.com"
EXCHANGE = "Microsoft Exchange Online"
ALL_CAPABILITIES = frozenset({"oauth2_email", "scan_to_email", "print", "status_sheet", "fax", "fax_server_email",
                              "serverless", "panel"})
T = TypeVar("T")


def tier_resolver(tier: MicrosoftTier) -> Resolver:
    """The lab's name table for a device: Microsoft's names → the tier's loopback ports."""
    return Resolver({
        ("login.microsoftonline.com", 443): (tier.host, tier.identity_port),
        ("smtp.office365.com", 587): (tier.host, tier.smtp_port),
        ("smtp-mail.outlook.com", 587): (tier.host, tier.smtp_port),
    })


def oauth2_settings(sender: str = PRINTER, **changes: object) -> EmailServerSettings:
    """Email Server > Basic as the guide sets it for Exchange Online."""
    base = EmailServerSettings(auth_method="OAuth2", sender=sender).with_service(EXCHANGE)
    return replace(base, **changes)  # type: ignore[arg-type]


def make_device(tier: MicrosoftTier, name: str = "mfp", *, import_ca: bool = True,
                capabilities: frozenset[str] = ALL_CAPABILITIES,
                defects: frozenset[str] = frozenset()) -> VirtualDevice:
    identity = DeviceIdentity(name=name, model="WF-C879R", serial="X7RK000123", mac="64:C6:D2:00:01:23",
                              firmware="07.59.LW14NB", capabilities=capabilities, client_id=tier.client_id)
    device = VirtualDevice(identity, tier.state.clock, tier_resolver(tier), defects=defects)
    device.update(email=oauth2_settings(), fax_email=oauth2_settings())
    if import_ca:
        device.ca.add(tier.ca_bundle.read_bytes())
    return device


def seeded_signin(tier: MicrosoftTier, upn: str = PRINTER) -> StoredSignIn:
    """A stored sign-in from tokens the tier's own token service issues (for tests not about signing in)."""
    tenant = tier.state.tenant
    user = tenant.user(upn)
    assert user is not None, upn
    body = tier.state.tokens.issue(user, tenant.apps[0], [*SCOPES, "openid", "profile"],
                                   issuer=f"{tier.authority}/v2.0")
    return signin_from_tokens(body, EXCHANGE, tier.client_id, tier.state.clock.now())


def wait_until(condition: Callable[[], T], timeout: float = 15.0, what: str = "condition") -> T:
    """Poll ``condition`` until it is truthy (bounded); return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
