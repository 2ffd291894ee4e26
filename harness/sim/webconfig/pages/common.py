"""The entry pages: ``/`` (SEIKO EPSON meta refresh), the common top page with its menu, the style sheet,
administrator login and logout, and the language selector.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from harness.sim.webconfig import facts, i18n
from harness.sim.webconfig.context import (
    ADVANCED,
    INCORRECT_LOGIN,
    LOCKED_OUT,
    LOGIN_PATH,
    NO_CACHE,
    SESSION_COOKIE,
    TOP_PATH,
    WebConfig,
    form_text,
    page_path,
)
from harness.sim.webconfig.markup import DOCTYPE, button, esc, form, values
from harness.sim.webconfig.pages import certificates, info, network, serverless, transfer
from harness.sim.webconfig.pages.slots import EMAIL, FAX
from harness.sim.webconfig.session import LoginOutcome

LOGIN_TITLE = "Administrator Login"
LOGOUT_PATH = f"{ADVANCED}/PASSWORD/LOGOUT"

#: The menu of the top page: tab → (entry, page, capability the entry needs or None).
MENU: tuple[tuple[str, tuple[tuple[str, str, str | None], ...]], ...] = (
    ("Status", (("Product Status", info.PRTINFO, None), ("Network Status", info.NWINFO, None),
                ("Job History", info.JOBHISTORY, None))),
    ("Network", (("Email Server > Basic", EMAIL.basic_page, None),
                 ("Email Server > Connection Test", EMAIL.test_page, None),
                 ("Network Interface", network.PAGE, "extended_network"))),
    ("Network Security", (("CA Certificate", certificates.PAGE, None),)),
    ("Fax", (("Fax Server > Email Server Settings", FAX.basic_page, "fax_server_email"),
             ("Fax Server > Connection Test", FAX.test_page, "fax_server_email"))),
    ("Device Management", (("Export and Import Setting Value > Export", transfer.EXPORT_PAGE, None),
                           ("Export and Import Setting Value > Import", transfer.IMPORT_PAGE, None))),
    ("Epson Print Admin Serverless", (("Authentication Settings", serverless.SETTINGS_PAGE, "serverless"),
                                      ("User Settings", serverless.USERS_PAGE, "serverless"))),
)

STYLE = """
body{font-family:Arial,Helvetica,sans-serif;font-size:13px;color:#333;margin:0;background:#fff}
div.wrap{max-width:960px;margin:0 auto;padding:12px}
div.header-main{font-size:18px;font-weight:bold;border-bottom:2px solid #1e50a2;padding:6px 0;margin-bottom:10px}
dl.values{display:grid;grid-template-columns:minmax(200px,max-content) 1fr;gap:6px 12px;margin:8px 0}
dl.values dt,dl.values dd{margin:0}
div.warning{border:1px solid #d9534f;background:#fdf2f2;color:#a94442;padding:6px 10px;margin:8px 0}
div.message{border:1px solid #e0a800;background:#fff8e1;padding:6px 10px;margin:8px 0}
div.note{color:#666;font-size:12px;margin-top:3px}
div.footer ul.buttons{list-style:none;padding:0;margin:12px 0;display:flex;gap:8px}
button.button{padding:4px 16px}
table.list{border-collapse:collapse;margin:8px 0}
table.list th,table.list td{border:1px solid #ccc;padding:3px 6px;text-align:left}
ul.tabs{list-style:none;padding:0;display:flex;gap:4px}
li.tab{border:1px solid #ccc;padding:4px 10px;cursor:pointer}
li.tab.selected{background:#1e50a2;color:#fff}
div.menu ul.menu-tabs{list-style:none;padding:0}
div.menu li.menu-tab{margin-bottom:10px}
span.radio{margin-right:14px}
"""
#: The style sheet is a file of the firmware image: it carries the image's build time and no expiry, so a browser
#: caches it heuristically (RFC 9111 §4.2.2) instead of fetching it with every page, as the pages themselves are.
STYLE_HEADERS = {"Last-Modified": "Tue, 02 Sep 2025 09:00:00 GMT"}


def root_page() -> str:
    target = "./PRESENTATION/ADVANCED/COMMON/TOP"
    return (f'{DOCTYPE}\n<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
            '<meta name="Author" content="SEIKO EPSON">\n'
            '<script type="text/javascript"><!--\n'
            f"document.write(\"<meta http-equiv='refresh' content='0;URL={target}'>\");\n"
            "//--></script>\n"
            f'<noscript><meta http-equiv="refresh" content="0;URL={target}"></noscript>\n'
            "</head>\n<body></body>\n</html>\n")


def safe_next(candidate: str | None) -> str | None:
    """A local Web Config path to return to after login, or None."""
    if not candidate:
        return None
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc or not parts.path.startswith("/PRESENTATION/") or "//" in parts.path:
        return None
    if parts.path.startswith(f"{ADVANCED}/PASSWORD/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def routes(wc: WebConfig) -> list[Route]:
    def menu_html() -> str:
        tabs = []
        for tab, entries in MENU:
            items = "".join(f'<li><a href="{esc(page_path(page))}" id="MENU_{esc(page)}">{esc(label)}</a></li>'
                            for label, page, needs in entries if needs is None or wc.has(needs))
            if items:
                tabs.append(f'<li class="menu-tab"><span class="tab-title">{esc(tab)}</span>'
                            f'<ul class="menu-items">{items}</ul></li>')
        return f'<div class="menu" id="menu"><ul class="menu-tabs">{"".join(tabs)}</ul></div>'

    async def top(request: Request) -> Response:
        language = i18n.from_cookie(request.cookies.get(i18n.COOKIE))
        if wc.session(request) is None:
            login = f'<a href="{esc(page_path("PASSWORD"))}" id="LINK_LOGIN">{esc(LOGIN_TITLE)}</a>'
        else:
            login = form(LOGOUT_PATH, button("Log out", element_id="BTN_LOGOUT"), element_id="logout_form")
        options = "".join(f'<option value="{esc(n)}"{" selected" if n == language.requested else ""}>{esc(name)}'
                          "</option>" for n, name in i18n.LANGUAGES.items())
        selector = form("TOP", f'<label for="SEL_LANGA">Language</label> <select id="SEL_LANGA" name="SEL_LANGA" '
                               f'onchange="this.form.submit();">{options}</select>', element_id="form_select_language")
        summary = values([("Device Name", wc.device.config.device_name), ("Model", facts.product_name(wc.device)),
                          ("Serial Number", wc.device.identity.serial)])
        content = (f'<div class="login-status">{login}</div>{selector}'
                   f'<div class="section">{summary}</div>{menu_html()}')
        return wc.render(request, facts.product_name(wc.device), content)

    async def choose_language(request: Request) -> Response:
        data = await request.form()
        number = form_text(data, "SEL_LANGA") or i18n.ENGLISH
        response = RedirectResponse(TOP_PATH, status_code=303)
        value = i18n.cookie_value(i18n.from_cookie(f"lang_a&{number}").requested)
        # Raw, as Epson sets it: '&' and '/' are valid cookie octets (RFC 6265) and need no quoting.
        response.headers.append("set-cookie", f"{i18n.COOKIE}={value}; Path=/; SameSite=Lax")
        return response

    async def login_form(request: Request) -> Response:
        if wc.session(request) is not None:
            return RedirectResponse(TOP_PATH, status_code=303)
        return wc.login_page(request, LOGIN_TITLE, next_page=TOP_PATH)

    async def login(request: Request) -> Response:
        data = await request.form()
        target = (safe_next(form_text(data, "INPUTT_NEXTPAGE"))
                  or safe_next(urlsplit(request.headers.get("referer", "")).path) or TOP_PATH)
        session_type = form_text(data, "SEL_SESSIONTYPE")
        outcome, session = wc.sessions.login(form_text(data, "INPUTT_USERNAME") or "",
                                             form_text(data, "INPUTT_PASSWORD") or "",
                                             admin=session_type in (None, "ADMIN"))
        if outcome is LoginOutcome.OK and session is not None:
            response = RedirectResponse(target, status_code=303, headers=NO_CACHE)
            response.set_cookie(SESSION_COOKIE, session.session_id, path="/", httponly=True, samesite="lax")
            return response
        message = LOCKED_OUT if outcome is LoginOutcome.LOCKED else INCORRECT_LOGIN
        return wc.login_page(request, LOGIN_TITLE, (message,), next_page=target)

    async def logout(request: Request) -> Response:
        wc.sessions.logout(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse(TOP_PATH, status_code=303, headers=NO_CACHE)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    async def root(request: Request) -> Response:
        return HTMLResponse(root_page(), headers=NO_CACHE)

    async def style(request: Request) -> Response:
        return Response(STYLE, media_type="text/css", headers=STYLE_HEADERS)

    return [
        Route("/", root, methods=["GET"]),
        Route(TOP_PATH, top, methods=["GET"]),
        Route(TOP_PATH, choose_language, methods=["POST"]),
        Route(f"{ADVANCED}/COMMON/STYLE.CSS", style, methods=["GET"]),
        Route(page_path("PASSWORD"), login_form, methods=["GET"]),
        Route(LOGIN_PATH, login, methods=["POST"]),
        Route(LOGOUT_PATH, logout, methods=["POST"]),
    ]
