"""Rules that span pages: the extended network does not support OAuth2 (the guide, §3)."""

from __future__ import annotations

from harness.sim.device import VirtualDevice
from harness.sim.webconfig import facts

#: Firmware defect: OAuth2 is accepted although the extended network is selected (and the other way round).
OAUTH2_ON_EXTENDED_DEFECT = "oauth2_on_extended_network"

EXTENDED_BLOCKS_OAUTH2 = ("OAuth2 cannot be used while the extended network is selected. "
                          "Select Standard Network on Network > Network Interface first.")
OAUTH2_BLOCKS_EXTENDED = ("The extended network does not support OAuth2. Set an Authentication Method other than "
                          "OAuth2 on the email server settings first.")


def rule_enforced(device: VirtualDevice) -> bool:
    return facts.has(device, "extended_network") and not device.has_defect(OAUTH2_ON_EXTENDED_DEFECT)


def oauth2_blocked(device: VirtualDevice) -> bool:
    """True when OAuth2 must be refused because the extended network is in use."""
    return rule_enforced(device) and device.config.network == "extended"


def oauth2_in_use(device: VirtualDevice) -> bool:
    """True when an e-mail server setting uses OAuth2 (so the extended network must be refused)."""
    config = device.config
    return "OAuth2" in (config.email.auth_method, config.fax_email.auth_method)
