"""Epson Print Admin Serverless: authentication settings (sender of Scan to My Email) and registered users.

With "User's Email Address" as the sender, each user signs in once with their own account at the device
(the guide, §6); the users list shows whether a user's sign-in is saved. Deleting a user signs them out.
"""

from __future__ import annotations

from dataclasses import replace

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.sim.device import user_slot
from harness.sim.settings import ServerlessUser
from harness.sim.webconfig.context import SETUP_COMPLETE, STALE_TOKEN, WebConfig, form_text, page_path
from harness.sim.webconfig.markup import button, buttons, fields, form, hidden, radio_field, table, text_field, warning
from harness.sim.webconfig.pages.slots import SIGNED_IN, SIGNED_OUT
from harness.sim.webconfig.session import Session
from harness.sim.webconfig.users import DUPLICATE_USER, MAX_USERS, TOO_MANY_USERS, user_errors

SETTINGS_PAGE, USERS_PAGE = "SERVERLESS_AUTH", "SERVERLESS_USERS"
SETTINGS_TITLE = "Epson Print Admin Serverless > Authentication Settings"
USERS_TITLE = "Epson Print Admin Serverless > User Settings"
ENABLE_OPTIONS = (("ENABLE", "Enable"), ("DISABLE", "Disable"))
SENDER_OPTIONS = (("DEVICE", "Device's Email Address"), ("USER", "User's Email Address"))
ADMIN_OPTIONS = (("ON", "On"), ("OFF", "Off"))
USER_COLUMNS = ("User ID", "User Name", "Email Address", "Printer Administrator", "Current Status", "")

SELECT_ENABLE = "Select Enable or Disable for Epson Print Admin Serverless."
SELECT_SENDER = "Select the Sender's Email Address."
SELECT_ADMIN = "Select On or Off for Printer Administrator."
UNKNOWN_USER = "The user was not found. Reload the page and try again."



def routes(wc: WebConfig) -> list[Route]:
    def settings_page(request: Request, session: Session, enabled: str, sender: str, messages: list[str]) -> Response:
        body = form("SET", hidden("INPUTT_SETUPTOKEN", session.setup_token)
                    + fields(radio_field("INPUTR_SERVERLESS", "Epson Print Admin Serverless", ENABLE_OPTIONS, enabled),
                             radio_field("INPUTR_SENDERADDRESS", "Sender's Email Address", SENDER_OPTIONS, sender))
                    + buttons(button("OK", element_id="BTN_OK")), element_id="setting_form")
        return wc.render(request, SETTINGS_TITLE, f'<div class="section">{warning(messages)}{body}</div>')

    def current() -> tuple[str, str]:
        s = wc.device.config.serverless
        return ("ENABLE" if s.enabled else "DISABLE"), ("USER" if s.sender_mode == "user" else "DEVICE")

    def users_page(request: Request, session: Session, messages: list[str], draft: dict[str, str] | None = None
                   ) -> Response:
        draft = draft or {}
        users = wc.device.config.serverless.users
        rows = [[u.user_id, u.name, u.email, "On" if u.printer_admin else "Off",
                 SIGNED_IN if wc.device.signin(user_slot(u.user_id)) is not None else SIGNED_OUT,
                 form("DELETE", hidden("INPUTT_SETUPTOKEN", session.setup_token) + hidden("INPUTT_USER_ID", u.user_id)
                      + button("Delete", element_id=f"BTN_DELETE_{i}"), element_id=f"delete_form_{i}")]
                for i, u in enumerate(users, start=1)]
        listing = (table("SERVERLESS_USERS", USER_COLUMNS, rows, raw_columns=1) if rows
                   else '<p id="SERVERLESS_USERS_EMPTY">No users are registered.</p>')
        add = form("SET", hidden("INPUTT_SETUPTOKEN", session.setup_token) + fields(
            text_field("INPUTT_USER_ID", "User ID", draft.get("id", ""), maxlength=32),
            text_field("INPUTT_USER_NAME", "User Name", draft.get("name", ""), maxlength=40),
            text_field("INPUTT_USER_EMAIL", "Email Address", draft.get("email", ""), maxlength=255),
            radio_field("INPUTR_PRINTERADMIN", "Printer Administrator", ADMIN_OPTIONS, draft.get("admin", "OFF")),
        ) + buttons(button("Add", element_id="BTN_ADD")), element_id="add_form")
        content = f'{warning(messages)}<div class="section">{listing}</div><div class="section">{add}</div>'
        return wc.render(request, USERS_TITLE, content)

    async def settings_top(request: Request) -> Response:
        if not wc.has("serverless"):
            return wc.not_found(request)
        session = wc.session(request)
        if session is None:
            return wc.login_page(request, SETTINGS_TITLE)
        return settings_page(request, session, *current(), [])

    async def settings_set(request: Request) -> Response:
        if not wc.has("serverless"):
            return wc.not_found(request)
        session = wc.session(request)
        if session is None:
            return wc.login_page(request, SETTINGS_TITLE, next_page=page_path(SETTINGS_PAGE))
        data = await request.form()
        if not wc.sessions.accept_token(session, form_text(data, "INPUTT_SETUPTOKEN")):
            return settings_page(request, session, *current(), [STALE_TOKEN])
        enabled = form_text(data, "INPUTR_SERVERLESS") or current()[0]
        sender = form_text(data, "INPUTR_SENDERADDRESS") or current()[1]
        errors = ([SELECT_ENABLE] if enabled not in ("ENABLE", "DISABLE") else []) + (
            [SELECT_SENDER] if sender not in ("DEVICE", "USER") else [])
        if errors:
            return settings_page(request, session, enabled, sender, errors)
        with wc.device.lock:
            wc.device.update(serverless=replace(wc.device.config.serverless, enabled=enabled == "ENABLE",
                                                sender_mode="user" if sender == "USER" else "device"))
        return settings_page(request, session, *current(), [SETUP_COMPLETE])

    async def users_top(request: Request) -> Response:
        if not wc.has("serverless"):
            return wc.not_found(request)
        session = wc.session(request)
        if session is None:
            return wc.login_page(request, USERS_TITLE)
        return users_page(request, session, [])

    async def users_add(request: Request) -> Response:
        if not wc.has("serverless"):
            return wc.not_found(request)
        session = wc.session(request)
        if session is None:
            return wc.login_page(request, USERS_TITLE, next_page=page_path(USERS_PAGE))
        data = await request.form()
        if not wc.sessions.accept_token(session, form_text(data, "INPUTT_SETUPTOKEN")):
            return users_page(request, session, [STALE_TOKEN])
        draft = {"id": (form_text(data, "INPUTT_USER_ID") or "").strip(),
                 "name": (form_text(data, "INPUTT_USER_NAME") or "").strip(),
                 "email": (form_text(data, "INPUTT_USER_EMAIL") or "").strip(),
                 "admin": form_text(data, "INPUTR_PRINTERADMIN") or "OFF"}
        errors = user_errors(draft["id"], draft["name"], draft["email"])
        if draft["admin"] not in ("ON", "OFF"):
            errors.append(SELECT_ADMIN)
        with wc.device.lock:
            users = wc.device.config.serverless.users
            if not errors and any(u.user_id.lower() == draft["id"].lower() for u in users):
                errors.append(DUPLICATE_USER)
            if not errors and len(users) >= MAX_USERS:
                errors.append(TOO_MANY_USERS)
            if not errors:
                user = ServerlessUser(draft["id"], draft["name"], draft["email"], draft["admin"] == "ON")
                wc.device.update(serverless=replace(wc.device.config.serverless, users=(*users, user)))
        if errors:
            return users_page(request, session, errors, draft)
        return users_page(request, session, [SETUP_COMPLETE])

    async def users_delete(request: Request) -> Response:
        if not wc.has("serverless"):
            return wc.not_found(request)
        session = wc.session(request)
        if session is None:
            return wc.login_page(request, USERS_TITLE, next_page=page_path(USERS_PAGE))
        data = await request.form()
        if not wc.sessions.accept_token(session, form_text(data, "INPUTT_SETUPTOKEN")):
            return users_page(request, session, [STALE_TOKEN])
        user_id = form_text(data, "INPUTT_USER_ID") or ""
        with wc.device.lock:
            users = wc.device.config.serverless.users
            kept = tuple(u for u in users if u.user_id != user_id)
            if len(kept) < len(users):
                wc.device.update(serverless=replace(wc.device.config.serverless, users=kept))
                wc.device.sign_out(user_slot(user_id))
        return users_page(request, session, [SETUP_COMPLETE if len(kept) < len(users) else UNKNOWN_USER])

    return [
        Route(page_path(SETTINGS_PAGE), settings_top, methods=["GET"]),
        Route(page_path(SETTINGS_PAGE, "SET"), settings_set, methods=["POST"]),
        Route(page_path(USERS_PAGE), users_top, methods=["GET"]),
        Route(page_path(USERS_PAGE, "SET"), users_add, methods=["POST"]),
        Route(page_path(USERS_PAGE, "DELETE"), users_delete, methods=["POST"]),
    ]
