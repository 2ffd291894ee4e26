"""The harness's Web Config page objects against the virtual lab's devices, in a real Chromium.

Every page object action, each refusal typed and quoting the page (and nothing changed), and the error paths:
wrong admin password, lock-out, stale setup token, login required, missing page, device unreachable. A test
that changes a device puts it back (Export before, Import after).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from device_webconfig_support import (  # noqa: F401 - module-scoped lab fixtures
    TIMEOUT_MS,
    admin_webconfig,
    browser,
    context,
    info,
    lab,
    panel,
    power_cycle,
    restored,
)
from playwright.sync_api import BrowserContext, Route

from harness.device.errors import DeviceError, InfraError
from harness.device.webconfig import (
    LockedOut,
    LoginRefused,
    LoginRequired,
    PageNotFound,
    StaleSetupToken,
    WebConfig,
    WebConfigRefused,
    WebConfigUnreachable,
)
from harness.device.webconfig.profile import PROFILE_DIR
from harness.lab.labfile import DeviceInfo, LabInfo
from harness.msft.control_client import TierControl

pytestmark = pytest.mark.browser

PORT_MESSAGE = "Enter a value between 1 and 65535 for SMTP Server Port Number."
SENDER_MESSAGE = ("Enter the Sender's Email Address using up to 255 characters. The following characters cannot be "
                  "used: : ( ) < > [ ] ; ¥ and the address cannot start with \".\".")
EXTENDED_REFUSAL = ("OAuth2 cannot be used while the extended network is selected. Select Standard Network on "
                    "Network > Network Interface first.")


@pytest.fixture
def control(info: LabInfo) -> Iterator[TierControl]:
    with info.msft.control_client() as client:
        yield client


def device_with(info: LabInfo, capability: str) -> DeviceInfo:
    return next(d for d in info.devices if capability in d.capabilities)


def mfp(info: LabInfo) -> DeviceInfo:
    return info.device("mfp-c5790")


# --- public pages and the profile ----------------------------------------------------------------------------
def test_product_and_network_status_are_read_without_a_login(info: LabInfo, context: BrowserContext) -> None:
    for device in info.devices:
        wc = WebConfig(context.new_page(), device.webconfig, timeout_ms=TIMEOUT_MS)
        product = wc.product.read()
        assert (product.serial, product.firmware, product.mac) == (device.serial, device.firmware, device.mac)
        assert product.model.startswith(device.model) and product.root_certificate_version
        network = wc.network.read()
        assert network.network["MAC Address"] == device.mac and network.network["IP Address"]
        assert network.email is not None and network.email.auth_method == "Off"
        assert (network.fax is not None) == ("fax_server_email" in device.capabilities)


def test_the_profile_comes_from_the_inventory_or_product_status(info: LabInfo, context: BrowserContext,
                                                                tmp_path: Path) -> None:
    device = mfp(info)
    page = context.new_page()
    assert WebConfig.detected(page, device.webconfig, timeout_ms=TIMEOUT_MS).profile.name == "epson-advanced"
    copy = tmp_path / "lab-fork.yaml"
    copy.write_text((PROFILE_DIR / "epson-advanced.yaml").read_text().replace(
        "name: epson-advanced", "name: lab-fork"))
    assert WebConfig.detected(page, device.webconfig, str(copy)).profile.name == "lab-fork"


# --- login, lock-out, session, stale token, unreachable --------------------------------------------------------
def test_a_wrong_admin_password_is_refused_quoting_the_device(info: LabInfo, context: BrowserContext) -> None:
    wc = WebConfig(context.new_page(), mfp(info).webconfig, timeout_ms=TIMEOUT_MS)
    with pytest.raises(LoginRefused) as refused:
        wc.session.log_in("not-the-password")
    assert refused.value.message == "Incorrect user name or password"
    assert isinstance(refused.value, InfraError) and not isinstance(refused.value, LockedOut)
    with pytest.raises(LoginRequired):
        wc.email_server.read()


def test_lock_out_after_five_failures_until_a_power_cycle(info: LabInfo, context: BrowserContext,
                                                          control: TierControl) -> None:
    device = info.device("scan-ds790")
    wc = WebConfig(context.new_page(), device.webconfig, timeout_ms=TIMEOUT_MS)
    for _ in range(5):
        with pytest.raises(LoginRefused) as refused:
            wc.session.log_in("wrong-password")
        assert not isinstance(refused.value, LockedOut)
    with pytest.raises(LockedOut) as locked:
        wc.session.log_in(device.admin_password)  # even the right password, for 300 s of the lab clock
    assert locked.value.message == "Try again later."
    power_cycle(control, device.name)  # a restart clears the count (docs/virtual-webconfig.md)
    wc.session.log_in(device.admin_password)
    assert wc.session.logged_in()


def test_log_out_ends_the_session_on_the_device(info: LabInfo, context: BrowserContext) -> None:
    wc = admin_webconfig(context, mfp(info))
    assert wc.session.logged_in()
    wc.session.log_out()
    assert not wc.session.logged_in()
    with pytest.raises(LoginRequired) as required:
        wc.certificates.certificates()
    assert isinstance(required.value, DeviceError)


def test_a_page_given_the_admin_password_logs_in_when_the_device_asks(info: LabInfo, context: BrowserContext) -> None:
    device = mfp(info)
    wc = WebConfig(context.new_page(), device.webconfig, timeout_ms=TIMEOUT_MS, admin_password=device.admin_password)
    wc.session.log_out()
    assert not wc.session.logged_in()
    assert wc.email_server.read().auth_method  # the protected page, after answering the login form in its place
    assert wc.session.logged_in()
    wrong = WebConfig(context.new_page(), device.webconfig, timeout_ms=TIMEOUT_MS, admin_password="not-it")
    wrong.session.log_out()
    with pytest.raises(LoginRefused):
        wrong.email_server.read()


def test_a_stale_setup_token_is_its_own_error_and_changes_nothing(info: LabInfo, context: BrowserContext) -> None:
    first = admin_webconfig(context, mfp(info))
    basic = first.email_server.open()
    before = basic.read(reload=False)
    second = WebConfig(context.new_page(), mfp(info).webconfig, timeout_ms=TIMEOUT_MS)  # same session
    assert second.email_server.save(sender=before.sender) == ("Setup complete.",)  # uses up the first's token
    basic.set_fields(sender="stale@epsonlab.onmicrosoft.com")
    with pytest.raises(StaleSetupToken) as stale:
        basic.ok()
    assert stale.value.messages == ("The page has expired. Reload the page and try again.",)
    assert isinstance(stale.value, WebConfigRefused)
    assert basic.read().sender == before.sender


def test_an_unreachable_device_is_an_infra_error(context: BrowserContext) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    wc = WebConfig(context.new_page(), f"http://127.0.0.1:{port}", timeout_ms=TIMEOUT_MS)
    with pytest.raises(WebConfigUnreachable) as unreachable:
        wc.session.log_in("anything")
    assert isinstance(unreachable.value, InfraError) and "ERR_CONNECTION_REFUSED" in str(unreachable.value)
    with pytest.raises(WebConfigUnreachable):
        wc.product.read()


def test_a_page_the_model_lacks_is_not_found(info: LabInfo, context: BrowserContext) -> None:
    wc = admin_webconfig(context, mfp(info))
    with pytest.raises(PageNotFound):
        wc.fax_server.read()
    with pytest.raises(PageNotFound):
        wc.interface.read()


# --- Email Server > Basic and Connection Test -------------------------------------------------------------------
def test_email_server_fields_are_set_read_and_refused(info: LabInfo, context: BrowserContext) -> None:
    wc = admin_webconfig(context, mfp(info))
    with restored(wc):
        assert wc.email_server.save(
            auth_method="SMTP AUTH", account="printer@epsonlab.onmicrosoft.com", password="Secret-1",
            sender="printer@epsonlab.onmicrosoft.com", smtp_server="smtp.example.net", smtp_port=2525,
            secure="SSL/TLS", cert_validation=False, pop3_server="pop.example.net", pop3_port=1110,
        ) == ("Setup complete.",)
        saved = wc.email_server.read()
        assert (saved.auth_method, saved.account, saved.sender) == (
            "SMTP AUTH", "printer@epsonlab.onmicrosoft.com", "printer@epsonlab.onmicrosoft.com")
        assert (saved.smtp_server, saved.smtp_port, saved.secure, saved.cert_validation) == (
            "smtp.example.net", 2525, "SSL/TLS", False)
        assert (saved.pop3_server, saved.pop3_port) == ("pop.example.net", 1110)
        assert saved.email_service is None and saved.current_status is None and not saved.certificate_warning

        basic = wc.email_server.open()
        basic.set_fields(smtp_port="0", sender="(not an address)")
        with pytest.raises(WebConfigRefused) as refused:
            basic.ok()
        assert set(refused.value.messages) == {PORT_MESSAGE, SENDER_MESSAGE}
        assert not isinstance(refused.value, StaleSetupToken)
        assert basic.read(reload=False).sender == "(not an address)"  # the typed value stays in the form ...
        assert wc.email_server.read() == saved  # ... and nothing was saved
    assert wc.email_server.read().auth_method == "Off"


def test_oauth2_fixes_the_server_and_warns_until_the_ca_is_imported(info: LabInfo, context: BrowserContext) -> None:
    wc = admin_webconfig(context, mfp(info))
    with restored(wc):
        basic = wc.email_server.open()
        basic.set_fields(auth_method="OAuth2", email_service="Outlook.com")
        with pytest.raises(ValueError, match="read-only"):
            basic.set_fields(smtp_server="smtp.example.net")
        with pytest.raises(ValueError, match=r"has no option 'TLS 1\.3' .*STARTTLS"):
            basic.set_fields(secure="TLS 1.3")  # type: ignore[arg-type]
        assert basic.ok() == ("Setup complete.",)
        view = wc.email_server.read()
        assert (view.email_service, view.smtp_server, view.smtp_port, view.secure) == (
            "Outlook.com", "smtp-mail.outlook.com", 587, "STARTTLS")
        assert (view.current_status, view.signed_in_account) == ("Signed out", None)
        assert view.certificate_warning  # the guide's §7: the lab CA is not imported yet
        test = wc.email_server.test_connection()
        assert not test.ok and test.error_code == 370 and test.message.startswith("Connection test failed.")
        wc.certificates.import_certificate(Path(info.msft.ca_bundle))
        assert not wc.email_server.read().certificate_warning


def test_sign_in_screen_shows_the_code_and_url(info: LabInfo, context: BrowserContext) -> None:
    wc = admin_webconfig(context, info.device("scan-ds790"))
    with restored(wc):
        screen = wc.email_server.open().start_sign_in("Microsoft Exchange Online")
        before = screen.read()
        assert (before.service, before.current_status, before.code) == ("Microsoft Exchange Online", "Signed out", None)
        assert before.notice == "Any other email services signed in will be signed out automatically"
        with pytest.raises(WebConfigRefused) as untrusted:  # the device does not trust the lab CA yet
            screen.start()
        assert untrusted.value.message.startswith("Cannot connect to the sign-in service:")
        wc.certificates.import_certificate(Path(info.msft.ca_bundle))
        screen = wc.email_server.open().start_sign_in("Microsoft Exchange Online")
        code = screen.start()
        assert code.verification_uri == "https://microsoft.com/devicelogin"
        assert code.user_code and code.user_code in code.message and code.user_code not in repr(code)
        assert screen.read().code == code
        basic = screen.back()
        assert basic.read(reload=False).current_status == "Signed out"
        again = wc.email_server.sign_in_code("Outlook.com")  # a new sign-in replaces the one in progress
        assert again.user_code != code.user_code


# --- CA certificates ---------------------------------------------------------------------------------------------
def test_ca_certificates_import_list_and_delete(info: LabInfo, context: BrowserContext) -> None:
    wc = admin_webconfig(context, info.device("a3-am-c4000"))
    pages = wc.certificates
    assert pages.certificates() == []
    pem = Path(info.msft.ca_bundle).read_bytes()
    assert pages.import_certificate(Path(info.msft.ca_bundle)) == ("Setup complete.",)
    (listed,) = pages.certificates()
    assert "epson-hil Lab CA" in listed.subject and len(listed.fingerprint) == 64
    with pytest.raises(WebConfigRefused) as twice:
        pages.import_certificate(pem)
    assert twice.value.messages == ("The certificate is already imported.",)
    with pytest.raises(WebConfigRefused) as garbage:
        pages.import_certificate(b"not a certificate", filename="junk.pem")
    assert garbage.value.messages == ("The file is not a valid certificate. Select a PEM or DER file.",)
    assert pages.delete(listed.fingerprint) == ("Setup complete.",)
    assert pages.certificates() == []
    der = x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)
    assert pages.import_certificate(der, filename="ca.der") == ("Setup complete.",)
    assert [c.fingerprint for c in pages.certificates()] == [listed.fingerprint]
    pages.delete(listed.fingerprint)
    with pytest.raises(LookupError):
        pages.delete(listed.fingerprint)


# --- Job History ------------------------------------------------------------------------------------------------
def test_job_history_page_and_csv_agree(info: LabInfo, context: BrowserContext, control: TierControl) -> None:
    device = info.device("ent-c21000")
    panel(control, device.name, "Scan to Email", to="alice@epsonlab.onmicrosoft.com")
    panel(control, device.name, "Start")
    panel(control, device.name, "OK")
    wc = admin_webconfig(context, device)
    listed = wc.job_history.jobs()
    exported = wc.job_history.export_csv()
    assert exported.filename == "JobHistory.csv"
    from_csv = wc.job_history.csv_jobs()
    assert listed and from_csv
    assert [(j.receipt_no, j.type, j.error_code, j.recipient) for j in listed] == [
        (j.receipt_no, j.type, j.error_code, j.recipient) for j in from_csv]
    assert listed[0].type == "Scan to Email" and listed[0].failed


# --- Fax server, network interface, Serverless ------------------------------------------------------------------
def test_fax_server_email_settings_and_connection_test(info: LabInfo, context: BrowserContext) -> None:
    wc = admin_webconfig(context, info.device("a3-am-c4000"))
    with restored(wc):
        assert wc.fax_server.save(auth_method="OAuth2", email_service="Microsoft Exchange Online",
                                  sender="fax@epsonlab.onmicrosoft.com") == ("Setup complete.",)
        fax = wc.fax_server.read()
        assert (fax.auth_method, fax.smtp_server, fax.sender) == (
            "OAuth2", "smtp.office365.com", "fax@epsonlab.onmicrosoft.com")
        assert wc.email_server.read().auth_method == "Off"  # the device's own settings are another slot
        saved = wc.network.read().fax
        assert saved is not None and saved.auth_method == "OAuth2" and saved.current_status == "Signed out"
        result = wc.fax_server.test_connection()
        assert not result.ok and result.error_code == 370


def test_network_interface_selection_and_the_oauth2_rule(info: LabInfo, context: BrowserContext) -> None:
    wc = admin_webconfig(context, info.device("ent-c21000"))
    with restored(wc):
        assert wc.interface.read() == "Standard Network"
        assert wc.interface.choose("Extended Network") == ("Setup complete.",)
        assert wc.interface.read() == "Extended Network"
        assert wc.network.read().network["Network Selection"] == "Extended Network"
        with pytest.raises(WebConfigRefused) as refused:
            wc.email_server.save(auth_method="OAuth2", email_service="Microsoft Exchange Online")
        assert EXTENDED_REFUSAL in refused.value.messages
        assert wc.email_server.read().auth_method == "Off"
    assert wc.interface.read() == "Standard Network"


def test_serverless_settings_and_users(info: LabInfo, context: BrowserContext) -> None:
    wc = admin_webconfig(context, device_with(info, "serverless"))
    before = wc.serverless_settings.read()
    with restored(wc):
        assert wc.serverless_settings.save(enabled=True, sender="User's Email Address") == ("Setup complete.",)
        settings = wc.serverless_settings.read()
        assert (settings.enabled, settings.sender) == (True, "User's Email Address")
        users = wc.serverless_users
        assert users.add("alice", "Alice User", "alice@epsonlab.onmicrosoft.com", printer_admin=True) == (
            "Setup complete.",)
        with pytest.raises(WebConfigRefused) as duplicate:
            users.add("ALICE", "Alice Again", "alice@epsonlab.onmicrosoft.com")
        assert duplicate.value.messages == ("The User ID is already registered.",)
        with pytest.raises(WebConfigRefused) as bad:
            users.add("no spaces", "", "not-an-address")
        assert "Enter the User ID using 1 to 32 characters: A-Z a-z 0-9 . _ - @" in bad.value.messages
        (alice,) = [u for u in users.users() if u.user_id == "alice"]
        assert (alice.email, alice.printer_admin, alice.current_status) == (
            "alice@epsonlab.onmicrosoft.com", True, "Signed out")
        assert users.delete("alice") == ("Setup complete.",)
        assert "alice" not in [u.user_id for u in users.users()]
    assert wc.serverless_settings.read() == before


# --- Export and Import ------------------------------------------------------------------------------------------
def test_export_and_import_refusals_and_round_trip(info: LabInfo, context: BrowserContext) -> None:
    device = info.device("scan-ds790")
    wc = admin_webconfig(context, device)
    with pytest.raises(WebConfigRefused) as differ:
        wc.export.export("Export-Pa55", confirm="Other-Pa55")
    assert differ.value.messages == ("The passwords do not match.",)
    with pytest.raises(WebConfigRefused) as short:
        wc.export.export("short")
    assert short.value.messages == ("Enter a password using 8 to 20 ASCII characters.",)
    original = wc.export.export("Export-Pa55")
    assert original.filename == f"{device.model}_{device.serial}_settings.json"
    assert b"EPSON Web Config setting values" in original.content

    assert wc.email_server.save(sender="changed@epsonlab.onmicrosoft.com") == ("Setup complete.",)
    with pytest.raises(WebConfigRefused) as wrong:
        wc.import_.import_file(original, "Wrong-Pa55")
    assert wrong.value.messages == ("The password is incorrect.",)
    with pytest.raises(WebConfigRefused) as junk:
        wc.import_.import_file(b"{not json", "Export-Pa55")
    assert junk.value.messages[0].startswith("The file cannot be imported.")
    assert wc.email_server.read().sender == "changed@epsonlab.onmicrosoft.com"  # refused imports change nothing
    assert wc.import_.import_file(original, "Export-Pa55") == ("Setup complete.",)
    assert wc.email_server.read().sender == ""


def test_a_page_that_navigates_itself_does_not_cut_the_page_objects_load_short(info: LabInfo,
                                                                              context: BrowserContext) -> None:
    device = info.devices[0]
    wc = admin_webconfig(context, device)
    wc.product.open()
    target = wc.email_server.url()
    held: list[str] = []

    def slow_device(route: Route) -> None:
        # The device answers our page slowly, so the old document (still alive until ours commits) navigates
        # itself meanwhile, as the entry page's meta refresh or the Sign In screen's reload do.
        if not held:
            held.append(route.request.url)
            time.sleep(0.5)
        route.continue_()

    wc.page.route(target, slow_device)
    wc.page.evaluate("url => setTimeout(() => { window.location.href = url; }, 100)", wc.product.url())
    try:
        settings = wc.email_server.read()
    finally:
        wc.page.unroute(target)
    assert held == [target] and wc.page.url == target
    assert settings.auth_method
