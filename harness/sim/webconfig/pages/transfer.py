"""Device Management > Export and Import Setting Value: download the settings file, restore from one.

Export needs a password (8–20 characters) that encrypts the file's secrets; Import needs the same password.
A refused file changes nothing.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.sim.webconfig import facts
from harness.sim.webconfig.context import NO_CACHE, SETUP_COMPLETE, STALE_TOKEN, WebConfig, form_text, page_path
from harness.sim.webconfig.markup import button, buttons, fields, form, hidden, text_field, warning
from harness.sim.webconfig.session import Session
from harness.sim.webconfig.settingsfile import (
    BAD_PASSWORD,
    MAX_FILE_BYTES,
    SettingsFileError,
    apply_settings,
    export_settings,
    read_settings,
)

EXPORT_PAGE, IMPORT_PAGE = "DM_EXPORT", "DM_IMPORT"
EXPORT_TITLE = "Export and Import Setting Value > Export"
IMPORT_TITLE = "Export and Import Setting Value > Import"
PASSWORDS_DIFFER = "The passwords do not match."
NO_FILE = "Select a file to import."
TOO_LARGE = "The file is too large."


def routes(wc: WebConfig) -> list[Route]:
    def export_page(request: Request, session: Session, messages: list[str]) -> Response:
        body = form("SET", hidden("INPUTT_SETUPTOKEN", session.setup_token) + fields(
            text_field("INPUTT_EXPORTPASSWORD", "Password", "", maxlength=20, kind="password"),
            text_field("INPUTT_EXPORTPASSWORD_CONFIRM", "Confirm Password", "", maxlength=20, kind="password"),
        ) + buttons(button("Export", element_id="BTN_EXPORT")), element_id="export_form")
        note = ("<p>Exports the setting values to a file. Sign-ins to email services are not exported. "
                "The password encrypts the passwords in the file; it is needed to import the file.</p>")
        return wc.render(request, EXPORT_TITLE, f'<div class="section">{warning(messages)}{note}{body}</div>')

    def import_page(request: Request, session: Session, messages: list[str]) -> Response:
        body = form("SET", hidden("INPUTT_SETUPTOKEN", session.setup_token) + fields(
            '<dt class="key"><label for="INPUTF_IMPORTFILE">File</label></dt>'
            '<dd class="value clearfix"><input type="file" id="INPUTF_IMPORTFILE" name="INPUTF_IMPORTFILE"></dd>',
            text_field("INPUTT_IMPORTPASSWORD", "Password", "", maxlength=20, kind="password"),
        ) + buttons(button("Import", element_id="BTN_IMPORT")), element_id="import_form", multipart=True)
        return wc.render(request, IMPORT_TITLE, f'<div class="section">{warning(messages)}{body}</div>')

    async def export_top(request: Request) -> Response:
        session = wc.session(request)
        return wc.login_page(request, EXPORT_TITLE) if session is None else export_page(request, session, [])

    async def export_set(request: Request) -> Response:
        session = wc.session(request)
        if session is None:
            return wc.login_page(request, EXPORT_TITLE, next_page=page_path(EXPORT_PAGE))
        data = await request.form()
        if not wc.sessions.accept_token(session, form_text(data, "INPUTT_SETUPTOKEN")):
            return export_page(request, session, [STALE_TOKEN])
        password = form_text(data, "INPUTT_EXPORTPASSWORD") or ""
        if password != (form_text(data, "INPUTT_EXPORTPASSWORD_CONFIRM") or ""):
            return export_page(request, session, [PASSWORDS_DIFFER])
        try:
            content = await run_in_threadpool(export_settings, wc.device, password)
        except SettingsFileError as exc:
            return export_page(request, session, [str(exc)])
        name = f"{facts.model_name(wc.device)}_{wc.device.identity.serial}_settings.json"
        return Response(content, media_type="application/json",
                        headers={**NO_CACHE, "Content-Disposition": f'attachment; filename="{name}"'})

    async def import_top(request: Request) -> Response:
        session = wc.session(request)
        return wc.login_page(request, IMPORT_TITLE) if session is None else import_page(request, session, [])

    async def import_set(request: Request) -> Response:
        session = wc.session(request)
        if session is None:
            return wc.login_page(request, IMPORT_TITLE, next_page=page_path(IMPORT_PAGE))
        async with request.form(max_files=1, max_fields=10) as data:
            if not wc.sessions.accept_token(session, form_text(data, "INPUTT_SETUPTOKEN")):
                return import_page(request, session, [STALE_TOKEN])
            upload = data.get("INPUTF_IMPORTFILE")
            password = form_text(data, "INPUTT_IMPORTPASSWORD") or ""
            if not isinstance(upload, UploadFile) or not upload.filename:
                return import_page(request, session, [NO_FILE])
            content = await upload.read(MAX_FILE_BYTES + 1)
        if len(content) > MAX_FILE_BYTES:
            return import_page(request, session, [TOO_LARGE])
        if not password:
            return import_page(request, session, [BAD_PASSWORD])
        try:
            imported = await run_in_threadpool(read_settings, wc.device, content, password)
        except SettingsFileError as exc:
            return import_page(request, session, [str(exc)])
        apply_settings(wc.device, imported)
        return import_page(request, session, [SETUP_COMPLETE])

    return [
        Route(page_path(EXPORT_PAGE), export_top, methods=["GET"]),
        Route(page_path(EXPORT_PAGE, "SET"), export_set, methods=["POST"]),
        Route(page_path(IMPORT_PAGE), import_top, methods=["GET"]),
        Route(page_path(IMPORT_PAGE, "SET"), import_set, methods=["POST"]),
    ]
