"""The Sign In screen of an OAuth2 e-mail server setting, and its status JSON (no codes, no tokens).

"Sign in with Microsoft" asks the engine for a device code (``services.start_signin``); the screen shows the
engine's message, the verification code and ``https://microsoft.com/devicelogin``, and Current Status moves
from Signed out to Signed in by itself (a small script polls ``STATUS.JSON``). Saving is OK on the Basic page.
"""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from harness.sim.settings import EMAIL_SERVICES
from harness.sim.webconfig.context import NO_CACHE, STALE_TOKEN, WebConfig, form_text, page_path
from harness.sim.webconfig.markup import button, buttons, esc, form, hidden, values, warning
from harness.sim.webconfig.pages.email_server import (
    not_saved_note,
    service_code,
    service_from_code,
    slot_available,
    status_script,
)
from harness.sim.webconfig.pages.rules import EXTENDED_BLOCKS_OAUTH2, oauth2_blocked
from harness.sim.webconfig.pages.slots import SIGNED_IN, SLOTS, MailSlot, signin_view
from harness.sim.webconfig.session import Session

TITLE = "Sign In"
NOTICE = "Any other email services signed in will be signed out automatically"
SELECT_SERVICE = "Select an Email service."
START_FAILED = "The sign-in could not be started. Check the network settings and try again."


def message_html(message: str, uri: str, code: str) -> str:
    """The engine's sign-in message with the URL as a link and the code emphasised (all escaped)."""
    text = esc(message)
    if uri:
        text = text.replace(esc(uri), f'<a class="verification-uri" href="{esc(uri)}" target="_blank" '
                                      f'rel="noopener">{esc(uri)}</a>', 1)
    if code:
        text = text.replace(esc(code), f'<strong class="user-code">{esc(code)}</strong>', 1)
    return f'<div class="message" id="SIGNIN_MESSAGE"><p>{text}</p></div>'


def render(wc: WebConfig, request: Request, slot: MailSlot, session: Session, service: str,
           messages: list[str]) -> Response:
    view = signin_view(wc.device, slot, service)
    pending = view.pending
    rows = [("Email service", esc(service)),
            ("Current Status", f'<span id="CURRENT_STATUS">{esc(view.current_status)}</span>')]
    code_html = ""
    if view.state == "polling" and pending is not None:
        code_html = message_html(pending.message, pending.verification_uri, pending.user_code)
        rows += [("Verification code", f'<span id="USER_CODE">{esc(pending.user_code)}</span>'),
                 ("URL", f'<a id="VERIFICATION_URI" href="{esc(pending.verification_uri)}" target="_blank" '
                         f'rel="noopener">{esc(pending.verification_uri)}</a>')]
    account = view.account if view.current_status == SIGNED_IN else ""
    rows.append(("Account", f'<span id="SIGNED_IN_ACCOUNT">{esc(account)}</span>'))
    error_html = f'<div class="warning" id="SIGNIN_ERROR">{esc(view.error)}</div>' if view.error else ""
    start = form("SET", hidden("INPUTT_SETUPTOKEN", session.setup_token)
                 + hidden("INPUTD_EMAILSERVICE", service_code(service))
                 + buttons(button("Sign in with Microsoft", element_id="BTN_SIGNIN_MICROSOFT")),
                 element_id="signin_form")
    back = buttons(button("Back", element_id="BTN_BACK", kind="button",
                          onclick=f"window.location.href={json.dumps(page_path(slot.basic_page))}; return false;"))
    content = (warning(messages) + error_html + f'<p class="notice" id="SIGNIN_NOTICE">{esc(NOTICE)}</p>'
               + values(rows, raw=True) + code_html + not_saved_note(view) + start + back + status_script(slot, view))
    return wc.render(request, TITLE, f'<div class="section">{content}</div>')


def signin_routes(wc: WebConfig, slot: MailSlot) -> list[Route]:
    def usable(request: Request) -> bool:
        return slot_available(wc, slot) and wc.has("oauth2_email")

    def chosen_service(code: str | None) -> str | None:
        service = service_from_code(code)
        if service is None:
            return signin_view(wc.device, slot).service
        return service if service in EMAIL_SERVICES else None

    async def top(request: Request) -> Response:
        if not usable(request):
            return wc.not_found(request)
        session = wc.session(request)
        if session is None:
            return wc.login_page(request, TITLE)
        service = chosen_service(request.query_params.get("INPUTD_EMAILSERVICE"))
        if service is None:
            return render(wc, request, slot, session, slot.settings(wc.device).email_service, [SELECT_SERVICE])
        return render(wc, request, slot, session, service, [])

    async def set_(request: Request) -> Response:
        if not usable(request):
            return wc.not_found(request)
        session = wc.session(request)
        if session is None:
            return wc.login_page(request, TITLE, next_page=page_path(slot.signin_page))
        data = await request.form()
        service = chosen_service(form_text(data, "INPUTD_EMAILSERVICE"))
        shown = service or slot.settings(wc.device).email_service
        if not wc.sessions.accept_token(session, form_text(data, "INPUTT_SETUPTOKEN")):
            return render(wc, request, slot, session, shown, [STALE_TOKEN])
        if service is None:
            return render(wc, request, slot, session, shown, [SELECT_SERVICE])
        if oauth2_blocked(wc.device):
            return render(wc, request, slot, session, service, [EXTENDED_BLOCKS_OAUTH2])
        try:
            pending = await run_in_threadpool(wc.services.start_signin, slot.slot, service)  # type: ignore[arg-type]
        except OSError:
            return render(wc, request, slot, session, service, [START_FAILED])
        if pending.state == "failed" and not signin_view(wc.device, slot, service).error:
            return render(wc, request, slot, session, service, [pending.error or START_FAILED])
        return RedirectResponse(f"{page_path(slot.signin_page)}?INPUTD_EMAILSERVICE={service_code(service)}",
                                status_code=303)

    async def status(request: Request) -> Response:
        if not usable(request):
            return JSONResponse({"error": "not found"}, status_code=404, headers=NO_CACHE)
        if wc.session(request) is None:
            return JSONResponse({"error": "Log in as administrator."}, status_code=401, headers=NO_CACHE)
        service = chosen_service(request.query_params.get("INPUTD_EMAILSERVICE"))
        if service is None:
            return JSONResponse({"error": SELECT_SERVICE}, status_code=400, headers=NO_CACHE)
        return JSONResponse(signin_view(wc.device, slot, service).public(), headers=NO_CACHE)

    return [Route(page_path(slot.signin_page), top, methods=["GET"]),
            Route(page_path(slot.signin_page, "SET"), set_, methods=["POST"]),
            Route(page_path(slot.signin_page, "STATUS.JSON"), status, methods=["GET"])]


def routes(wc: WebConfig) -> list[Route]:
    return [route for slot in SLOTS for route in signin_routes(wc, slot)]
