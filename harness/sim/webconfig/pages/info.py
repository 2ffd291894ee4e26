"""Status pages: Product Status (INFO_PRTINFO), Network Status (INFO_NWINFO), Job History (INFO_JOBHISTORY).

Product and Network Status are open to anyone, as on real devices; the job history (it names addresses) needs
the administrator. Network Status shows the e-mail server settings as SAVED on the device, with the same rows
as the printed status sheet.
"""

from __future__ import annotations

import ipaddress

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.sim.device import EMAIL_SLOT, FAX_SLOT
from harness.sim.jobhistory import Job
from harness.sim.statussheet import email_server_rows, network_rows
from harness.sim.webconfig import facts
from harness.sim.webconfig.context import NO_CACHE, STALE_TOKEN, WebConfig, form_text, page_path
from harness.sim.webconfig.markup import (
    button,
    buttons,
    esc,
    form,
    hidden,
    script,
    select_field,
    tabbed_pane,
    table,
    values,
    warning,
)

PRTINFO, NWINFO, JOBHISTORY = "INFO_PRTINFO", "INFO_NWINFO", "INFO_JOBHISTORY"
JOB_COLUMNS = ("Receipt No.", "Date/Time", "Completed", "Type", "Result", "Error Code", "Pages", "From", "To",
               "File Name", "Detail")
HISTORY_TYPES = (("ALL", "All"),)
SELECT_HISTORY_TYPE = "Select the job history to export."

_REFRESH = buttons(button("Refresh", element_id="BTN_REFRESH", kind="button",
                          onclick="window.location.reload(); return false;"))
_TABS_JS = (
    "var tabs=document.getElementById('tabs').getElementsByTagName('li');"
    "function showDiv(sel){for(var i=0;i<tabs.length;i++){var t=tabs[i];if(sel){t.className=(t===sel)?"
    "'tab selected':'tab';}var el=document.getElementById(t.id.replace(/-tab$/,''));"
    "el.style.display=/ selected$/.test(t.className)?'block':'none';}}showDiv(null);"
)


def product_rows(wc: WebConfig) -> list[tuple[str, str]]:
    device, identity = wc.device, wc.device.identity
    return [
        ("Device Name", device.config.device_name),
        ("Model", facts.product_name(device)),
        ("Serial Number", identity.serial),
        ("Firmware", identity.firmware),
        ("MAC Address", identity.mac),
        ("Root Certificate Version", facts.root_certificate_version(device)),
    ]


def network_status_rows(wc: WebConfig) -> list[tuple[str, str]]:
    """The status sheet's network rows, with the default gateway Web Config also shows."""
    rows = network_rows(wc.device)
    if not any(key == "Default Gateway" for key, _ in rows):
        address = ipaddress.IPv4Address(wc.device.identity.ip_address)
        gateway = "0.0.0.0" if address.is_loopback else str(ipaddress.IPv4Network(f"{address}/24", strict=False)[1])
        at = next((i + 1 for i, (key, _) in enumerate(rows) if key == "Subnet Mask"), len(rows))
        rows.insert(at, ("Default Gateway", gateway))
    return rows


def job_cells(job: Job) -> list[str]:
    row = job.row()
    return [row["Receipt No."], row["Date/Time"], row["Completed"], row["Type"], row["Result"],
            "" if job.error_code is None else str(job.error_code), row["Pages"], row["From"], row["To"],
            row["File Name"], str(getattr(job, "detail", "") or "")]


def routes(wc: WebConfig) -> list[Route]:
    async def prtinfo(request: Request) -> Response:
        pane = tabbed_pane("info-product", values(product_rows(wc)))
        return wc.render(request, "Product Status", f'<div class="section">{pane}</div>{_REFRESH}')

    async def nwinfo(request: Request) -> Response:
        panes = [("info-network", "Network", network_status_rows(wc)),
                 ("info-email", "Email Server", email_server_rows(wc.device, EMAIL_SLOT))]
        if wc.has("fax_server_email"):
            panes.append(("info-faxserver", "Fax Server", email_server_rows(wc.device, FAX_SLOT)))
        tabs = "".join(f'<li id="{pid}-tab" class="tab{" selected" if i == 0 else ""}" onclick="showDiv(this)">'
                       f"{esc(label)}</li>" for i, (pid, label, _) in enumerate(panes))
        body = (f'<div class="tabs-menu" id="tabs_menu"><ul class="tabs clearfix" id="tabs">{tabs}</ul></div>'
                + "".join(tabbed_pane(pid, values(rows)) for pid, _, rows in panes) + script(_TABS_JS))
        return wc.render(request, "Network Status", f'<div class="section">{body}</div>{_REFRESH}')

    def jobs_page(request: Request, token: str, messages: list[str]) -> Response:
        jobs = wc.device.jobs.jobs()
        listing = (table("JOB_HISTORY", JOB_COLUMNS, [job_cells(job) for job in jobs]) if jobs
                   else '<p id="JOB_HISTORY_EMPTY">No job history.</p>')
        export = form("OUTPUT.CSV", hidden("INPUTT_SETUPTOKEN", token)
                      + select_field("INPUTD_HISTORYTYPE", "Job History Type", HISTORY_TYPES, "ALL")
                      + buttons(button("Export to CSV", element_id="BTN_EXPORT_CSV")), element_id="csv_form")
        content = f'<div class="section">{warning(messages)}{listing}{export}</div>{_REFRESH}'
        return wc.render(request, "Job History", content)

    async def jobhistory(request: Request) -> Response:
        session = wc.session(request)
        if session is None:
            return wc.login_page(request, "Job History")
        return jobs_page(request, session.setup_token, [])

    async def output_csv(request: Request) -> Response:
        session = wc.session(request)
        if session is None:
            return wc.login_page(request, "Job History", next_page=page_path(JOBHISTORY))
        data = await request.form()
        if not wc.sessions.check_token(session, form_text(data, "INPUTT_SETUPTOKEN")):
            return jobs_page(request, session.setup_token, [STALE_TOKEN])
        if form_text(data, "INPUTD_HISTORYTYPE") != "ALL":
            return jobs_page(request, session.setup_token, [SELECT_HISTORY_TYPE])
        return Response(wc.device.jobs.csv(), media_type="text/csv; charset=utf-8",
                        headers={**NO_CACHE, "Content-Disposition": 'attachment; filename="JobHistory.csv"'})

    return [
        Route(page_path(PRTINFO), prtinfo, methods=["GET"]),
        Route(page_path(NWINFO), nwinfo, methods=["GET"]),
        Route(page_path(JOBHISTORY), jobhistory, methods=["GET"]),
        Route(page_path(JOBHISTORY, "OUTPUT.CSV"), output_csv, methods=["POST"]),
    ]
