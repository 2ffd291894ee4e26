"""Fixtures the suites share: a device that trusts the Microsoft service, signed in the way the guide says."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support import ensure_signed_in, trust_microsoft

from harness.device.signin import MsftPageFactory
from harness.device.webconfig import EmailServerSettingsView, WebConfig
from harness.lab.microsoft import MicrosoftSide


@pytest.fixture
def trusted(webconfig: WebConfig, msft: MicrosoftSide) -> WebConfig:
    """Web Config of a device that trusts the Microsoft service's certificate."""
    trust_microsoft(webconfig, msft)
    return webconfig


@pytest.fixture
def signed_in(webconfig: WebConfig, msft: MicrosoftSide, microsoft_pages: MsftPageFactory) -> WebConfig:
    """Web Config of a device signed in to Exchange Online as the administrator (guide §3), working."""
    ensure_signed_in(webconfig, msft, microsoft_pages)
    return webconfig


@pytest.fixture
def recipient(msft: MicrosoftSide) -> Iterator[str]:
    """A mailbox to scan to, emptied before the test."""
    address = (msft.users[0] if msft.users else msft.mailbox).upn
    msft.clear(address)
    yield address


@pytest.fixture
def restore_email_settings(webconfig: WebConfig) -> Iterator[EmailServerSettingsView]:
    """Snapshot Email Server > Basic; after the test put back every field it changed, and check it did."""
    before = webconfig.email_server.read()
    yield before
    after = webconfig.email_server.read()
    fields = {"auth_method": before.auth_method, "account": before.account, "sender": before.sender,
              "secure": before.secure, "cert_validation": before.cert_validation,
              "pop3_server": before.pop3_server, "pop3_port": before.pop3_port}
    if before.auth_method != "OAuth2":
        fields |= {"smtp_server": before.smtp_server, "smtp_port": before.smtp_port}
    else:
        fields["email_service"] = before.email_service
    changed = {k: v for k, v in fields.items() if getattr(after, k) != v}
    if changed:
        webconfig.email_server.save(reload=False, **changed)  # the page `after` was just read from
        restored = webconfig.email_server.read()
        wrong = {k: getattr(restored, k) for k, v in changed.items() if getattr(restored, k) != v}
        assert not wrong, f"could not restore Email Server > Basic: {wrong} (wanted {changed})"


