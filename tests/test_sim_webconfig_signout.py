"""Sign Out on the virtual device's Email Server > Basic (and the fax server's page): shown only with a saved
sign-in, removes it and any sign-in in progress, refused without the current setup token; Network Status, the
status sheet and the panel follow.

Each test serves a fresh device on a clock of its own (so moving it cannot disturb other tests), with the real
engine behind it; saved sign-ins come from the session tier's own token service.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, Dialog, expect
from sim_engine_support import oauth2_settings, seeded_signin
from webconfig_support import ServedDevice, WebConfigClient, make_device, read_page, served

from harness.clock import VirtualClock
from harness.msft.tier import MicrosoftTier
from harness.sim.device import StoredSignIn
from harness.sim.engine import ABOUT_TO_EXPIRE_AFTER
from harness.sim.panel import Panel
from harness.sim.statussheet import email_server_rows

SETUP_COMPLETE = "Setup complete."
STALE = "The page has expired. Reload the page and try again."
NOTHING_SAVED = "No sign-in is saved on the printer."
QUESTION = ("Sign out of Microsoft Exchange Online? The printer cannot send email with OAuth2 until someone signs "
            "in again.")
EMAIL_STATUS = ("Settings", "General Settings", "Network Settings", "Network Status", "Email Server Status")


def own_clock(tier: MicrosoftTier) -> VirtualClock:
    return VirtualClock(tier.state.clock.now())


@pytest.fixture
def mfp(tier: MicrosoftTier) -> Iterator[ServedDevice]:
    """WF-C5790 (no fax server), set up for OAuth2 with Exchange Online."""
    with served(make_device(tier, "WF-C5790", clock=own_clock(tier))) as device:
        device.device.update(email=oauth2_settings())
        yield device


@pytest.fixture
def a3(tier: MicrosoftTier) -> Iterator[ServedDevice]:
    """AM-C4000 (fax server e-mail), both e-mail settings set up for OAuth2 with Exchange Online."""
    with served(make_device(tier, "AM-C4000", clock=own_clock(tier))) as device:
        device.device.update(email=oauth2_settings(), fax_email=oauth2_settings("fax@epsonlab.onmicrosoft.com"))
        yield device


def saved(served_device: ServedDevice, tier: MicrosoftTier, slot: str = "email") -> StoredSignIn:
    """A sign-in saved on the device in ``slot`` (as OK on Basic would have stored it)."""
    signin = seeded_signin(tier)
    served_device.device.save_signin(slot, signin)
    return signin


def sign_out(client: WebConfigClient, page: str = "NW_EMAIL_BASIC", **fields: str) -> list[str]:
    """Post ``page``'s Sign Out form with the page's current token; the result box's lines."""
    return client.submit(page, fields, leaf="SIGNOUT").warnings


def panel_status(served_device: ServedDevice) -> dict[str, str]:
    lines = Panel(served_device.device, served_device.engine, admin_lock=False).navigate(*EMAIL_STATUS).lines
    return dict(line.split(" : ", 1) for line in lines if " : " in line)


def test_sign_out_shows_only_with_a_saved_sign_in(mfp: ServedDevice, tier: MicrosoftTier) -> None:
    client = mfp.admin()
    before = client.open("NW_EMAIL_BASIC")
    assert before.by_id["CURRENT_STATUS"] == "Signed out"
    assert "BTN_SIGNOUT" not in before.by_id and "signout_form" not in before.by_id
    signin = saved(mfp, tier)
    page = client.open("NW_EMAIL_BASIC")
    assert page.by_id["CURRENT_STATUS"] == "Signed in" and page.by_id["SIGNED_IN_ACCOUNT"] == signin.account
    assert page.by_id["BTN_SIGNOUT"] == "Sign Out"
    assert 'form="signout_form"' in page.html and 'action="SIGNOUT"' in page.html
    assert f"return confirm(&quot;{QUESTION}&quot;);" in page.html
    # another service chosen: nothing of it is saved, so nothing to sign out of
    mfp.device.update(email=oauth2_settings().with_service("Outlook.com"))
    assert "BTN_SIGNOUT" not in client.open("NW_EMAIL_BASIC").by_id


def test_sign_out_removes_the_saved_sign_in_everywhere(mfp: ServedDevice, tier: MicrosoftTier) -> None:
    client = mfp.admin()
    saved(mfp, tier)
    assert client.open("INFO_NWINFO").panes["info-email"]["Current Status"] == "Signed in"
    assert panel_status(mfp)["Current Status"] == "Signed in"

    done = client.submit("NW_EMAIL_BASIC", {}, leaf="SIGNOUT")
    assert done.warnings == [SETUP_COMPLETE]
    assert done.by_id["CURRENT_STATUS"] == "Signed out" and done.by_id["SIGNED_IN_ACCOUNT"] == ""
    assert "BTN_SIGNOUT" not in done.by_id
    assert done.selects["INPUTD_AUTHMETHOD"] == "OAUTH2" and done.inputs["INPUTT_SMTPSERVER"] == "smtp.office365.com"
    assert mfp.device.signin("email") is None and mfp.device.config.email == oauth2_settings()

    email = client.open("INFO_NWINFO").panes["info-email"]
    assert (email["Current Status"], email["Account"]) == ("Signed out", "")
    assert dict(email_server_rows(mfp.device))["Current Status"] == "Signed out"
    assert panel_status(mfp)["Current Status"] == "Signed out"


@pytest.mark.parametrize("token", [None, "", "0" * 32], ids=["missing", "empty", "wrong"])
def test_sign_out_without_the_current_token_changes_nothing(mfp: ServedDevice, tier: MicrosoftTier,
                                                            token: str | None) -> None:
    client = mfp.admin()
    signin = saved(mfp, tier)
    data = {} if token is None else {"INPUTT_SETUPTOKEN": token}
    page = client.post("NW_EMAIL_BASIC", data, leaf="SIGNOUT")
    assert page.status == 200 and page.warnings == [STALE]
    assert mfp.device.signin("email") == signin
    assert page.by_id["CURRENT_STATUS"] == "Signed in" and page.by_id["BTN_SIGNOUT"] == "Sign Out"


def test_other_refusals_change_nothing_and_the_server_keeps_serving(mfp: ServedDevice, tier: MicrosoftTier) -> None:
    client = mfp.admin()
    assert sign_out(client) == [NOTHING_SAVED]  # a plain post with nothing saved
    signin = saved(mfp, tier)
    anonymous = mfp.client().post("NW_EMAIL_BASIC", {"INPUTT_SETUPTOKEN": client.open("NW_EMAIL_BASIC").token},
                                  leaf="SIGNOUT")
    assert anonymous.login_form and mfp.device.signin("email") == signin
    url = client.url("NW_EMAIL_BASIC", "SIGNOUT")
    weird = client.http.post(url, data=b"\xff\xfe=%%%&&==", timeout=10,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert weird.status_code == 200 and read_page(weird).warnings == [STALE]
    assert client.http.get(url, timeout=10).status_code == 405
    assert requests.post(f"{mfp.url}/PRESENTATION/ADVANCED/FAX_SERVER_EMAIL/SIGNOUT", timeout=10).status_code == 404
    assert mfp.device.signin("email") == signin
    assert sign_out(client) == [SETUP_COMPLETE]


def test_sign_out_also_stops_a_sign_in_in_progress(mfp: ServedDevice, tier: MicrosoftTier) -> None:
    client = mfp.admin()
    mfp.device.ca.add(tier.ca.cert_pem)
    saved(mfp, tier)
    started = client.submit("NW_EMAIL_SIGNIN", {"INPUTD_EMAILSERVICE": "EXCHANGE"})
    assert started.by_id["USER_CODE"]
    poller = f"signin-{mfp.device.identity.name}-email"
    assert any(t.name == poller for t in threading.enumerate())
    page = client.open("NW_EMAIL_BASIC")
    assert page.by_id["CURRENT_STATUS"] == "Signed out" and "BTN_SIGNOUT" in page.by_id  # the saved one is still there

    assert sign_out(client) == [SETUP_COMPLETE]
    assert mfp.device.signin("email") is None and mfp.device.pending == {}
    assert not any(t.name == poller for t in threading.enumerate())
    status = client.http.get(client.url("NW_EMAIL_SIGNIN", "STATUS.JSON"), params={"INPUTD_EMAILSERVICE": "EXCHANGE"},
                             timeout=10).json()
    assert (status["state"], status["current_status"], status["saved"]) == ("none", "Signed out", False)


def test_the_fax_server_signs_out_on_its_own_page(a3: ServedDevice, tier: MicrosoftTier) -> None:
    client = a3.admin()
    email = saved(a3, tier, "email")
    saved(a3, tier, "fax")
    assert client.open("FAX_SERVER_EMAIL").by_id["BTN_SIGNOUT"] == "Sign Out"
    assert sign_out(client, "FAX_SERVER_EMAIL") == [SETUP_COMPLETE]
    assert a3.device.signin("fax") is None and a3.device.signin("email") == email
    assert "BTN_SIGNOUT" not in client.open("FAX_SERVER_EMAIL").by_id
    assert "BTN_SIGNOUT" in client.open("NW_EMAIL_BASIC").by_id
    panes = client.open("INFO_NWINFO").panes
    assert panes["info-faxserver"]["Current Status"] == "Signed out"
    assert panes["info-email"]["Current Status"] == "Signed in"
    assert dict(email_server_rows(a3.device, "fax"))["Current Status"] == "Signed out"


def test_sign_out_takes_the_expiry_notice_with_it(mfp: ServedDevice, tier: MicrosoftTier) -> None:
    client = mfp.admin()
    saved(mfp, tier)
    assert isinstance(mfp.device.clock, VirtualClock)
    mfp.device.clock.advance(ABOUT_TO_EXPIRE_AFTER + 60)
    notice = mfp.engine.expiry_notice("email")
    assert notice and notice in mfp.device.panel_messages
    assert sign_out(client) == [SETUP_COMPLETE]
    assert notice not in mfp.device.panel_messages and mfp.engine.expiry_notice("email") is None


@pytest.mark.browser
def test_the_browser_asks_first_and_a_no_keeps_the_sign_in(mfp: ServedDevice, tier: MicrosoftTier,
                                                           tier_browser: Browser) -> None:
    signin = saved(mfp, tier)
    context = tier_browser.new_context()
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        page.goto(f"{mfp.url}/PRESENTATION/ADVANCED/NW_EMAIL_BASIC/TOP")
        page.locator('input[name="INPUTT_PASSWORD"]').fill(mfp.device.config.admin_password)
        page.locator('button[onclick*="OnSetButton"]').click()
        button = page.get_by_role("button", name="Sign Out")
        expect(button).to_be_visible()
        asked: list[str] = []

        def answer(accept: bool) -> None:
            def handle(dialog: Dialog) -> None:
                asked.append(dialog.message)
                dialog.accept() if accept else dialog.dismiss()
            page.once("dialog", handle)

        answer(False)
        button.click()
        assert asked == [QUESTION]
        expect(page.locator("#CURRENT_STATUS")).to_have_text("Signed in")
        assert mfp.device.signin("email") == signin

        answer(True)
        with page.expect_navigation():
            button.click()
        expect(page.locator("div.warning")).to_have_text(SETUP_COMPLETE)
        expect(page.locator("#CURRENT_STATUS")).to_have_text("Signed out")
        expect(page.get_by_role("button", name="Sign Out")).to_have_count(0)
        assert page.url.endswith("/NW_EMAIL_BASIC/SIGNOUT") and mfp.device.signin("email") is None
    finally:
        context.close()
