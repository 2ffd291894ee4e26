"""Web Config of the virtual device over plain HTTP (requests): pages, login, lock-out, setup tokens, forms.

Each test serves a fresh device of a catalogue model with the real device engine behind it, on the session's
built-in Microsoft tier.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest
import requests
from webconfig_support import ServedDevice, WebConfigClient, make_device, read_page, served

from harness.clock import VirtualClock
from harness.msft.tier import MicrosoftTier
from harness.pki import LabCA
from harness.sim.models import get_model
from harness.sim.settings import EmailServerSettings

ADMIN = "admin@epsonlab.onmicrosoft.com"
PRINTER = "printer@epsonlab.onmicrosoft.com"
SETUP_COMPLETE = "Setup complete."
STALE = "The page has expired. Reload the page and try again."


@pytest.fixture
def mfp(tier: MicrosoftTier) -> Iterator[ServedDevice]:
    """WF-C5790: OAuth2 e-mail, no fax server, no Serverless, no extended network."""
    with served(make_device(tier, "WF-C5790")) as device:
        yield device


@pytest.fixture
def a3(tier: MicrosoftTier) -> Iterator[ServedDevice]:
    """AM-C4000: fax server e-mail and Epson Print Admin Serverless."""
    with served(make_device(tier, "AM-C4000")) as device:
        yield device


@pytest.fixture
def enterprise(tier: MicrosoftTier) -> Iterator[ServedDevice]:
    """WF-C21000: has an extended network."""
    with served(make_device(tier, "WF-C21000")) as device:
        yield device


# --- entry pages, info pages ----------------------------------------------------------------------------

def test_root_redirects_like_epson_and_names_the_server(mfp: ServedDevice) -> None:
    answer = requests.get(mfp.url + "/", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Server"] == "EPSON-HTTP"
    assert '<meta name="Author" content="SEIKO EPSON">' in answer.text
    assert "document.write(" in answer.text and "./PRESENTATION/ADVANCED/COMMON/TOP" in answer.text


def test_the_style_sheet_is_cacheable_and_the_pages_are_not(mfp: ServedDevice) -> None:
    """The style sheet carries the firmware's build time and no expiry (a browser keeps it); pages say no-store."""
    style = requests.get(mfp.url + "/PRESENTATION/ADVANCED/COMMON/STYLE.CSS", timeout=10)
    assert style.status_code == 200 and style.headers["Content-Type"].startswith("text/css")
    assert "Last-Modified" in style.headers and "Cache-Control" not in style.headers
    page = requests.get(mfp.url + "/PRESENTATION/ADVANCED/COMMON/TOP", timeout=10)
    assert "no-store" in page.headers["Cache-Control"]


def test_top_menu_lists_only_the_pages_the_model_has(mfp: ServedDevice, a3: ServedDevice,
                                                     enterprise: ServedDevice) -> None:
    def menu(device: ServedDevice) -> set[str]:
        page = device.client().open("COMMON")
        return {key for key in page.by_id if key.startswith("MENU_")}

    basic = {"MENU_INFO_PRTINFO", "MENU_INFO_NWINFO", "MENU_INFO_JOBHISTORY", "MENU_NW_EMAIL_BASIC",
             "MENU_NW_EMAIL_CONNECTTEST", "MENU_NWS_CERT_CA", "MENU_DM_EXPORT", "MENU_DM_IMPORT"}
    assert menu(mfp) == basic
    assert menu(a3) == basic | {"MENU_FAX_SERVER_EMAIL", "MENU_FAX_SERVER_CONNECTTEST", "MENU_SERVERLESS_AUTH",
                                "MENU_SERVERLESS_USERS"}
    assert menu(enterprise) == basic | {"MENU_NW_NETWORK_INTERFACE"}
    for page in ("FAX_SERVER_EMAIL", "FAX_EMAIL_SIGNIN", "SERVERLESS_AUTH", "NW_NETWORK_INTERFACE"):
        assert mfp.admin().open(page).status == 404, page


def test_product_status_uses_the_info_template(mfp: ServedDevice) -> None:
    page = mfp.client().open("INFO_PRTINFO")
    spec = get_model("WF-C5790")
    assert page.status == 200 and page.title == "Product Status"
    assert page.values["Firmware"] == spec.firmware
    assert page.values["Serial Number"] == spec.default_serial
    assert page.values["MAC Address"] == spec.default_mac
    assert page.values["Root Certificate Version"] == spec.root_certificate_version
    assert page.values["Device Name"] == mfp.device.config.device_name
    for fragment in ('<body class="contents"><div class="wrap"><div class="header-main">Product Status</div>',
                     '<div class="tabbed-pane',
                     '<dl class="values"><dt class="key"><span class="key">Device Name&nbsp;:',
                     '<dd class="value clearfix"><div class="preserve-white-space">',
                     '<div class="footer"><ul class="buttons"><li class="button"><button type="button" class="button"'):
        assert fragment in page.html


def test_network_status_shows_saved_email_settings_only(a3: ServedDevice) -> None:
    client = a3.admin()
    page = client.open("INFO_NWINFO")
    assert page.title == "Network Status"
    assert page.values["IP Address"] == "127.0.0.1" and page.values["MAC Address"] == a3.device.identity.mac
    assert {"Subnet Mask", "Default Gateway", "Connection Status", "Device Name"} <= page.values.keys()
    assert page.values["Authentication Method"] == "Off"
    assert {"info-network", "info-email", "info-faxserver"} <= page.by_id.keys()
    assert client.submit("NW_EMAIL_BASIC", {"INPUTD_AUTHMETHOD": "OAUTH2", "INPUTD_EMAILSERVICE": "EXCHANGE",
                                            "INPUTT_SENDERADDRESS": PRINTER}).warnings == [SETUP_COMPLETE]
    page = client.open("INFO_NWINFO")
    email = page.panes["info-email"]
    assert email["Authentication Method"] == "OAuth2"
    assert email["Current Status"] == "Signed out"
    assert email["SMTP Server Address"] == "smtp.office365.com"
    assert page.panes["info-faxserver"]["Authentication Method"] == "Off"


# --- login, lock-out, sessions ---------------------------------------------------------------------------

def test_protected_page_shows_the_inline_login_form(mfp: ServedDevice) -> None:
    page = mfp.client().open("NW_EMAIL_BASIC")
    assert page.status == 200 and page.login_form
    assert page.title == "Email Server > Basic"
    assert 'onclick="OnSetButton(); return false;"' in page.html
    assert "INPUTD_AUTHMETHOD" not in page.selects and "INPUTT_SETUPTOKEN" not in page.inputs


def test_login_sets_the_session_cookie_and_returns_to_the_page(mfp: ServedDevice) -> None:
    client = mfp.client()
    page = client.login(mfp.device.config.admin_password, INPUTT_NEXTPAGE="/PRESENTATION/ADVANCED/NWS_CERT_CA/TOP")
    assert page.title == "CA Certificate" and not page.login_form
    assert client.http.cookies.get("EPSON_COOKIE_SESSION")
    other = mfp.client()
    page = read_page(other.http.post(f"{mfp.url}/PRESENTATION/ADVANCED/PASSWORD/SET", timeout=10, data={
        "INPUTT_ACCSESSMETHOD": "0", "INPUTT_USERNAME": "", "INPUTT_PASSWORD": mfp.device.config.admin_password,
        "INPUTT_DUMMY": ""}))
    assert not page.login_form and other.open("NW_EMAIL_BASIC").token


@pytest.mark.parametrize("fields", [
    {"INPUTT_PASSWORD": "wrong-password"},
    {"INPUTT_USERNAME": "admin"},
    {"SEL_SESSIONTYPE": "USER"},
], ids=["wrong-password", "user-name-given", "not-admin-session"])
def test_wrong_login_is_refused(mfp: ServedDevice, fields: dict[str, str]) -> None:
    client = mfp.client()
    page = client.login(mfp.device.config.admin_password, **fields)
    assert page.login_form and page.warnings == ["Incorrect user name or password"]
    assert not client.http.cookies.get("EPSON_COOKIE_SESSION")


def test_lockout_after_five_failures_until_the_lab_clock_moves_on(tier: MicrosoftTier) -> None:
    clock = VirtualClock()
    with served(make_device(tier, "WF-C5790", clock=clock)) as device:
        client = device.client()
        for _ in range(5):
            assert client.login("wrong-password").warnings == ["Incorrect user name or password"]
        locked = client.login(device.device.config.admin_password)
        assert locked.login_form and locked.warnings == ["Try again later."]
        clock.advance(299)
        assert client.login(device.device.config.admin_password).warnings == ["Try again later."]
        clock.advance(2)
        assert not client.login(device.device.config.admin_password).login_form


def test_a_success_resets_the_failure_count(tier: MicrosoftTier) -> None:
    with served(make_device(tier, "WF-C5790", clock=VirtualClock())) as device:
        client = device.client()
        for _ in range(4):
            client.login("wrong-password")
        assert not client.login(device.device.config.admin_password).login_form
        for _ in range(4):
            client.login("wrong-password")
        assert not client.login(device.device.config.admin_password).login_form


def test_logout_ends_the_session(mfp: ServedDevice) -> None:
    client = mfp.admin()
    cookie = client.http.cookies.get("EPSON_COOKIE_SESSION")
    client.http.post(f"{mfp.url}/PRESENTATION/ADVANCED/PASSWORD/LOGOUT", timeout=10)
    replay = WebConfigClient(mfp.url)
    replay.http.cookies.set("EPSON_COOKIE_SESSION", cookie or "")
    assert replay.open("NW_EMAIL_BASIC").login_form


def test_power_cycle_ends_sessions_and_setup_tokens_but_keeps_settings(mfp: ServedDevice) -> None:
    client = mfp.admin()
    assert client.submit("NW_EMAIL_BASIC", {"INPUTT_SENDERADDRESS": "scanner@example.com"}).warnings == [
        SETUP_COMPLETE]
    token = client.open("NW_EMAIL_BASIC").token
    mfp.device.power_cycle()
    assert client.post("NW_EMAIL_BASIC", {"INPUTT_SETUPTOKEN": token, "INPUTT_SENDERADDRESS": "x@example.com"}
                       ).login_form
    again = mfp.admin()
    assert again.open("NW_EMAIL_BASIC").inputs["INPUTT_SENDERADDRESS"] == "scanner@example.com"
    assert again.post("NW_EMAIL_BASIC", {"INPUTT_SETUPTOKEN": token, "INPUTT_SENDERADDRESS": "x@example.com"}
                      ).warnings == [STALE]
    assert mfp.device.config.email.sender == "scanner@example.com"


# --- setup tokens ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("token", [None, "", "0" * 32], ids=["missing", "empty", "wrong"])
def test_set_without_the_current_token_changes_nothing(mfp: ServedDevice, token: str | None) -> None:
    client = mfp.admin()
    before = mfp.device.config
    data = {"INPUTT_SENDERADDRESS": "changed@example.com"}
    if token is not None:
        data["INPUTT_SETUPTOKEN"] = token
    page = client.post("NW_EMAIL_BASIC", data)
    assert page.warnings == [STALE]
    assert mfp.device.config == before


def test_setup_token_rotates_after_each_set(mfp: ServedDevice) -> None:
    client = mfp.admin()
    first = client.open("NW_EMAIL_BASIC").token
    done = client.post("NW_EMAIL_BASIC", {"INPUTT_SETUPTOKEN": first, "INPUTT_SENDERADDRESS": "a@example.com"})
    assert done.warnings == [SETUP_COMPLETE] and done.token and done.token != first
    replay = client.post("NW_EMAIL_BASIC", {"INPUTT_SETUPTOKEN": first, "INPUTT_SENDERADDRESS": "b@example.com"})
    assert replay.warnings == [STALE] and mfp.device.config.email.sender == "a@example.com"
    assert client.post("NW_EMAIL_BASIC", {"INPUTT_SETUPTOKEN": done.token, "INPUTT_SENDERADDRESS": "c@example.com"}
                       ).warnings == [SETUP_COMPLETE]


def test_every_settings_form_carries_a_setup_token(a3: ServedDevice) -> None:
    client = a3.admin()
    for page in ("NW_EMAIL_BASIC", "NW_EMAIL_CONNECTTEST", "NWS_CERT_CA", "FAX_SERVER_EMAIL",
                 "FAX_SERVER_CONNECTTEST", "SERVERLESS_AUTH", "SERVERLESS_USERS", "DM_EXPORT", "DM_IMPORT",
                 "INFO_JOBHISTORY", "NW_EMAIL_SIGNIN"):
        assert client.open(page).token, page


@pytest.mark.parametrize(("page", "leaf", "fields"), [
    ("FAX_SERVER_EMAIL", "SET", {"INPUTT_SENDERADDRESS": "changed@example.com"}),
    ("NW_EMAIL_SIGNIN", "SET", {"INPUTD_EMAILSERVICE": "EXCHANGE"}),
    ("FAX_EMAIL_SIGNIN", "SET", {"INPUTD_EMAILSERVICE": "EXCHANGE"}),
    ("NW_EMAIL_CONNECTTEST", "SET", {}),
    ("SERVERLESS_AUTH", "SET", {"INPUTR_SENDERADDRESS": "USER"}),
    ("SERVERLESS_USERS", "SET", {"INPUTT_USER_ID": "eve", "INPUTT_USER_NAME": "Eve",
                                 "INPUTT_USER_EMAIL": "eve@example.com"}),
    ("NWS_CERT_CA", "DELETE", {"INPUTT_CERTID": "00"}),
    ("DM_EXPORT", "SET", {"INPUTT_EXPORTPASSWORD": "Export-Pw1", "INPUTT_EXPORTPASSWORD_CONFIRM": "Export-Pw1"}),
])
def test_every_set_refuses_a_stale_token(a3: ServedDevice, page: str, leaf: str, fields: dict[str, str]) -> None:
    client = a3.admin()
    before, pending = a3.device.config, dict(a3.device.pending)
    answer = client.post(page, {"INPUTT_SETUPTOKEN": "0" * 32, **fields}, leaf)
    assert answer.status == 200 and STALE in answer.warnings
    assert a3.device.config == before and a3.device.pending == pending and a3.device.jobs.jobs() == []


# --- Email Server > Basic ------------------------------------------------------------------------------------

def test_basic_page_fields_and_labels(mfp: ServedDevice) -> None:
    page = mfp.admin().open("NW_EMAIL_BASIC")
    for name, label in [("INPUTD_AUTHMETHOD", "Authentication Method"), ("INPUTD_EMAILSERVICE", "Email service"),
                        ("INPUTT_ACCOUNT", "Authenticated Account"), ("INPUTT_AUTHPASSWORD", "Authenticated Password"),
                        ("INPUTT_SENDERADDRESS", "Sender's Email Address"),
                        ("INPUTT_SMTPSERVER", "SMTP Server Address"), ("INPUTT_SMTPPORT", "SMTP Server Port Number"),
                        ("INPUTD_SECURECONNECTION", "Secure Connection"), ("INPUTT_POP3SERVER", "POP3 Server Address"),
                        ("INPUTT_POP3PORT", "POP3 Server Port Number")]:
        assert f'<label for="{name}">{label.replace(chr(39), "&#x27;")}</label>' in page.html, name
    assert '<label for="INPUTR_CERTVALIDATION-ENABLE">Enable</label>' in page.html
    assert page.selects["INPUTD_AUTHMETHOD"] == "OFF" and page.radios["INPUTR_CERTVALIDATION"] == "ENABLE"
    assert "It is recommended to enable the Certificate Validation." in page.html
    assert ">OAuth2</option>" in page.html and ">Outlook.com</option>" in page.html


def test_oauth2_takes_server_port_and_starttls_from_the_service(mfp: ServedDevice) -> None:
    client = mfp.admin()
    page = client.submit("NW_EMAIL_BASIC", {"INPUTD_AUTHMETHOD": "OAUTH2", "INPUTD_EMAILSERVICE": "OUTLOOK",
                                            "INPUTT_SMTPSERVER": "mail.example.com", "INPUTT_SMTPPORT": "25",
                                            "INPUTD_SECURECONNECTION": "NONE", "INPUTT_SENDERADDRESS": PRINTER})
    assert page.warnings == [SETUP_COMPLETE]
    saved = mfp.device.config.email
    assert (saved.auth_method, saved.email_service) == ("OAuth2", "Outlook.com")
    assert (saved.smtp_server, saved.smtp_port, saved.secure) == ("smtp-mail.outlook.com", 587, "STARTTLS")
    assert page.inputs["INPUTT_SMTPSERVER"] == "smtp-mail.outlook.com"
    assert page.by_id["CURRENT_STATUS"] == "Signed out"


def test_smtp_auth_settings_are_saved_and_the_password_never_echoed(mfp: ServedDevice) -> None:
    client = mfp.admin()
    page = client.submit("NW_EMAIL_BASIC", {
        "INPUTD_AUTHMETHOD": "SMTPAUTH", "INPUTT_ACCOUNT": "scanner", "INPUTT_AUTHPASSWORD": "S3cret-pw",
        "INPUTT_SENDERADDRESS": "scanner@example.com", "INPUTT_SMTPSERVER": "192.0.2.25", "INPUTT_SMTPPORT": "465",
        "INPUTD_SECURECONNECTION": "SSLTLS", "INPUTR_CERTVALIDATION": "DISABLE"})
    assert page.warnings == [SETUP_COMPLETE]
    assert mfp.device.config.email == EmailServerSettings(
        auth_method="SMTP AUTH", account="scanner", password="S3cret-pw", sender="scanner@example.com",
        smtp_server="192.0.2.25", smtp_port=465, secure="SSL/TLS", cert_validation=False)
    assert "S3cret-pw" not in page.html and page.inputs["INPUTT_AUTHPASSWORD"] == ""
    client.submit("NW_EMAIL_BASIC", {"INPUTT_AUTHPASSWORD": "", "INPUTT_ACCOUNT": "scanner2"})
    assert mfp.device.config.email.password == "S3cret-pw"


@pytest.mark.parametrize(("fields", "message"), [
    ({"INPUTT_SMTPPORT": "0"}, "Enter a value between 1 and 65535 for SMTP Server Port Number."),
    ({"INPUTT_SMTPPORT": "65536"}, "Enter a value between 1 and 65535 for SMTP Server Port Number."),
    ({"INPUTT_SMTPPORT": "25a"}, "Enter a value between 1 and 65535 for SMTP Server Port Number."),
    ({"INPUTT_POP3PORT": "-1"}, "Enter a value between 1 and 65535 for POP3 Server Port Number."),
    ({"INPUTT_SMTPSERVER": "smtp_example.com"}, "Enter the SMTP Server Address as an IPv4 address or FQDN using "
                                                "A-Z a-z 0-9 . -."),
    ({"INPUTT_SMTPSERVER": "999.1.1.1"}, "Enter the SMTP Server Address as an IPv4 address or FQDN using "
                                         "A-Z a-z 0-9 . -."),
    ({"INPUTT_SENDERADDRESS": "Printer <p@example.com>"}, "Enter the Sender's Email Address using up to 255 "
                                                          "characters."),
    ({"INPUTT_SENDERADDRESS": ".p@example.com"}, "Enter the Sender's Email Address using up to 255 characters."),
    ({"INPUTT_SENDERADDRESS": "p@example.com;"}, "Enter the Sender's Email Address using up to 255 characters."),
    ({"INPUTT_SENDERADDRESS": "a" * 256}, "Enter the Sender's Email Address using up to 255 characters."),
    ({"INPUTT_ACCOUNT": "a" * 256}, "Enter the Authenticated Account using up to 255 ASCII characters."),
    ({"INPUTT_ACCOUNT": "nutzer-ä"}, "Enter the Authenticated Account using up to 255 ASCII characters."),
    ({"INPUTT_AUTHPASSWORD": "p" * 21}, "Enter the Authenticated Password using up to 20 ASCII characters."),
    ({"INPUTD_AUTHMETHOD": "SMTPAUTH", "INPUTT_SMTPSERVER": "smtp.example.com"}, "Enter the Authenticated Account."),
    ({"INPUTD_AUTHMETHOD": "POPBEFORESMTP", "INPUTT_SMTPSERVER": "smtp.example.com"},
     "Enter the POP3 Server Address as an IPv4 address or FQDN using A-Z a-z 0-9 . -."),
    ({"INPUTD_AUTHMETHOD": "KERBEROS"}, "Select an Authentication Method."),
    ({"INPUTD_AUTHMETHOD": "OAUTH2", "INPUTD_EMAILSERVICE": "GMAIL"}, "Select an Email service."),
    ({"INPUTD_SECURECONNECTION": "TLS1.3"}, "Select a Secure Connection."),
    ({"INPUTR_CERTVALIDATION": "MAYBE"}, "Select Enable or Disable for Certificate Validation."),
], ids=lambda v: "-".join(v) if isinstance(v, dict) else None)
def test_invalid_values_are_refused_and_change_nothing(mfp: ServedDevice, fields: dict[str, str],
                                                       message: str) -> None:
    client = mfp.admin()
    before = mfp.device.config
    page = client.submit("NW_EMAIL_BASIC", fields)
    assert any(w.startswith(message) for w in page.warnings), page.warnings
    assert SETUP_COMPLETE not in page.warnings
    assert mfp.device.config == before
    if "INPUTT_SENDERADDRESS" in fields:  # the refused value stays in the form to be corrected
        assert page.inputs["INPUTT_SENDERADDRESS"] == fields["INPUTT_SENDERADDRESS"][:255] or len(
            fields["INPUTT_SENDERADDRESS"]) > 255


def test_limits_are_accepted_at_their_edges(mfp: ServedDevice) -> None:
    client = mfp.admin()
    local = "a" * 64
    page = client.submit("NW_EMAIL_BASIC", {"INPUTT_SMTPPORT": "65535", "INPUTT_POP3PORT": "1",
                                            "INPUTT_ACCOUNT": "x" * 255, "INPUTT_AUTHPASSWORD": "p" * 20,
                                            "INPUTT_SENDERADDRESS": f"{local}@example.com",
                                            "INPUTT_SMTPSERVER": "smtp-1.example.com"})
    assert page.warnings == [SETUP_COMPLETE]
    assert mfp.device.config.email.smtp_port == 65535 and len(mfp.device.config.email.account) == 255


def test_certificate_warning_until_the_lab_ca_is_imported(mfp: ServedDevice, tier: MicrosoftTier) -> None:
    client = mfp.admin()
    page = client.submit("NW_EMAIL_BASIC", {"INPUTD_AUTHMETHOD": "OAUTH2", "INPUTD_EMAILSERVICE": "EXCHANGE",
                                            "INPUTT_SENDERADDRESS": PRINTER})
    assert "CERTIFICATE_WARNING" in page.by_id
    assert page.by_id["CERTIFICATE_WARNING"].startswith(
        "The certificate is required to use a secure function of the email server. Make settings on the "
        "following page. CA Certificate Root Certificate Update")
    assert client.submit("NWS_CERT_CA", {"format": "pem_der"},
                         files={"cert0": ("lab-ca.pem", tier.ca.cert_pem)}).warnings == [SETUP_COMPLETE]
    assert "CERTIFICATE_WARNING" not in client.open("NW_EMAIL_BASIC").by_id
    client.submit("NW_EMAIL_BASIC", {"INPUTR_CERTVALIDATION": "DISABLE"})
    mfp.device.ca.remove(mfp.device.ca.certificates()[0].fingerprint)
    assert "CERTIFICATE_WARNING" not in client.open("NW_EMAIL_BASIC").by_id


def test_signin_screen_before_and_after_sign_in_with_microsoft(mfp: ServedDevice, tier: MicrosoftTier) -> None:
    client = mfp.admin()
    mfp.device.ca.add(tier.ca.cert_pem)
    client.submit("NW_EMAIL_BASIC", {"INPUTD_AUTHMETHOD": "OAUTH2", "INPUTD_EMAILSERVICE": "EXCHANGE",
                                     "INPUTT_SENDERADDRESS": PRINTER})
    screen = client.open("NW_EMAIL_SIGNIN", INPUTD_EMAILSERVICE="EXCHANGE")
    assert screen.title == "Sign In"
    assert screen.by_id["SIGNIN_NOTICE"] == "Any other email services signed in will be signed out automatically"
    assert screen.values["Email service"] == "Microsoft Exchange Online"
    assert screen.values["Current Status"] == "Signed out"
    assert "USER_CODE" not in screen.by_id
    started = client.post("NW_EMAIL_SIGNIN", {"INPUTT_SETUPTOKEN": screen.token, "INPUTD_EMAILSERVICE": "EXCHANGE"})
    code = started.by_id["USER_CODE"]
    assert code and code in started.by_id["SIGNIN_MESSAGE"]
    assert started.by_id["VERIFICATION_URI"] == "https://microsoft.com/devicelogin"
    assert "https://microsoft.com/devicelogin" in started.by_id["SIGNIN_MESSAGE"]
    status = client.http.get(client.url("NW_EMAIL_SIGNIN", "STATUS.JSON"), params={"INPUTD_EMAILSERVICE": "EXCHANGE"},
                             timeout=10)
    assert status.json() == {"service": "Microsoft Exchange Online", "state": "polling",
                             "current_status": "Signed out", "saved": False, "account": "", "error": ""}
    assert code not in status.text
    basic = client.open("NW_EMAIL_BASIC")
    assert basic.selects["INPUTD_AUTHMETHOD"] == "OAUTH2" and basic.by_id["CURRENT_STATUS"] == "Signed out"
    assert "fetch(" in basic.html  # Current Status updates itself while the sign-in is in progress
    assert mfp.client().http.get(client.url("NW_EMAIL_SIGNIN", "STATUS.JSON"), timeout=10).status_code == 401


def test_signin_refusal_is_shown(mfp: ServedDevice) -> None:
    client = mfp.admin()  # the lab CA is not imported: the device cannot reach the identity provider
    started = client.submit("NW_EMAIL_SIGNIN", {"INPUTD_EMAILSERVICE": "EXCHANGE"})
    assert started.by_id["SIGNIN_ERROR"].startswith("Cannot connect to the sign-in service")
    assert started.values["Current Status"] == "Signed out" and "USER_CODE" not in started.by_id
    assert mfp.device.signin("email") is None


def test_connection_test_says_why_it_failed(mfp: ServedDevice) -> None:
    client = mfp.admin()
    client.submit("NW_EMAIL_BASIC", {"INPUTD_AUTHMETHOD": "OAUTH2", "INPUTD_EMAILSERVICE": "EXCHANGE",
                                     "INPUTT_SENDERADDRESS": PRINTER})
    page = client.submit("NW_EMAIL_CONNECTTEST", {})
    assert page.title == "Email Server > Connection Test"
    assert page.by_id["CONNECTION_TEST_RESULT"].startswith("Connection test failed.")
    assert 'data-ok="false"' in page.html


# --- fax server, extended network ----------------------------------------------------------------------------

def test_fax_server_settings_are_their_own_slot(a3: ServedDevice) -> None:
    client = a3.admin()
    page = client.submit("FAX_SERVER_EMAIL", {"INPUTD_AUTHMETHOD": "OAUTH2", "INPUTD_EMAILSERVICE": "OUTLOOK",
                                              "INPUTT_SENDERADDRESS": "fax@example.com"})
    assert page.title == "Fax Server > Email Server Settings" and page.warnings == [SETUP_COMPLETE]
    assert a3.device.config.fax_email.smtp_server == "smtp-mail.outlook.com"
    assert a3.device.config.email.auth_method == "Off"
    bad = client.submit("FAX_SERVER_EMAIL", {"INPUTT_SMTPPORT": "70000"})
    assert bad.warnings == ["Enter a value between 1 and 65535 for SMTP Server Port Number."]


def test_extended_network_and_oauth2_exclude_each_other(enterprise: ServedDevice) -> None:
    client = enterprise.admin()
    page = client.open("NW_NETWORK_INTERFACE")
    assert page.radios["INPUTR_NETWORKTYPE"] == "STANDARD"
    assert client.submit("NW_NETWORK_INTERFACE", {"INPUTR_NETWORKTYPE": "EXTENDED"}).warnings == [SETUP_COMPLETE]
    refused = client.submit("NW_EMAIL_BASIC", {"INPUTD_AUTHMETHOD": "OAUTH2", "INPUTD_EMAILSERVICE": "EXCHANGE"})
    assert refused.warnings == ["OAuth2 cannot be used while the extended network is selected. Select Standard "
                                "Network on Network > Network Interface first."]
    assert enterprise.device.config.email.auth_method == "Off"
    start = client.submit("NW_EMAIL_SIGNIN", {"INPUTD_EMAILSERVICE": "EXCHANGE"})
    assert start.warnings[0].startswith("OAuth2 cannot be used") and "USER_CODE" not in start.by_id
    assert client.submit("NW_NETWORK_INTERFACE", {"INPUTR_NETWORKTYPE": "STANDARD"}).warnings == [SETUP_COMPLETE]
    assert client.submit("NW_EMAIL_BASIC", {"INPUTD_AUTHMETHOD": "OAUTH2", "INPUTD_EMAILSERVICE": "EXCHANGE",
                                            "INPUTT_SENDERADDRESS": PRINTER}).warnings == [SETUP_COMPLETE]
    refused = client.submit("NW_NETWORK_INTERFACE", {"INPUTR_NETWORKTYPE": "EXTENDED"})
    assert refused.warnings[0].startswith("The extended network does not support OAuth2.")
    assert enterprise.device.config.network == "standard"
    assert client.submit("NW_NETWORK_INTERFACE", {"INPUTR_NETWORKTYPE": "BOTH"}).warnings == [
        "Select Standard Network or Extended Network."]


def test_defect_lets_oauth2_onto_the_extended_network(tier: MicrosoftTier) -> None:
    device = make_device(tier, "WF-C21000", defects=frozenset({"oauth2_on_extended_network"}))
    with served(device) as served_device:
        client = served_device.admin()
        assert client.submit("NW_NETWORK_INTERFACE", {"INPUTR_NETWORKTYPE": "EXTENDED"}).warnings == [SETUP_COMPLETE]
        assert client.submit("NW_EMAIL_BASIC", {"INPUTD_AUTHMETHOD": "OAUTH2", "INPUTD_EMAILSERVICE": "EXCHANGE"}
                             ).warnings == [SETUP_COMPLETE]
        assert device.config.email.auth_method == "OAuth2" and device.config.network == "extended"


# --- CA certificates ---------------------------------------------------------------------------------------

def test_ca_certificates_import_pem_and_der_list_and_delete(mfp: ServedDevice) -> None:
    client = mfp.admin()
    first, second = LabCA.create("Test CA One"), LabCA.create("Test CA Two")
    assert client.open("NWS_CERT_CA").by_id["CA_CERTIFICATES_EMPTY"] == "No CA certificates are imported."
    assert client.submit("NWS_CERT_CA", {"format": "pem_der"}, files={"cert0": ("one.pem", first.cert_pem)}
                         ).warnings == [SETUP_COMPLETE]
    page = client.submit("NWS_CERT_CA", {"format": "pem_der"}, files={"cert0": ("two.der", second.cert_der)})
    assert page.warnings == [SETUP_COMPLETE]
    rows = page.tables["CA_CERTIFICATES"]
    assert [r[1].split(",")[0] for r in rows[1:]] == ["CN=Test CA One", "CN=Test CA Two"]
    again = client.submit("NWS_CERT_CA", {"format": "pem_der"}, files={"cert0": ("one.pem", first.cert_pem)})
    assert again.warnings == ["The certificate is already imported."]
    fingerprint = mfp.device.ca.certificates()[0].fingerprint
    page = client.submit("NWS_CERT_CA", {"INPUTT_CERTID": fingerprint}, leaf="DELETE")
    assert page.warnings == [SETUP_COMPLETE]
    assert [c.subject.split(",")[0] for c in mfp.device.ca.certificates()] == ["CN=Test CA Two"]
    assert client.submit("NWS_CERT_CA", {"INPUTT_CERTID": fingerprint}, leaf="DELETE").warnings == [
        "The certificate was not found. Reload the page and try again."]


@pytest.mark.parametrize(("upload", "message"), [
    (("junk.pem", b"this is not a certificate"), "The file is not a valid certificate. Select a PEM or DER file."),
    (("empty.pem", b""), "The file is not a valid certificate. Select a PEM or DER file."),
    (("server.pem", None), "The certificate is not a CA certificate."),
    (("big.pem", b"x" * (64 * 1024 + 1)), "The file is too large. Select a certificate file of up to 64 KB."),
])
def test_ca_import_refuses_bad_files(mfp: ServedDevice, tier: MicrosoftTier, upload: tuple[str, bytes | None],
                                     message: str) -> None:
    name, data = upload
    content = tier.server_cert.cert_pem if data is None else data
    page = mfp.admin().submit("NWS_CERT_CA", {"format": "pem_der"}, files={"cert0": (name, content)})
    assert page.warnings == [message]
    assert mfp.device.ca.certificates() == []


def test_ca_import_without_a_file_or_token(mfp: ServedDevice) -> None:
    client = mfp.admin()
    assert client.submit("NWS_CERT_CA", {"format": "pem_der"}).warnings == ["Select a certificate file."]
    page = client.post("NWS_CERT_CA", {"INPUTT_SETUPTOKEN": "stale"},
                       files={"cert0": ("ca.pem", LabCA.create().cert_pem)})
    assert page.warnings == [STALE] and mfp.device.ca.certificates() == []


# --- Serverless ----------------------------------------------------------------------------------------

def test_serverless_sender_and_users(a3: ServedDevice) -> None:
    client = a3.admin()
    page = client.open("SERVERLESS_AUTH")
    assert page.radios == {"INPUTR_SERVERLESS": "ENABLE", "INPUTR_SENDERADDRESS": "DEVICE"}
    assert client.submit("SERVERLESS_AUTH", {"INPUTR_SENDERADDRESS": "USER"}).warnings == [SETUP_COMPLETE]
    assert a3.device.config.serverless.sender_mode == "user"
    assert client.submit("SERVERLESS_AUTH", {"INPUTR_SENDERADDRESS": "NOBODY"}).warnings == [
        "Select the Sender's Email Address."]
    add = {"INPUTT_USER_ID": "alice", "INPUTT_USER_NAME": "Alice User",
           "INPUTT_USER_EMAIL": "alice@epsonlab.onmicrosoft.com", "INPUTR_PRINTERADMIN": "OFF"}
    page = client.submit("SERVERLESS_USERS", add)
    assert page.warnings == [SETUP_COMPLETE]
    assert page.tables["SERVERLESS_USERS"][1][:5] == ["alice", "Alice User", "alice@epsonlab.onmicrosoft.com",
                                                      "Off", "Signed out"]
    assert client.submit("SERVERLESS_USERS", {**add, "INPUTT_USER_ID": "ALICE"}).warnings == [
        "The User ID is already registered."]
    bad = client.submit("SERVERLESS_USERS", {**add, "INPUTT_USER_ID": "bob smith", "INPUTT_USER_EMAIL": "bob@"})
    assert bad.warnings == ["Enter the User ID using 1 to 32 characters: A-Z a-z 0-9 . _ - @",
                            "Enter a valid Email Address using up to 255 ASCII characters."]
    assert bad.inputs["INPUTT_USER_ID"] == "bob smith"
    assert [u.user_id for u in a3.device.config.serverless.users] == ["alice"]
    page = client.submit("SERVERLESS_USERS", {"INPUTT_USER_ID": "alice"}, leaf="DELETE")
    assert page.warnings == [SETUP_COMPLETE] and a3.device.config.serverless.users == ()


# --- job history ----------------------------------------------------------------------------------------

def test_job_history_page_and_csv_export(mfp: ServedDevice) -> None:
    now = mfp.device.clock.now()
    mfp.device.jobs.record(started=now, completed=now, type="Scan to Email", error_code=360, pages=1,
                           sender=PRINTER, recipient="alice@epsonlab.onmicrosoft.com", file_name="img001.pdf")
    client = mfp.admin()
    page = client.open("INFO_JOBHISTORY")
    header, row = page.tables["JOB_HISTORY"]
    assert header[:6] == ["Receipt No.", "Date/Time", "Completed", "Type", "Result", "Error Code"]
    assert row[3:6] == ["Scan to Email", "Error code 360", "360"]
    answer = client.http.post(client.url("INFO_JOBHISTORY", "OUTPUT.CSV"), timeout=10,
                              data={"INPUTT_SETUPTOKEN": page.token, "INPUTD_HISTORYTYPE": "ALL"})
    assert answer.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert rows[0]["Result"] == "Error code 360" and rows[0]["File Name"] == "img001.pdf"
    again = client.http.post(client.url("INFO_JOBHISTORY", "OUTPUT.CSV"), timeout=10,
                             data={"INPUTT_SETUPTOKEN": page.token, "INPUTD_HISTORYTYPE": "ALL"})
    assert again.headers["Content-Type"].startswith("text/csv")  # a download leaves the page's token valid
    stale = read_page(client.http.post(client.url("INFO_JOBHISTORY", "OUTPUT.CSV"), timeout=10,
                                       data={"INPUTT_SETUPTOKEN": "old", "INPUTD_HISTORYTYPE": "ALL"}))
    assert stale.warnings == [STALE]
    assert mfp.client().open("INFO_JOBHISTORY").login_form


# --- export / import -----------------------------------------------------------------------------------

def _export(client: WebConfigClient, password: str = "Export-Pw1") -> requests.Response:
    token = client.open("DM_EXPORT").token
    return client.http.post(client.url("DM_EXPORT", "SET"), timeout=30, data={
        "INPUTT_SETUPTOKEN": token, "INPUTT_EXPORTPASSWORD": password, "INPUTT_EXPORTPASSWORD_CONFIRM": password})


def test_export_then_import_restores_the_settings(a3: ServedDevice, tier: MicrosoftTier) -> None:
    a3.device.update(admin_password="Admin-Pw-4711")
    client = a3.admin()
    client.submit("NW_EMAIL_BASIC", {"INPUTD_AUTHMETHOD": "SMTPAUTH", "INPUTT_ACCOUNT": "scanner",
                                     "INPUTT_AUTHPASSWORD": "Smtp-Secret9", "INPUTT_SMTPSERVER": "smtp.example.com",
                                     "INPUTT_SENDERADDRESS": "scanner@example.com"})
    client.submit("SERVERLESS_USERS", {"INPUTT_USER_ID": "bob", "INPUTT_USER_NAME": "Bob",
                                       "INPUTT_USER_EMAIL": "bob@epsonlab.onmicrosoft.com"})
    a3.device.ca.add(tier.ca.cert_pem)
    saved, certificates = a3.device.config, a3.device.ca.certificates()
    answer = _export(client)
    assert answer.headers["Content-Type"] == "application/json" and "attachment" in answer.headers[
        "Content-Disposition"]
    assert b"Smtp-Secret9" not in answer.content and saved.admin_password.encode() not in answer.content
    document = json.loads(answer.content)
    assert document["model"] == "AM-C4000" and document["settings"]["email"]["account"] == "scanner"

    client.submit("NW_EMAIL_BASIC", {"INPUTD_AUTHMETHOD": "OFF", "INPUTT_SMTPSERVER": "other.example.com",
                                     "INPUTT_AUTHPASSWORD": "changed"})
    client.submit("SERVERLESS_USERS", {"INPUTT_USER_ID": "bob"}, leaf="DELETE")
    a3.device.ca.remove(certificates[0].fingerprint)
    page = client.submit("DM_IMPORT", {"INPUTT_IMPORTPASSWORD": "Export-Pw1"},
                         files={"INPUTF_IMPORTFILE": ("settings.json", answer.content)})
    assert page.warnings == [SETUP_COMPLETE]
    assert a3.device.config == saved and a3.device.ca.certificates() == certificates


def test_export_never_contains_sign_ins(mfp: ServedDevice, tier: MicrosoftTier) -> None:
    from sim_engine_support import seeded_signin

    signin = seeded_signin(tier)
    mfp.device.save_signin("email", signin)
    content = _export(mfp.admin()).content
    assert signin.refresh_token.encode() not in content and signin.access_token.encode() not in content
    assert b"refresh" not in content.lower()


@pytest.mark.parametrize("password", ["short", "p" * 21, "with space1"])
def test_export_password_rules(mfp: ServedDevice, password: str) -> None:
    page = read_page(_export(mfp.admin(), password))
    assert page.warnings == ["Enter a password using 8 to 20 ASCII characters."]


def test_import_refuses_bad_files_and_changes_nothing(mfp: ServedDevice, tier: MicrosoftTier) -> None:
    client = mfp.admin()
    good = _export(client).content
    document = json.loads(good)

    def variant(**settings: object) -> bytes:
        changed = json.loads(good)
        changed["settings"]["email"].update(settings)
        return json.dumps(changed).encode()

    other_model = json.dumps({**document, "model": "DS-790WN"}).encode()
    client.submit("NW_EMAIL_BASIC", {"INPUTT_SENDERADDRESS": "keep@example.com"})
    before = mfp.device.config
    cases = [
        (b"not json at all", "Export-Pw1", "The file cannot be imported. Select a file exported from Web Config of "
                                           "this printer."),
        (b'{"format": "something else"}', "Export-Pw1", "The file cannot be imported."),
        (b"\xff\xfe\x00garbage", "Export-Pw1", "The file cannot be imported."),
        (good, "Wrong-Pw99", "The password is incorrect."),
        (good, "", "Enter a password using 8 to 20 ASCII characters."),
        (other_model, "Export-Pw1", "The file cannot be imported: it was exported from a different model"),
        (variant(smtp_port=70000), "Export-Pw1", "The file contains invalid settings: Email Server: Enter a value"),
        (variant(smtp_port="587"), "Export-Pw1", "The file cannot be imported."),
        (variant(sender="a<b>@example.com"), "Export-Pw1", "The file contains invalid settings: Email Server: Enter "
                                                           "the Sender's Email Address"),
        (variant(unknown_field=1), "Export-Pw1", "The file cannot be imported."),
    ]
    for content, password, message in cases:
        page = client.submit("DM_IMPORT", {"INPUTT_IMPORTPASSWORD": password},
                             files={"INPUTF_IMPORTFILE": ("settings.json", content)})
        assert len(page.warnings) == 1 and page.warnings[0].startswith(message), (message, page.warnings)
        assert mfp.device.config == before
    assert client.submit("DM_IMPORT", {"INPUTT_IMPORTPASSWORD": "Export-Pw1"}).warnings == ["Select a file to import."]


# --- language, garbage ---------------------------------------------------------------------------------

def test_language_cookie_is_read_and_english_is_the_fallback(mfp: ServedDevice) -> None:
    client = mfp.client()
    assert client.open("COMMON").selects["SEL_LANGA"] == "1"
    client.http.cookies.set("EPSON_COOKIE_LANG", "lang_b&4/lang_a&4")
    page = client.open("COMMON")
    assert page.selects["SEL_LANGA"] == "4" and '<html lang="en">' in page.html
    assert client.open("INFO_PRTINFO").title == "Product Status"
    client.http.cookies.clear()
    client.http.post(client.url("COMMON", "TOP"), data={"SEL_LANGA": "2"}, timeout=10)
    assert client.http.cookies.get("EPSON_COOKIE_LANG") == "lang_b&2/lang_a&2"
    assert client.open("COMMON").selects["SEL_LANGA"] == "2"


def test_garbage_gets_protocol_errors_and_the_server_keeps_serving(mfp: ServedDevice) -> None:
    client = mfp.admin()
    base = f"{mfp.url}/PRESENTATION/ADVANCED"
    assert client.http.get(f"{base}/NO_SUCH_PAGE/TOP", timeout=10).status_code == 404
    assert client.http.get(f"{base}/../../etc/passwd", timeout=10).status_code == 404
    assert client.http.delete(f"{base}/NW_EMAIL_BASIC/SET", timeout=10).status_code == 405
    broken = client.http.post(f"{base}/NWS_CERT_CA/SET", timeout=10, data=b"--xyz\r\nnot multipart",
                              headers={"Content-Type": "multipart/form-data; boundary=xyz"})
    assert broken.status_code in (200, 400)
    weird = client.http.post(f"{base}/NW_EMAIL_BASIC/SET", timeout=10, data=b"\xff\xfe=%%%&&==",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert weird.status_code == 200 and read_page(weird).warnings == [STALE]
    assert client.http.get(f"{base}/NW_EMAIL_SIGNIN/STATUS.JSON", params={"INPUTD_EMAILSERVICE": "X"},
                           timeout=10).status_code == 400
    assert all(r.headers["Server"] == "EPSON-HTTP" for r in (broken, weird))
    assert client.open("NW_EMAIL_BASIC").token
