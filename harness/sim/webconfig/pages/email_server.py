"""Network > Email Server > Basic and Connection Test (and the same pages for Fax > Fax Server).

Saving (OK) validates every field with the device's rules and changes nothing when one is refused. With
OAuth2 the e-mail service decides the SMTP server, port and STARTTLS, and OK is also what saves a sign-in
completed on the Sign In screen (``services.confirm_signin``): until then the device has nothing stored.
Once a sign-in is saved, Sign Out (after a ``confirm()``) removes it again (``services.sign_out``).
"""

from __future__ import annotations

import json
from dataclasses import replace

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.sim.settings import (
    EMAIL_SERVICES,
    SERVICE_SERVERS,
    EmailServerSettings,
    FieldError,
    parse_port,
    validate_email_settings,
)
from harness.sim.webconfig.context import SETUP_COMPLETE, STALE_TOKEN, WebConfig, form_text, page_path
from harness.sim.webconfig.markup import (
    button,
    buttons,
    display_field,
    esc,
    fields,
    form,
    hidden,
    radio_field,
    script,
    select_field,
    text_field,
    warning,
)
from harness.sim.webconfig.pages.rules import EXTENDED_BLOCKS_OAUTH2, oauth2_blocked
from harness.sim.webconfig.pages.slots import SIGNED_IN, SLOTS, MailSlot, SignInView, signin_view
from harness.sim.webconfig.session import Session

AUTH_OPTIONS: tuple[tuple[str, str], ...] = (
    ("OFF", "Off"), ("SMTPAUTH", "SMTP AUTH"), ("POPBEFORESMTP", "POP before SMTP"), ("OAUTH2", "OAuth2"))
SERVICE_OPTIONS: tuple[tuple[str, str], ...] = (("EXCHANGE", "Microsoft Exchange Online"), ("OUTLOOK", "Outlook.com"))
SECURE_OPTIONS: tuple[tuple[str, str], ...] = (("NONE", "None"), ("SSLTLS", "SSL/TLS"), ("STARTTLS", "STARTTLS"))
VALIDATION_OPTIONS: tuple[tuple[str, str], ...] = (("ENABLE", "Enable"), ("DISABLE", "Disable"))

CERTIFICATE_WARNING = ("The certificate is required to use a secure function of the email server. "
                       "Make settings on the following page.")
VALIDATION_ADVICE = ("It is recommended to enable the Certificate Validation. It will be connected without "
                     "confirming the safety of the email server when the Certificate Validation is disabled.")
SIGNIN_NOT_SAVED = "Click OK to save the sign-in on the printer."
NOTHING_TO_SIGN_OUT = "No sign-in is saved on the printer."


def _code(options: tuple[tuple[str, str], ...], text: str) -> str:
    return next((code for code, label in options if label == text), "")


def _text(options: tuple[tuple[str, str], ...], code: str) -> str:
    """The setting for a submitted option code; an unknown code stays as is, so validation refuses it."""
    return next((label for value, label in options if value == code), code)


def service_code(service: str) -> str:
    return _code(SERVICE_OPTIONS, service)


def service_from_code(code: str | None) -> str | None:
    return None if code is None else _text(SERVICE_OPTIONS, code)


def service_servers() -> dict[str, tuple[str, int, str]]:
    """What choosing each e-mail service fills in, by option code (for the page's script)."""
    return {service_code(name): (server, port, _code(SECURE_OPTIONS, secure))
            for name, (server, port, secure) in SERVICE_SERVERS.items()}


def auth_options(wc: WebConfig) -> tuple[tuple[str, str], ...]:
    return AUTH_OPTIONS if wc.has("oauth2_email") else AUTH_OPTIONS[:-1]


def parse_settings(wc: WebConfig, data: FormData, current: EmailServerSettings) -> tuple[EmailServerSettings,
                                                                                         list[FieldError]]:
    """The settings a submitted form asks for (absent fields keep their value) and the refused fields."""
    errors: list[FieldError] = []
    s = current

    def get(name: str) -> str | None:
        return form_text(data, name)

    if (v := get("INPUTD_AUTHMETHOD")) is not None:
        s = replace(s, auth_method=_text(auth_options(wc), v))  # type: ignore[arg-type]
    if (v := get("INPUTD_EMAILSERVICE")) is not None:
        s = replace(s, email_service=_text(SERVICE_OPTIONS, v))  # type: ignore[arg-type]
    if (v := get("INPUTT_ACCOUNT")) is not None:
        s = replace(s, account=v)
    if (v := get("INPUTT_AUTHPASSWORD")) is not None and v != "":
        s = replace(s, password=v)
    if (v := get("INPUTT_SENDERADDRESS")) is not None:
        s = replace(s, sender=v)
    if (v := get("INPUTT_SMTPSERVER")) is not None:
        s = replace(s, smtp_server=v.strip())
    if (v := get("INPUTT_SMTPPORT")) is not None:
        port, error = parse_port(v, "smtp_port", "SMTP Server Port Number")
        if error is not None:
            errors.append(error)
        elif port is not None:
            s = replace(s, smtp_port=port)
    if (v := get("INPUTD_SECURECONNECTION")) is not None:
        s = replace(s, secure=_text(SECURE_OPTIONS, v))  # type: ignore[arg-type]
    if (v := get("INPUTR_CERTVALIDATION")) is not None:
        if v not in ("ENABLE", "DISABLE"):
            errors.append(FieldError("cert_validation", "Select Enable or Disable for Certificate Validation."))
        else:
            s = replace(s, cert_validation=v == "ENABLE")
    if (v := get("INPUTT_POP3SERVER")) is not None:
        s = replace(s, pop3_server=v.strip())
    if (v := get("INPUTT_POP3PORT")) is not None:
        port, error = parse_port(v, "pop3_port", "POP3 Server Port Number")
        if error is not None:
            errors.append(error)
        elif port is not None:
            s = replace(s, pop3_port=port)
    if s.auth_method == "OAuth2" and s.email_service in EMAIL_SERVICES:
        s = s.with_service(s.email_service)
    errors += validate_email_settings(s)
    if s.auth_method == "OAuth2" and oauth2_blocked(wc.device):
        errors.append(FieldError("auth_method", EXTENDED_BLOCKS_OAUTH2))
    return s, errors


def draft_settings(wc: WebConfig, slot: MailSlot) -> EmailServerSettings:
    """What the page shows when opened: the saved settings, or OAuth2 with the service being signed in."""
    saved = slot.settings(wc.device)
    with wc.device.lock:
        pending = wc.device.pending.get(slot.slot)
    if pending is not None and pending.state != "failed":
        return replace(saved, auth_method="OAuth2").with_service(pending.service)
    return saved


#: When a page showing a sign-in in progress first asks the device for its state, and how often after that. The
#: first look waits a second, as the screen always did: a page can reload itself on what it learns (a failed
#: sign-in), and must not do so under someone still filling it in. After that it looks every tenth of a second,
#: so the screen shows a finished sign-in as soon as the device has it (the device's own token poll, the tenant's
#: interval, is what paces the sign-in).
FIRST_STATUS_POLL_MS = 1000
STATUS_POLL_MS = 100


def status_script(slot: MailSlot, view: SignInView) -> str:
    """Polls the sign-in status JSON while a sign-in is in progress and updates Current Status in place."""
    if view.state != "polling":
        return ""
    url = json.dumps(f"{page_path(slot.signin_page, 'STATUS.JSON')}?INPUTD_EMAILSERVICE={service_code(view.service)}")
    return script(
        "(function(){function set(id,v){var e=document.getElementById(id);if(e){e.textContent=v;}}"
        f"var url={url};"
        "function poll(){fetch(url,{credentials:'same-origin',cache:'no-store'}).then(function(r){return r.json();})"
        ".then(function(s){set('CURRENT_STATUS',s.current_status);set('SIGNED_IN_ACCOUNT',s.account);"
        "var note=document.getElementById('SIGNIN_NOT_SAVED');if(note&&s.state==='signed_in'){note.style.display='';}"
        f"if(s.state==='polling'){{setTimeout(poll,{STATUS_POLL_MS});}}"
        "else if(s.state!=='signed_in'){window.location.reload();}})"
        f".catch(function(){{setTimeout(poll,2000);}});}}setTimeout(poll,{FIRST_STATUS_POLL_MS});}})();"
    )


def not_saved_note(view: SignInView) -> str:
    """The reminder that OK saves the sign-in: shown once signed in, present (hidden) while polling."""
    if view.state not in ("polling", "signed_in"):
        return ""
    style = "" if view.state == "signed_in" else ' style="display:none"'
    return f'<div class="note" id="SIGNIN_NOT_SAVED"{style}>{esc(SIGNIN_NOT_SAVED)}</div>'


def sign_out_question(service: str) -> str:
    """What the browser asks before Sign Out."""
    return f"Sign out of {service}? The printer cannot send email with OAuth2 until someone signs in again."


def sign_out_button(view: SignInView) -> str:
    """Sign Out beside Current Status, only while the device has a saved sign-in for the chosen service.

    It submits ``#signout_form`` (a form of its own: forms cannot nest) once the browser's confirm() says yes.
    """
    if not view.saved:
        return ""
    ask = json.dumps(sign_out_question(view.service))
    return " " + button("Sign Out", element_id="BTN_SIGNOUT", form="signout_form", onclick=f"return confirm({ask});")


def sign_out_form(view: SignInView, session: Session) -> str:
    """The form Sign Out submits (POST ``SIGNOUT`` with the setup token), beside the settings form."""
    if not view.saved:
        return ""
    return form("SIGNOUT", hidden("INPUTT_SETUPTOKEN", session.setup_token), element_id="signout_form")


def certificate_warning_html(show: bool) -> str:
    if not show:
        return ""
    return (f'<div class="message" id="CERTIFICATE_WARNING"><p>{esc(CERTIFICATE_WARNING)}</p><ul>'
            f'<li><a href="{page_path("NWS_CERT_CA")}">CA Certificate</a></li>'
            '<li>Root Certificate Update</li></ul></div>')


async def render_basic(wc: WebConfig, request: Request, slot: MailSlot, session: Session,
                       s: EmailServerSettings, messages: list[str]) -> Response:
    oauth2 = s.auth_method == "OAuth2"
    view = signin_view(wc.device, slot, s.email_service if s.email_service in EMAIL_SERVICES else None)
    show_warning = await run_in_threadpool(wc.services.certificate_warning, slot.slot)
    signin_url = page_path(slot.signin_page)
    signed_in = view.current_status == SIGNED_IN
    status_html = (f'<span id="CURRENT_STATUS">{esc(view.current_status)}</span> '
                   + button("Sign In", element_id="BTN_SIGNIN", kind="button", onclick="OnSignIn(); return false;")
                   + sign_out_button(view))
    rows = fields(
        select_field("INPUTD_AUTHMETHOD", "Authentication Method", auth_options(wc), _code(AUTH_OPTIONS, s.auth_method),
                     onchange="OnAuthMethod();"),
        select_field("INPUTD_EMAILSERVICE", "Email service", SERVICE_OPTIONS, service_code(s.email_service),
                     row_class="oauth2-only", hidden_row=not oauth2, onchange="OnService();"),
        display_field("Current Status", status_html + not_saved_note(view), row_class="oauth2-only",
                      hidden_row=not oauth2),
        display_field("Account", f'<span id="SIGNED_IN_ACCOUNT">{esc(view.account if signed_in else "")}</span>',
                      row_class="oauth2-only", hidden_row=not oauth2),
        text_field("INPUTT_ACCOUNT", "Authenticated Account", s.account, maxlength=255),
        text_field("INPUTT_AUTHPASSWORD", "Authenticated Password", "", maxlength=20, kind="password",
                   note="Leave blank to keep the current password." if s.password else ""),
        text_field("INPUTT_SENDERADDRESS", "Sender's Email Address", s.sender, maxlength=255),
        text_field("INPUTT_SMTPSERVER", "SMTP Server Address", s.smtp_server, maxlength=255, readonly=oauth2),
        text_field("INPUTT_SMTPPORT", "SMTP Server Port Number", str(s.smtp_port), maxlength=5, readonly=oauth2),
        select_field("INPUTD_SECURECONNECTION", "Secure Connection", SECURE_OPTIONS, _code(SECURE_OPTIONS, s.secure)),
        radio_field("INPUTR_CERTVALIDATION", "Certificate Validation", VALIDATION_OPTIONS,
                    "ENABLE" if s.cert_validation else "DISABLE", note=VALIDATION_ADVICE),
        text_field("INPUTT_POP3SERVER", "POP3 Server Address", s.pop3_server, maxlength=255),
        text_field("INPUTT_POP3PORT", "POP3 Server Port Number", str(s.pop3_port), maxlength=5),
    )
    error_html = f'<div class="warning" id="SIGNIN_ERROR">{esc(view.error)}</div>' if view.error else ""
    content = (
        certificate_warning_html(show_warning) + warning(messages) + error_html
        + form("SET", hidden("INPUTT_SETUPTOKEN", session.setup_token) + rows
               + buttons(button("OK", element_id="BTN_OK")), element_id="setting_form")
        + sign_out_form(view, session)
        + script(
            f"var SERVERS={json.dumps(service_servers())};"
            "function OnService(){var v=SERVERS[document.getElementById('INPUTD_EMAILSERVICE').value];"
            "if(!v||document.getElementById('INPUTD_AUTHMETHOD').value!=='OAUTH2'){return;}"
            "document.getElementById('INPUTT_SMTPSERVER').value=v[0];"
            "document.getElementById('INPUTT_SMTPPORT').value=v[1];"
            "document.getElementById('INPUTD_SECURECONNECTION').value=v[2];}"
            "function OnAuthMethod(){var o=document.getElementById('INPUTD_AUTHMETHOD').value==='OAUTH2';"
            "var rows=document.querySelectorAll('.oauth2-only');for(var i=0;i<rows.length;i++){"
            "rows[i].style.display=o?'':'none';}"
            "document.getElementById('INPUTT_SMTPSERVER').readOnly=o;"
            "document.getElementById('INPUTT_SMTPPORT').readOnly=o;OnService();}"
            f"function OnSignIn(){{window.location.href={json.dumps(signin_url)}+'?INPUTD_EMAILSERVICE='+"
            "encodeURIComponent(document.getElementById('INPUTD_EMAILSERVICE').value);}"
        )
        + status_script(slot, view)
    )
    return wc.render(request, slot.basic_title, f'<div class="section">{content}</div>')


def slot_available(wc: WebConfig, slot: MailSlot) -> bool:
    return slot.capability is None or wc.has(slot.capability)


def basic_routes(wc: WebConfig, slot: MailSlot) -> list[Route]:
    async def top(request: Request) -> Response:
        if not slot_available(wc, slot):
            return wc.not_found(request)
        session = wc.session(request)
        if session is None:
            return wc.login_page(request, slot.basic_title)
        return await render_basic(wc, request, slot, session, draft_settings(wc, slot), [])

    async def set_(request: Request) -> Response:
        if not slot_available(wc, slot):
            return wc.not_found(request)
        session = wc.session(request)
        if session is None:
            return wc.login_page(request, slot.basic_title, next_page=page_path(slot.basic_page))
        data = await request.form()
        if not wc.sessions.accept_token(session, form_text(data, "INPUTT_SETUPTOKEN")):
            return await render_basic(wc, request, slot, session, draft_settings(wc, slot), [STALE_TOKEN])
        with wc.device.lock:
            wanted, errors = parse_settings(wc, data, slot.settings(wc.device))
            if not errors:
                wc.device.update(**{slot.config_field: wanted})
        if errors:
            messages = list(dict.fromkeys(e.message for e in errors))
            return await render_basic(wc, request, slot, session, wanted, messages)
        view = signin_view(wc.device, slot, wanted.email_service)
        if wanted.auth_method == "OAuth2" and view.state == "signed_in":
            await run_in_threadpool(wc.services.confirm_signin, slot.slot)
        return await render_basic(wc, request, slot, session, draft_settings(wc, slot), [SETUP_COMPLETE])

    async def sign_out(request: Request) -> Response:
        if not slot_available(wc, slot):
            return wc.not_found(request)
        session = wc.session(request)
        if session is None:
            return wc.login_page(request, slot.basic_title, next_page=page_path(slot.basic_page))
        data = await request.form()
        if not wc.sessions.accept_token(session, form_text(data, "INPUTT_SETUPTOKEN")):
            return await render_basic(wc, request, slot, session, draft_settings(wc, slot), [STALE_TOKEN])
        if wc.device.signin(slot.slot) is None:
            return await render_basic(wc, request, slot, session, draft_settings(wc, slot), [NOTHING_TO_SIGN_OUT])
        await run_in_threadpool(wc.services.sign_out, slot.slot)
        return await render_basic(wc, request, slot, session, draft_settings(wc, slot), [SETUP_COMPLETE])

    return [Route(page_path(slot.basic_page), top, methods=["GET"]),
            Route(page_path(slot.basic_page, "SET"), set_, methods=["POST"]),
            Route(page_path(slot.basic_page, "SIGNOUT"), sign_out, methods=["POST"])]


def connection_test_routes(wc: WebConfig, slot: MailSlot) -> list[Route]:
    def render(request: Request, session: Session, messages: list[str], *, ok: bool | None = None,
               code: int | None = None) -> Response:
        attrs = "" if ok is None else f' data-ok="{str(ok).lower()}" data-error-code="{esc(code or "")}"'
        result = (f'<div class="warning" id="CONNECTION_TEST_RESULT"{attrs}>'
                  + "".join(f"<p>{esc(m)}</p>" for m in messages) + "</div>") if messages else ""
        s = slot.settings(wc.device)
        intro = (f"<p>Checks the connection to the email server {esc(s.smtp_server or '(not set)')} "
                 f"with the current settings.</p>")
        content = result + form("SET", hidden("INPUTT_SETUPTOKEN", session.setup_token) + intro
                                + buttons(button("Start", element_id="BTN_START")), element_id="setting_form")
        return wc.render(request, slot.test_title, f'<div class="section">{content}</div>')

    async def top(request: Request) -> Response:
        if not slot_available(wc, slot):
            return wc.not_found(request)
        session = wc.session(request)
        if session is None:
            return wc.login_page(request, slot.test_title)
        return render(request, session, [])

    async def set_(request: Request) -> Response:
        if not slot_available(wc, slot):
            return wc.not_found(request)
        session = wc.session(request)
        if session is None:
            return wc.login_page(request, slot.test_title, next_page=page_path(slot.test_page))
        data = await request.form()
        if not wc.sessions.accept_token(session, form_text(data, "INPUTT_SETUPTOKEN")):
            return render(request, session, [STALE_TOKEN])
        result = await run_in_threadpool(wc.services.connection_test, slot.slot)
        return render(request, session, [result.message], ok=result.ok, code=result.error_code)

    return [Route(page_path(slot.test_page), top, methods=["GET"]),
            Route(page_path(slot.test_page, "SET"), set_, methods=["POST"])]


def routes(wc: WebConfig) -> list[Route]:
    found: list[Route] = []
    for slot in SLOTS:
        found += basic_routes(wc, slot) + connection_test_routes(wc, slot)
    return found

