"""Network Security > CA Certificate: import a PEM or DER CA certificate, list them, delete one.

The texts for refused files are the CA store's own; the upload is a multipart form (file field ``cert0``,
``format=pem_der``, like Epson's certificate import).
"""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.sim.castore import CertificateImportError
from harness.sim.webconfig.context import SETUP_COMPLETE, STALE_TOKEN, WebConfig, form_text, page_path
from harness.sim.webconfig.markup import button, buttons, fields, form, hidden, table, warning
from harness.sim.webconfig.session import Session

PAGE = "NWS_CERT_CA"
TITLE = "CA Certificate"
MAX_FILE_BYTES = 64 * 1024
NO_FILE = "Select a certificate file."
TOO_LARGE = "The file is too large. Select a certificate file of up to 64 KB."
UNKNOWN_CERTIFICATE = "The certificate was not found. Reload the page and try again."
COLUMNS = ("No.", "Subject", "Issuer", "Valid From", "Valid To", "Fingerprint (SHA-256)", "")


def render(wc: WebConfig, request: Request, session: Session, messages: list[str]) -> Response:
    certs = wc.device.ca.certificates()
    rows = [
        [str(i), c.subject, c.issuer, c.not_before, c.not_after, c.fingerprint,
         form("DELETE", hidden("INPUTT_SETUPTOKEN", session.setup_token) + hidden("INPUTT_CERTID", c.fingerprint)
              + button("Delete", element_id=f"BTN_DELETE_{i}"), element_id=f"delete_form_{i}")]
        for i, c in enumerate(certs, start=1)
    ]
    listing = (table("CA_CERTIFICATES", COLUMNS, rows, raw_columns=1) if rows
               else '<p id="CA_CERTIFICATES_EMPTY">No CA certificates are imported.</p>')
    upload = form(
        "SET",
        hidden("INPUTT_SETUPTOKEN", session.setup_token) + hidden("format", "pem_der")
        + fields('<dt class="key"><label for="cert0">CA Certificate (PEM/DER)</label></dt>'
                 '<dd class="value clearfix"><input type="file" id="cert0" name="cert0"></dd>')
        + buttons(button("Import", element_id="BTN_IMPORT")),
        element_id="import_form", multipart=True,
    )
    content = f'{warning(messages)}<div class="section">{listing}</div><div class="section">{upload}</div>'
    return wc.render(request, TITLE, content)


def routes(wc: WebConfig) -> list[Route]:
    async def top(request: Request) -> Response:
        session = wc.session(request)
        if session is None:
            return wc.login_page(request, TITLE)
        return render(wc, request, session, [])

    async def import_(request: Request) -> Response:
        session = wc.session(request)
        if session is None:
            return wc.login_page(request, TITLE, next_page=page_path(PAGE))
        async with request.form(max_files=1, max_fields=10) as data:
            if not wc.sessions.accept_token(session, form_text(data, "INPUTT_SETUPTOKEN")):
                return render(wc, request, session, [STALE_TOKEN])
            upload = data.get("cert0")
            if not isinstance(upload, UploadFile) or not upload.filename:
                return render(wc, request, session, [NO_FILE])
            content = await upload.read(MAX_FILE_BYTES + 1)
        if len(content) > MAX_FILE_BYTES:
            return render(wc, request, session, [TOO_LARGE])
        try:
            wc.device.ca.add(content)
        except CertificateImportError as exc:
            return render(wc, request, session, [str(exc)])
        return render(wc, request, session, [SETUP_COMPLETE])

    async def delete(request: Request) -> Response:
        session = wc.session(request)
        if session is None:
            return wc.login_page(request, TITLE, next_page=page_path(PAGE))
        data = await request.form()
        if not wc.sessions.accept_token(session, form_text(data, "INPUTT_SETUPTOKEN")):
            return render(wc, request, session, [STALE_TOKEN])
        removed = wc.device.ca.remove(form_text(data, "INPUTT_CERTID") or "")
        return render(wc, request, session, [SETUP_COMPLETE if removed else UNKNOWN_CERTIFICATE])

    return [Route(page_path(PAGE), top, methods=["GET"]),
            Route(page_path(PAGE, "SET"), import_, methods=["POST"]),
            Route(page_path(PAGE, "DELETE"), delete, methods=["POST"])]


