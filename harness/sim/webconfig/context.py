"""What every Web Config page handler shares: the device, its services, sessions and page rendering."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse

from harness.sim.device import VirtualDevice
from harness.sim.services import DeviceServices
from harness.sim.webconfig import facts, i18n
from harness.sim.webconfig.markup import button, buttons, document, esc, fields, form, header, hidden, text_field
from harness.sim.webconfig.markup import script as js
from harness.sim.webconfig.markup import warning as warning_box
from harness.sim.webconfig.session import Session, SessionStore

SESSION_COOKIE = "EPSON_COOKIE_SESSION"
ADVANCED = "/PRESENTATION/ADVANCED"
LOGIN_PATH = f"{ADVANCED}/PASSWORD/SET"
TOP_PATH = f"{ADVANCED}/COMMON/TOP"
INCORRECT_LOGIN = "Incorrect user name or password"
LOCKED_OUT = "Try again later."
SETUP_COMPLETE = "Setup complete."
STALE_TOKEN = "The page has expired. Reload the page and try again."
NO_CACHE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}


def page_path(page: str, leaf: str = "TOP") -> str:
    """``/PRESENTATION/ADVANCED/<AREA>_<PAGE>/<leaf>``."""
    return f"{ADVANCED}/{page}/{leaf}"


def form_text(data: FormData, name: str) -> str | None:
    """A text field's value; None when absent, "" when a file was sent where text belongs."""
    value = data.get(name)
    if value is None:
        return None
    return value if isinstance(value, str) else ""


@dataclass
class WebConfig:
    """One device's Web Config: the state handlers act on, and how they answer."""

    device: VirtualDevice
    services: DeviceServices
    sessions: SessionStore

    def session(self, request: Request) -> Session | None:
        return self.sessions.get(request.cookies.get(SESSION_COOKIE))

    def has(self, capability: str) -> bool:
        return facts.has(self.device, capability)

    def render(self, request: Request, title: str, content: str, *, status: int = 200, head: str = "") -> HTMLResponse:
        """A content page titled ``title`` (``div.header-main``) in the request's language."""
        language = i18n.from_cookie(request.cookies.get(i18n.COOKIE))
        page = document(facts.product_name(self.device), header(title) + content, lang=language.html_lang,
                        head=head)
        return HTMLResponse(page, status_code=status, headers=NO_CACHE)

    def login_page(self, request: Request, title: str, messages: tuple[str, ...] = (), *,
                   next_page: str | None = None, status: int = 200) -> HTMLResponse:
        """The administrator login form, shown in place of a protected page's content."""
        target = next_page or (request.url.path if request.method == "GET" else TOP_PATH)
        content = (
            warning_box(messages)
            + form(LOGIN_PATH, hidden("SEL_SESSIONTYPE", "ADMIN") + hidden("access", "https")
                   + hidden("INPUTT_DUMMY", "") + hidden("INPUTT_NEXTPAGE", target)
                   + fields(text_field("INPUTT_USERNAME", "User Name", "", maxlength=20),
                            text_field("INPUTT_PASSWORD", "Current password", "", maxlength=20, kind="password"))
                   + buttons(button("OK", element_id="BTN_LOGIN", kind="button",
                                    onclick="OnSetButton(); return false;")),
                   element_id="login_form")
            + js("function OnSetButton(){document.getElementById('login_form').submit();}"
                 "document.getElementById('INPUTT_PASSWORD').addEventListener('keydown',function(e){"
                 "if(e.key==='Enter'){e.preventDefault();OnSetButton();}});")
        )
        return self.render(request, title, f'<div class="section" id="login">{content}</div>', status=status)

    def not_found(self, request: Request) -> HTMLResponse:
        return self.render(request, "Not Found", '<div class="section"><p>The requested page was not found.</p>'
                           f'<p><a href="{esc(TOP_PATH)}">Top</a></p></div>', status=404)
