"""Web Config of the virtual device in a real Chromium: login through OnSetButton, and the guide's OAuth2
sign-in (§3) end to end with the built-in tier's device-login pages, Current Status updating by itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from webconfig_support import ServedDevice, make_device, served

from harness.clock import VirtualClock
from harness.msft.signin_page import MicrosoftDeviceLogin
from harness.msft.tier import MicrosoftTier

pytestmark = pytest.mark.browser

ADMIN = "admin@epsonlab.onmicrosoft.com"
TIMEOUT_MS = 20_000


@pytest.fixture(autouse=True)
def pristine_tenant(unconsented_tenant: object) -> None:
    """The session tier's tenant without consent (the guide's first sign-in); restored afterwards."""


@pytest.fixture
def mfp(tier: MicrosoftTier) -> Iterator[ServedDevice]:
    with served(make_device(tier, "WF-C5790")) as device:
        yield device


@pytest.fixture
def context(tier_browser: Browser) -> Iterator[BrowserContext]:
    ctx = tier_browser.new_context()
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


def log_in(page: Page, password: str) -> None:
    page.locator('input[name="INPUTT_PASSWORD"]').fill(password)
    page.locator('button[onclick*="OnSetButton"]').click()


def test_root_leads_to_the_top_page_and_the_login_button_works(mfp: ServedDevice, context: BrowserContext) -> None:
    page = context.new_page()
    page.goto(mfp.url + "/")
    page.wait_for_url("**/PRESENTATION/ADVANCED/COMMON/TOP")
    page.get_by_role("link", name="Email Server > Basic").click()
    expect(page.locator("div.header-main")).to_have_text("Email Server > Basic")
    log_in(page, "not-the-password")
    expect(page.locator("div.warning")).to_have_text("Incorrect user name or password")
    log_in(page, mfp.device.config.admin_password)
    expect(page.get_by_label("Authentication Method")).to_be_visible()
    assert page.url.endswith("/PRESENTATION/ADVANCED/NW_EMAIL_BASIC/TOP")
    assert context.cookies()[0]["name"] == "EPSON_COOKIE_SESSION"


def test_oauth2_sign_in_is_saved_only_after_ok(mfp: ServedDevice, context: BrowserContext,
                                               tier: MicrosoftTier) -> None:
    device = mfp.device
    page = context.new_page()
    page.goto(f"{mfp.url}/PRESENTATION/ADVANCED/NWS_CERT_CA/TOP")
    log_in(page, device.config.admin_password)
    page.locator("#cert0").set_input_files(str(tier.ca_bundle))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("div.warning")).to_have_text("Setup complete.")

    # §3 steps 3–5: Network > Email Server > Basic, OAuth2, Microsoft Exchange Online.
    page.goto(f"{mfp.url}/PRESENTATION/ADVANCED/NW_EMAIL_BASIC/TOP")
    expect(page.get_by_label("Email service")).to_be_hidden()
    page.get_by_label("Authentication Method").select_option(label="OAuth2")
    expect(page.get_by_label("Email service")).to_be_visible()
    page.get_by_label("Email service").select_option(label="Outlook.com")
    expect(page.get_by_label("SMTP Server Address")).to_have_value("smtp-mail.outlook.com")
    page.get_by_label("Email service").select_option(label="Microsoft Exchange Online")
    expect(page.get_by_label("SMTP Server Address")).to_have_value("smtp.office365.com")
    expect(page.get_by_label("SMTP Server Port Number")).to_have_value("587")
    expect(page.get_by_label("Secure Connection")).to_have_value("STARTTLS")
    expect(page.locator("#CURRENT_STATUS")).to_have_text("Signed out")

    # Step 6: Sign In, then Sign in with Microsoft.
    page.get_by_role("button", name="Sign In", exact=True).click()
    expect(page.locator("#SIGNIN_NOTICE")).to_have_text(
        "Any other email services signed in will be signed out automatically")
    expect(page.locator("dl.values")).to_contain_text("Microsoft Exchange Online")
    expect(page.locator("#CURRENT_STATUS")).to_have_text("Signed out")
    page.get_by_role("button", name="Sign in with Microsoft").click()

    # Step 7: the code and https://microsoft.com/devicelogin are shown.
    code = page.locator("#USER_CODE").inner_text().strip()
    assert code and code in page.locator("#SIGNIN_MESSAGE").inner_text()
    uri = page.locator("#VERIFICATION_URI").get_attribute("href")
    assert uri == "https://microsoft.com/devicelogin"

    # Steps 8–11 in another browser window, as the administrator would.
    admin = tier.state.tenant.user(ADMIN)
    assert admin is not None
    helper = context.browser.new_context() if context.browser else context
    try:
        outcome = MicrosoftDeviceLogin(helper.new_page()).complete(uri, code, ADMIN, admin.password,
                                                                  consent_for_organization=True)
    finally:
        if helper is not context:
            helper.close()
    assert outcome.signed_in, outcome
    assert outcome.steps == ("code", "username", "password", "consent")

    # Current Status changes by itself; the account is shown; nothing is saved on the device yet.
    expect(page.locator("#CURRENT_STATUS")).to_have_text("Signed in")
    expect(page.locator("#SIGNED_IN_ACCOUNT")).to_have_text(ADMIN)
    expect(page.locator("#SIGNIN_NOT_SAVED")).to_be_visible()
    assert device.signin("email") is None

    # §7: Basic shows Signed in although the printer has nothing saved; OK saves it (step 12).
    page.get_by_role("button", name="Back").click()
    expect(page.locator("#CURRENT_STATUS")).to_have_text("Signed in")
    expect(page.locator("#SIGNIN_NOT_SAVED")).to_be_visible()
    expect(page.get_by_label("Authentication Method")).to_have_value("OAUTH2")
    assert device.signin("email") is None
    page.get_by_label("Sender's Email Address").fill(ADMIN)
    page.get_by_role("button", name="OK", exact=True).click()
    expect(page.locator("div.warning")).to_have_text("Setup complete.")
    stored = device.signin("email")
    assert stored is not None and stored.account == ADMIN and stored.service == "Microsoft Exchange Online"
    expect(page.locator("#CURRENT_STATUS")).to_have_text("Signed in")
    expect(page.locator("#SIGNIN_NOT_SAVED")).to_be_hidden()

    # The connection test really connects with the saved sign-in.
    page.goto(f"{mfp.url}/PRESENTATION/ADVANCED/NW_EMAIL_CONNECTTEST/TOP")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#CONNECTION_TEST_RESULT")).to_have_text("Connection test was successful.")



def test_an_expired_code_is_reported_on_the_screen(tier: MicrosoftTier, context: BrowserContext) -> None:
    clock = VirtualClock(tier.state.clock.now())  # the device's own clock, so the lab's does not move
    device = make_device(tier, "WF-C5790", clock=clock)
    device.ca.add(tier.ca.cert_pem)
    with served(device) as mfp:
        page = context.new_page()
        page.goto(f"{mfp.url}/PRESENTATION/ADVANCED/NW_EMAIL_SIGNIN/TOP?INPUTD_EMAILSERVICE=EXCHANGE")
        log_in(page, device.config.admin_password)
        page.get_by_role("button", name="Sign in with Microsoft").click()
        expect(page.locator("#USER_CODE")).not_to_be_empty()
        clock.advance(16 * 60)
        expect(page.locator("#SIGNIN_ERROR")).to_have_text("The verification code has expired. Sign in again.")
        expect(page.locator("#CURRENT_STATUS")).to_have_text("Signed out")
        expect(page.locator("#USER_CODE")).to_have_count(0)
        assert device.signin("email") is None
