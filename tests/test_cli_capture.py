"""``epson-hil capture`` and ``epson-hil locators check`` on a virtual device, run as a lab engineer would.

The capture must hold every menu page with its screenshot and form fields, and no secret: not the admin
password, not a setup token, not a cookie value, not the verification code of a sign-in in progress. The
shipped profile must match the capture; a profile with a wrong locator must be reported (exit 1).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import epson_hil
from device_webconfig_support import admin_webconfig, lab_browser
from playwright.sync_api import Playwright

from harness.device.webconfig import SignInCode
from harness.device.webconfig.profile import PROFILE_DIR
from harness.lab.labfile import DeviceInfo, LabInfo
from harness.lab.virtual import VirtualLab

pytestmark = pytest.mark.browser

SIGNIN_SCREEN = "/PRESENTATION/ADVANCED/NW_EMAIL_SIGNIN/TOP?INPUTD_EMAILSERVICE=EXCHANGE"
MENU_PAGES = ("INFO_PRTINFO", "INFO_NWINFO", "INFO_JOBHISTORY", "NW_EMAIL_BASIC", "NW_EMAIL_CONNECTTEST", "NWS_CERT_CA",
              "FAX_SERVER_EMAIL", "FAX_SERVER_CONNECTTEST", "DM_EXPORT", "DM_IMPORT", "SERVERLESS_AUTH",
              "SERVERLESS_USERS")


@pytest.fixture(scope="module")
def lab(inventory_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualLab]:
    with VirtualLab(inventory_path, tmp_path_factory.mktemp("lab")) as running:
        yield running


@pytest.fixture(scope="module")
def device(lab: VirtualLab) -> DeviceInfo:
    assert lab.info is not None
    return lab.info.device("a3-am-c4000")  # the model with the most pages


@pytest.fixture(scope="module")
def signing_in(lab: VirtualLab, device: DeviceInfo, playwright: Playwright) -> Iterator[SignInCode]:
    """A sign-in in progress on the device, so the Sign In screen shows a verification code."""
    assert lab.info is not None
    info: LabInfo = lab.info
    browser = lab_browser(playwright, info)
    try:
        context = browser.new_context()
        wc = admin_webconfig(context, device)
        wc.certificates.import_certificate(Path(info.msft.ca_bundle))
        code = wc.email_server.sign_in_code("Microsoft Exchange Online")
        wc.session.log_out()
        yield code
    finally:
        browser.close()


@pytest.fixture(scope="module")
def capture(device: DeviceInfo, signing_in: SignInCode, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("capture")
    done = run("capture", "--webconfig", device.webconfig, "--password", device.admin_password, "--out", str(out),
               "--extra-path", SIGNIN_SCREEN)
    assert done.returncode == 0, done.stderr
    assert "captured" in done.stdout and "secrets redacted" in done.stdout
    return out


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(epson_hil(*args), capture_output=True, text=True, timeout=120)


def test_every_menu_page_is_captured_with_a_screenshot(capture: Path) -> None:
    index = json.loads((capture / "index.json").read_text())
    admin_paths = {p["path"] for p in index["pages"] if p["state"] == "admin"}
    for page in MENU_PAGES:
        assert f"/PRESENTATION/ADVANCED/{page}/TOP" in admin_paths
    assert SIGNIN_SCREEN in admin_paths
    public = {p["path"] for p in index["pages"] if p["state"] == "public"}
    assert public == {"/PRESENTATION/ADVANCED/COMMON/TOP", "/PRESENTATION/ADVANCED/PASSWORD/TOP"}
    assert not any("LOGOUT" in p["path"] for p in index["pages"])
    for page in index["pages"]:
        assert (capture / page["html"]).read_text().lstrip().startswith("<!DOCTYPE")
        assert (capture / page["screenshot"]).read_bytes().startswith(b"\x89PNG")
    basic = next(p for p in index["pages"] if p["path"].endswith("NW_EMAIL_BASIC/TOP"))
    assert basic["title"] == "Email Server > Basic" and basic["status"] == 200


def test_form_fields_are_listed_with_labels_and_options(capture: Path) -> None:
    forms = json.loads((capture / "forms.json").read_text())
    basic = forms["/PRESENTATION/ADVANCED/NW_EMAIL_BASIC/TOP (admin)"]
    fields = {f["name"]: f for form in basic for f in form["inputs"] if f["name"]}
    auth = fields["INPUTD_AUTHMETHOD"]
    assert (auth["tag"], auth["id"], auth["label"]) == ("select", "INPUTD_AUTHMETHOD", "Authentication Method")
    assert [o["text"] for o in auth["options"]] == ["Off", "SMTP AUTH", "POP before SMTP", "OAuth2"]
    assert fields["INPUTT_AUTHPASSWORD"]["type"] == "password"
    assert fields["INPUTT_SETUPTOKEN"]["value"] == "[REDACTED]"
    login = forms["/PRESENTATION/ADVANCED/PASSWORD/TOP (public)"]
    assert any("OnSetButton" in f.get("onclick", "") for form in login for f in form["inputs"])


def test_no_secret_reaches_the_capture(capture: Path, device: DeviceInfo, signing_in: SignInCode) -> None:
    texts = [p.read_text(encoding="utf-8") for p in capture.rglob("*") if p.suffix in (".html", ".json")]
    everything = "\n".join(texts)
    assert device.admin_password not in everything
    assert signing_in.user_code not in everything
    tokens = re.findall(r'name="INPUTT_SETUPTOKEN" value="([^"]*)"', everything)
    assert tokens and set(tokens) == {"[REDACTED]"}
    cookies = json.loads((capture / "index.json").read_text())["cookies"]
    session = next(c for c in cookies if c["name"] == "EPSON_COOKIE_SESSION")
    assert session["value"] == "[REDACTED]"
    signin_page = next(t for t in texts if "Verification code" in t)
    assert "[REDACTED]" in signin_page and "https://microsoft.com/devicelogin" in signin_page


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is not installed")
def test_screenshots_mask_a_password_the_page_shows(capture: Path, device: DeviceInfo) -> None:
    # Epson's default admin password is the serial number, which Product Status shows.
    shot = capture / "pages" / "ADVANCED_INFO_PRTINFO_TOP.admin.png"
    text = subprocess.run(["tesseract", str(shot), "stdout"], capture_output=True, text=True, timeout=60).stdout
    assert "Serial Number" in text and "AM-C4000" in text  # the page was read ...
    assert ocr_fold(device.admin_password) not in ocr_fold(text)  # ... but not the password


def ocr_fold(text: str) -> str:
    """Letters and digits only, with OCR's usual confusions merged (O/0, I/l/1, S/5)."""
    return re.sub(r"[^A-Z0-9]", "", text.upper()).translate(str.maketrans("OIS", "015"))


def test_the_shipped_profile_matches_the_capture(capture: Path) -> None:
    done = run("locators", "check", "--profile", str(PROFILE_DIR / "epson-advanced.yaml"), "--capture", str(capture))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "every required locator of epson-advanced matches" in done.stdout
    assert "OPTIONAL PAGE NOT CAPTURED   network_interface.*" in done.stdout  # this model has no extended network


def test_a_wrong_locator_is_reported(capture: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    text = (PROFILE_DIR / "epson-advanced.yaml").read_text()
    broken.write_text(text.replace("auth_method: {name: INPUTD_AUTHMETHOD}", "auth_method: {name: INPUTD_AUTH}", 1)
                      .replace("name: epson-advanced", "name: broken"))
    done = run("locators", "check", "--profile", str(broken), "--capture", str(capture), "--json")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    failed = [(r["page"], r["locator"]) for r in report["results"] if r["verdict"] == "missing"]
    # the fax server's page shares the e-mail page's locators (a YAML anchor), so it is reported too
    assert failed == [("email_basic", "auth_method"), ("fax_basic", "auth_method")] and report["ok"] is False


def test_check_and_capture_errors(tmp_path: Path, device: DeviceInfo, capture: Path) -> None:
    missing = run("locators", "check", "--profile", "epson-advanced", "--capture", str(tmp_path))
    assert missing.returncode == 2 and "index.json: no such file" in missing.stderr
    refused = run("capture", "--webconfig", device.webconfig, "--password", "wrong-password",
                  "--out", str(tmp_path / "out"))
    assert refused.returncode == 1 and "Incorrect user name or password" in refused.stderr
    assert "wrong-password" not in refused.stderr + refused.stdout
