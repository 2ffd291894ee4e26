"""The virtual device's remote panel: menus, Email Server Status, lock icon, status sheet, and the send paths.

Display tests use devices made directly (a saved sign-in written straight into the device is enough to show
"Signed in"); the send paths run the real engine against the session tier over real sockets.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest
from playwright.sync_api import Browser
from sim_engine_support import (
    ADMIN,
    ALICE,
    BOB,
    PRINTER,
    make_device,
    oauth2_settings,
    seeded_signin,
    wait_until,
)

from harness.clock import VirtualClock
from harness.device.statussheet import parse_status_sheet_pdf, parse_status_sheet_text
from harness.msft.signin_page import MicrosoftDeviceLogin
from harness.msft.tenant import SMTP_SEND, Tenant
from harness.msft.tier import MicrosoftTier
from harness.sim.device import (
    NOT_SIGNED_IN_MESSAGE,
    SERVERLESS_SUCCESS_MESSAGE,
    DeviceIdentity,
    PendingSignIn,
    StoredSignIn,
    VirtualDevice,
    user_slot,
)
from harness.sim.engine import DeviceEngine
from harness.sim.models import ModelSpec, list_models
from harness.sim.panel import STALE_STATUS_DEFECT, Panel, PanelError, PanelScreen
from harness.sim.resolver import Resolver
from harness.sim.settings import ServerlessSettings, ServerlessUser

EMAIL_STATUS = ("Settings", "General Settings", "Network Settings", "Network Status", "Email Server Status")
DAY = 86400.0


def model_device(spec: ModelSpec, *, defects: frozenset[str] = frozenset()) -> VirtualDevice:
    """A device of a catalogue model, configured for OAuth2 with Exchange Online, reaching nothing."""
    identity = DeviceIdentity(name=spec.model.lower(), model=spec.model, serial=spec.default_serial,
                              mac=spec.default_mac, firmware=spec.firmware, client_id="device-client",
                              capabilities=frozenset(c.value for c in spec.capabilities))
    device = VirtualDevice(identity, VirtualClock(1_750_000_000), Resolver(), defects=defects)
    device.update(email=oauth2_settings())
    return device


def models_with(capability: str) -> list[ModelSpec]:
    return [spec for spec in list_models() if capability in {c.value for c in spec.capabilities}]


def displayed_signin(device: VirtualDevice, account: str = PRINTER, *, last_used_at: float | None = None) -> None:
    """Save a sign-in straight into the device (display tests only: its tokens reach no server)."""
    now = device.clock.now()
    device.save_signin("email", StoredSignIn(
        service="Microsoft Exchange Online", account=account, client_id="device-client", refresh_token="r",
        access_token="a", access_expires_at=now + 3600, signed_in_at=now,
        last_used_at=now if last_used_at is None else last_used_at))


@pytest.fixture
def mfp() -> Iterator[tuple[VirtualDevice, Panel]]:
    device = model_device(models_with("status_sheet")[0])
    engine = DeviceEngine(device)
    yield device, Panel(device, engine, admin_lock=False)
    engine.close()


def values(screen: PanelScreen) -> dict[str, str]:
    return dict(line.split(" : ", 1) for line in screen.lines if " : " in line)


# --- Email Server Status --------------------------------------------------------------------------------

def test_email_server_status_signed_out_shows_the_saved_settings(mfp: tuple[VirtualDevice, Panel]) -> None:
    _, panel = mfp
    screen = panel.navigate(*EMAIL_STATUS)
    assert screen.id == "email_server_status"
    assert screen.path == EMAIL_STATUS
    assert values(screen) == {
        "Authentication Method": "OAuth2", "Email service": "Microsoft Exchange Online",
        "Current Status": "Signed out", "Sender's Email Address": PRINTER,
        "SMTP Server Address": "smtp.office365.com", "SMTP Server Port Number": "587",
        "Secure Connection": "STARTTLS", "Certificate Validation": "Enable", "Account": "",
    }


def test_email_server_status_signed_in_shows_the_account(mfp: tuple[VirtualDevice, Panel]) -> None:
    device, panel = mfp
    displayed_signin(device, "admin@epsonlab.onmicrosoft.com")
    screen = panel.navigate(*EMAIL_STATUS)
    assert values(screen)["Current Status"] == "Signed in"
    assert values(screen)["Account"] == "admin@epsonlab.onmicrosoft.com"
    # what a suite does with the panel's text: the harness's reader understands it
    read = parse_status_sheet_text("\n".join(screen.lines))
    assert read.email is not None and read.email.signed_in is True and read.unreadable == ()
    # signing out shows on the same screen when looked at again
    device.sign_out("email")
    assert values(panel.screen())["Current Status"] == "Signed out"


def test_a_signin_not_yet_saved_with_ok_shows_signed_out(mfp: tuple[VirtualDevice, Panel]) -> None:
    device, panel = mfp
    device.pending["email"] = PendingSignIn(
        slot="email", service="Microsoft Exchange Online", user_code="ABCD1234",
        verification_uri="https://microsoft.com/devicelogin", message="", interval=1,
        expires_at=device.clock.now() + 900, device_code="device-code", state="signed_in")
    assert values(panel.navigate(*EMAIL_STATUS))["Current Status"] == "Signed out"


def test_stale_status_defect_keeps_showing_the_first_status() -> None:
    spec = models_with("status_sheet")[0]
    for defects, expected in ((frozenset(), "Signed in"), (frozenset({STALE_STATUS_DEFECT}), "Signed out")):
        device = model_device(spec, defects=defects)
        panel = Panel(device, DeviceEngine(device), admin_lock=False)
        assert values(panel.navigate(*EMAIL_STATUS))["Current Status"] == "Signed out"
        displayed_signin(device)
        assert values(panel.navigate("Back", "Email Server Status"))["Current Status"] == expected


def test_wired_lan_status_shows_the_address(mfp: tuple[VirtualDevice, Panel]) -> None:
    device, panel = mfp
    screen = panel.navigate(*EMAIL_STATUS[:-1], "Wired LAN/Wi-Fi Status")
    assert values(screen)["IP Address"] == device.identity.ip_address
    assert values(screen)["MAC Address"] == device.identity.mac


# --- navigation, lock icon, capabilities ----------------------------------------------------------------

def test_back_home_and_unknown_actions(mfp: tuple[VirtualDevice, Panel]) -> None:
    _, panel = mfp
    assert panel.navigate("Settings", "General Settings", "Back").id == "settings"
    assert panel.act("Home").id == "home"
    assert "Back" not in panel.screen().actions
    with pytest.raises(PanelError, match="not available on the Home screen"):
        panel.act("Email Server Status")
    panel.act("Scan to Email")
    with pytest.raises(PanelError, match="needs to="):
        panel.act("Recipient")


def test_lock_icon_asks_for_the_admin_password_until_power_cycle(mfp: tuple[VirtualDevice, Panel]) -> None:
    device, _ = mfp
    panel = Panel(device, DeviceEngine(device))
    home = panel.screen()
    assert home.locked and "Lock" in home.actions
    login = panel.act("Settings")
    assert login.id == "admin_login" and login.locked
    wrong = panel.act("OK", password="not-the-password")
    assert wrong.id == "admin_login" and "The password is incorrect." in wrong.lines
    settings = panel.act("OK", password=device.config.admin_password)
    assert settings.id == "settings" and not settings.locked
    assert values(panel.navigate("General Settings", "Network Settings", "Network Status",
                                 "Email Server Status"))["Current Status"] == "Signed out"
    assert "Log Out" in panel.act("Home").actions
    device.power_cycle()
    after = panel.screen()
    assert after.id == "home" and after.locked
    assert panel.act("Lock").id == "admin_login"
    assert panel.act("OK", password=device.config.admin_password).id == "home"
    assert not panel.screen().locked
    assert panel.act("Log Out").locked


@pytest.mark.parametrize("spec", list_models(), ids=lambda s: s.model)
def test_menus_follow_the_model_capabilities(spec: ModelSpec) -> None:
    device = model_device(spec)
    device.update(serverless=ServerlessSettings(users=(ServerlessUser("alice", "Alice", ALICE),)))
    caps = {c.value for c in spec.capabilities}
    panel = Panel(device, DeviceEngine(device), admin_lock=False)
    home = panel.screen().actions
    assert ("Scan to Email" in home) == ("scan_to_email" in caps)
    assert ("Scan to My Email" in home) == ("serverless" in caps)
    assert ("Fax" in home) == ("fax_server_email" in caps)
    network_status = panel.navigate(*EMAIL_STATUS[:-1]).actions
    assert ("Print Status Sheet" in network_status) == ("status_sheet" in caps)
    assert "Email Server Status" in network_status
    if "status_sheet" not in caps:
        with pytest.raises(PanelError):
            panel.act("Print Status Sheet")


def test_a_model_without_a_panel_has_none() -> None:
    spec = list_models()[0]
    device = model_device(spec)
    device.identity = replace(device.identity, capabilities=frozenset({"print"}))
    with pytest.raises(ValueError, match="no control panel"):
        Panel(device, DeviceEngine(device))


def test_screens_are_json_for_the_control_api(mfp: tuple[VirtualDevice, Panel]) -> None:
    _, panel = mfp
    data = json.loads(json.dumps(panel.navigate(*EMAIL_STATUS).as_dict()))
    assert data["title"] == "Email Server Status"
    assert data["path"] == list(EMAIL_STATUS)
    assert "Current Status : Signed out" in data["lines"]
    assert data["actions"] == ["Back", "Home"]
    assert "Settings > General Settings" in data["text"]
    assert data["inputs"] == {}
    home = panel.act("Home").as_dict()
    assert home["inputs"]["Scan to Email"] == ["to"] and "Settings" not in home["inputs"]


# --- status sheet and messages ----------------------------------------------------------------------------

def test_print_status_sheet_gives_a_pdf_that_says_what_the_panel_says(mfp: tuple[VirtualDevice, Panel]) -> None:
    device, panel = mfp
    displayed_signin(device)
    assert panel.status_sheet is None
    confirm = panel.navigate(*EMAIL_STATUS[:-1], "Print Status Sheet")
    assert confirm.actions[:2] == ("OK", "Cancel") and panel.status_sheet is None
    assert panel.act("Cancel").id == "network_status" and panel.status_sheet is None
    printed = panel.navigate("Print Status Sheet", "OK")
    assert "The status sheet has been printed." in printed.lines
    sheet = parse_status_sheet_pdf(panel.status_sheet or b"")
    shown = parse_status_sheet_text("\n".join(panel.navigate("OK", "Email Server Status").lines))
    assert sheet.email == shown.email
    assert sheet.email is not None and sheet.email.signed_in is True
    assert sheet.network.serial_number == device.identity.serial


def test_about_to_expire_notice_shows_until_dismissed(mfp: tuple[VirtualDevice, Panel]) -> None:
    device, panel = mfp
    displayed_signin(device, last_used_at=device.clock.now())
    assert panel.screen().id == "home"
    device.clock.advance(61 * DAY)  # type: ignore[attr-defined]
    notice = panel.screen()
    assert notice.id == "message" and notice.actions == ("OK",)
    assert "about to expire" in notice.lines[0]
    assert panel.act("OK").id == "home"
    assert panel.screen().id == "home"  # dismissed: not shown again for this sign-in
    device.power_cycle()
    assert panel.screen().id == "message"  # after power-on the device reminds again


# --- sending, against the real tier -----------------------------------------------------------------------

@pytest.fixture
def tier_device(tier: MicrosoftTier) -> Iterator[tuple[VirtualDevice, DeviceEngine, Panel]]:
    device = make_device(tier, "panel-mfp")
    engine = DeviceEngine(device)
    yield device, engine, Panel(device, engine, admin_lock=False)
    engine.close()


def test_scan_to_email_from_the_panel_arrives(tier: MicrosoftTier,
                                              tier_device: tuple[VirtualDevice, DeviceEngine, Panel]) -> None:
    device, _, panel = tier_device
    device.save_signin("email", seeded_signin(tier, PRINTER))
    before = len(tier.state.mail.messages(ALICE))
    screen = panel.act("Scan to Email")
    assert screen.actions[:1] == ("Recipient",) and "Start" not in screen.actions
    assert "Enter a valid email address." in panel.act("Recipient", to="not an address").lines
    panel.act("Recipient", to=ALICE)
    result = panel.act("Start")
    assert result.id == "job_result" and result.lines[0] == "Sending complete."
    assert values(result)["Result"] == "Succeeded"
    received = tier.state.mail.messages(ALICE)[before:]
    assert len(received) == 1 and received[0].from_.endswith(PRINTER)
    assert received[0].attachments[0].content_type == "application/pdf"
    assert panel.act("OK").id == "home"


def test_scan_to_email_without_a_signin_shows_the_guides_message(
        tier_device: tuple[VirtualDevice, DeviceEngine, Panel]) -> None:
    device, _, panel = tier_device
    result = panel.act("Scan to Email", to=ALICE)
    result = panel.act("Start")
    assert result.lines[0] == "Sending failed."
    assert values(result)["Result"] == "Error code 370"
    assert "You need to sign in to the cloud service again." in result.lines
    assert NOT_SIGNED_IN_MESSAGE in result.lines
    assert device.jobs.last() is not None and device.jobs.last().error_code == 370  # type: ignore[union-attr]
    home = panel.act("OK")
    assert home.id == "home" and NOT_SIGNED_IN_MESSAGE not in home.messages


def test_fax_through_the_fax_server(tier: MicrosoftTier,
                                    tier_device: tuple[VirtualDevice, DeviceEngine, Panel]) -> None:
    device, _, panel = tier_device
    device.save_signin("fax", seeded_signin(tier, PRINTER))
    before = len(tier.state.mail.messages(BOB))
    result = panel.navigate("Fax")
    result = panel.act("Recipient", to=BOB)
    result = panel.act("Start")
    assert result.title == "Fax" and values(result)["Result"] == "Succeeded"
    assert len(tier.state.mail.messages(BOB)) == before + 1


@pytest.fixture
def tenant(unconsented_tenant: Tenant) -> Tenant:
    """The session tenant without any consent; everything restored afterwards."""
    return unconsented_tenant


def sign_in_on_the_panel(panel: Panel, browser: Browser, user_id: str, upn: str, password: str) -> PanelScreen:
    """Scan to My Email as ``user_id``: read the code off the sign-in screen, sign in as ``upn`` in a browser."""
    signin = panel.act("Scan to My Email", user_id=user_id)
    assert signin.id == "signin" and signin.actions == ("Cancel", "Back", "Home")
    shown = values(signin)
    assert shown["URL"] == "https://microsoft.com/devicelogin"
    assert any(shown["Code"] in line for line in signin.lines if "enter the code" in line)
    context = browser.new_context()
    try:
        outcome = MicrosoftDeviceLogin(context.new_page()).complete(shown["URL"], shown["Code"], upn, password)
    finally:
        context.close()
    assert outcome.signed_in, outcome
    return wait_until(lambda: (s := panel.screen()).lines == (SERVERLESS_SUCCESS_MESSAGE,) and s,
                      what="the panel's success message")


@pytest.mark.browser
@pytest.mark.slow
def test_scan_to_my_email_admin_consents_then_a_user_signs_in_and_sends(
        tier: MicrosoftTier, tenant: Tenant, tier_browser: Browser,
        tier_device: tuple[VirtualDevice, DeviceEngine, Panel]) -> None:
    device, _, panel = tier_device
    device.save_signin("email", seeded_signin(tier, PRINTER))
    users = (ServerlessUser("admin", "Printer Admin", ADMIN, printer_admin=True),
             ServerlessUser("alice", "Alice", ALICE))
    device.update(serverless=ServerlessSettings(sender_mode="user", users=users))
    assert panel.act("Scan to My Email", user_id="nobody").lines == ("The user is not registered.",)
    panel.act("Back")

    # guide section 6: the printer administrator signs in first and consents for the organisation
    done = sign_in_on_the_panel(panel, tier_browser, "admin", ADMIN, "Lab-Admin-Pa55!")
    assert done.actions[0] == "OK"
    assert device.signin(user_slot("admin")) is None  # saved when OK is chosen
    assert panel.act("OK").id == "home"
    assert device.signin(user_slot("admin")) is not None
    assert tenant.has_consent(tier.client_id, ALICE, [SMTP_SEND])

    sign_in_on_the_panel(panel, tier_browser, "alice", ALICE, "Alice-User-Pa55!")
    panel.act("OK")
    stored = device.signin(user_slot("alice"))
    assert stored is not None and stored.account == ALICE

    before = len(tier.state.mail.messages(ALICE))
    result = panel.act("Scan to My Email", user_id="alice")
    assert values(result)["Result"] == "Succeeded"
    received = tier.state.mail.messages(ALICE)[before:]
    assert len(received) == 1 and received[0].from_.endswith(ALICE) and received[0].authenticated_as == ALICE
