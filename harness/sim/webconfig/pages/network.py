"""Network > Network Interface: standard or extended network (models with an extended network only).

The extended network does not support OAuth2 (the guide, §3): switching to it while an e-mail server uses
OAuth2 is refused, as OAuth2 is refused on the e-mail pages while it is selected.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.sim.webconfig.context import SETUP_COMPLETE, STALE_TOKEN, WebConfig, form_text, page_path
from harness.sim.webconfig.markup import button, buttons, fields, form, hidden, radio_field, warning
from harness.sim.webconfig.pages.rules import OAUTH2_BLOCKS_EXTENDED, oauth2_in_use, rule_enforced
from harness.sim.webconfig.session import Session

PAGE = "NW_NETWORK_INTERFACE"
TITLE = "Network Interface"
OPTIONS = (("STANDARD", "Standard Network"), ("EXTENDED", "Extended Network"))
SELECT_NETWORK = "Select Standard Network or Extended Network."
NOTE = "The extended network does not support OAuth2 authentication for the email server."


def render(wc: WebConfig, request: Request, session: Session, selected: str, messages: list[str]) -> Response:
    body = form("SET", hidden("INPUTT_SETUPTOKEN", session.setup_token)
                + fields(radio_field("INPUTR_NETWORKTYPE", "Network to Use", OPTIONS, selected, note=NOTE))
                + buttons(button("OK", element_id="BTN_OK")), element_id="setting_form")
    return wc.render(request, TITLE, f'<div class="section">{warning(messages)}{body}</div>')


def routes(wc: WebConfig) -> list[Route]:
    def current() -> str:
        return "EXTENDED" if wc.device.config.network == "extended" else "STANDARD"

    async def top(request: Request) -> Response:
        if not wc.has("extended_network"):
            return wc.not_found(request)
        session = wc.session(request)
        if session is None:
            return wc.login_page(request, TITLE)
        return render(wc, request, session, current(), [])

    async def set_(request: Request) -> Response:
        if not wc.has("extended_network"):
            return wc.not_found(request)
        session = wc.session(request)
        if session is None:
            return wc.login_page(request, TITLE, next_page=page_path(PAGE))
        data = await request.form()
        if not wc.sessions.accept_token(session, form_text(data, "INPUTT_SETUPTOKEN")):
            return render(wc, request, session, current(), [STALE_TOKEN])
        wanted = form_text(data, "INPUTR_NETWORKTYPE")
        if wanted not in ("STANDARD", "EXTENDED"):
            return render(wc, request, session, current(), [SELECT_NETWORK])
        with wc.device.lock:
            if wanted == "EXTENDED" and rule_enforced(wc.device) and oauth2_in_use(wc.device):
                refused = True
            else:
                refused = False
                wc.device.update(network="extended" if wanted == "EXTENDED" else "standard")
        if refused:
            return render(wc, request, session, wanted, [OAUTH2_BLOCKS_EXTENDED])
        return render(wc, request, session, current(), [SETUP_COMPLETE])

    return [Route(page_path(PAGE), top, methods=["GET"]), Route(page_path(PAGE, "SET"), set_, methods=["POST"])]
