"""The device-login pages in HTML: Microsoft's visible texts, plain forms, no script.

Every value put into a page is HTML-escaped here; templates are ``string.Template`` files beside this module.
"""

from __future__ import annotations

import functools
import html
import uuid
from importlib import resources
from string import Template

from starlette.responses import HTMLResponse

from harness.clock import iso
from harness.msft.errors import PAGE_MESSAGES, Aadsts
from harness.msft.tenant import SMTP_SEND, AppRegistration

TITLE = "Sign in to your account"
UNKNOWN_CODE = "That code didn't work. Check the code and try again."
EMPTY_CODE = "Please enter the code displayed on your app or device."
EMPTY_USERNAME = "Enter a valid email address, phone number, or Skype name."
EMPTY_PASSWORD = "Please enter your password."
SESSION_LOST = "Your session has timed out. Enter the code displayed on your app or device again."
CHOOSE_ANSWER = "Select Accept to give the app these permissions, or Cancel."
SIGNED_IN = "You have signed in to the {app} application on your device. You may now close this window."
BLOCKED_HEADING = "You cannot access this right now"
APPROVAL_HEADING = "Need admin approval"
ORG_CONSENT = "Consent on behalf of your organization"

#: Consent-page wording of each permission: (display name, description).
PERMISSIONS: dict[str, tuple[str, str]] = {
    SMTP_SEND: ("Send emails from mailboxes using SMTP AUTH",
                "Allows the app to be able to send emails from the user's mailbox using the SMTP AUTH client "
                "submission protocol. (SMTP.Send)"),
    "offline_access": ("Maintain access to data you have given it access to",
                       "Allows the app to see and update the data you gave it access to, even when you are not "
                       "currently using the app. This does not give the app any additional permissions."),
    "profile": ("View your basic profile",
                "Allows the app to see your basic profile (e.g., name, picture, user name, email address)."),
    "email": ("View your email address", "Allows the app to read your primary email address."),
}

SECURITY_HEADERS = {
    "Cache-Control": "no-store, no-cache",
    "Pragma": "no-cache",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'",
}


@functools.cache
def _template(name: str) -> Template:
    return Template((resources.files(__package__) / "templates" / name).read_text(encoding="utf-8"))


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _alert(message: str | None) -> str:
    return f'<div class="alert" role="alert" id="error">{_esc(message)}</div>' if message else ""


def _page(name: str, status: int = 200, **values: str) -> HTMLResponse:
    content = _template(name).substitute(**values)
    body = _template("layout.html").substitute(title=_esc(TITLE), content=content)
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


def enter_code(message: str | None = None, status: int = 200) -> HTMLResponse:
    """"Enter code": the page at https://microsoft.com/devicelogin."""
    return _page("enter_code.html", status, alert=_alert(message))


def sign_in(flow: str, app: AppRegistration, message: str | None = None, typed: str = "") -> HTMLResponse:
    """"Sign in": asks for the account."""
    return _page("sign_in.html", flow=_esc(flow), app=_esc(app.display_name), alert=_alert(message),
                 value=_esc(typed[:113]))


def enter_password(flow: str, upn: str, message: str | None = None) -> HTMLResponse:
    """"Enter password" for ``upn``."""
    return _page("password.html", flow=_esc(flow), upn=_esc(upn), alert=_alert(message))


def permissions(flow: str, app: AppRegistration, upn: str, scopes: list[str], org_checkbox: bool,
                message: str | None = None) -> HTMLResponse:
    """"Permissions requested": the app, its publisher, the permissions, and (admins only) org-wide consent."""
    items = "\n".join(
        f"<li>{_esc(PERMISSIONS[s][0])}<br><span class=\"small\">{_esc(PERMISSIONS[s][1])}</span></li>"
        for s in scopes if s in PERMISSIONS)
    org = (f'<p><input type="checkbox" id="orgConsent" name="orgConsent" value="on"> '
           f'<label for="orgConsent">{ORG_CONSENT}</label></p>') if org_checkbox else ""
    return _page("permissions.html", flow=_esc(flow), upn=_esc(upn), app=_esc(app.display_name),
                 publisher=_esc(app.publisher), permissions=items, org_consent=org, alert=_alert(message))


def _message(heading: str, body: str, upn: str = "", details: str = "", status: int = 200) -> HTMLResponse:
    identity = f'<div class="identity">{_esc(upn)}</div>' if upn else ""
    return _page("message.html", status, identity=identity, heading=_esc(heading), body=body, details=details)


def signed_in(app: AppRegistration) -> HTMLResponse:
    """The last page of a successful sign-in."""
    return _message(app.display_name, f"<p>{_esc(SIGNED_IN.format(app=app.display_name))}</p>")


def declined(app: AppRegistration) -> HTMLResponse:
    """The page after Cancel on the permissions page."""
    return _message(app.display_name, f"<p>{_esc(PAGE_MESSAGES[70000])}</p>")


def refused(err: Aadsts, upn: str, now: float) -> HTMLResponse:
    """A sign-in the directory refuses after the password (conditional access, consent): message and details."""
    heading = APPROVAL_HEADING if err.code == 65001 else BLOCKED_HEADING
    details = (f'<dl class="details"><dt>Error Code</dt><dd>{err.code}</dd>'
               f"<dt>Correlation Id</dt><dd>{uuid.uuid4()}</dd><dt>Timestamp</dt><dd>{_esc(iso(now))}</dd></dl>")
    return _message(heading, _alert(PAGE_MESSAGES[err.code]), upn=upn, details=details)
