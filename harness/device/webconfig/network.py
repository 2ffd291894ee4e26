"""Status > Network Status: the network values and the e-mail server settings as SAVED on the device (public).

The Email Server (and Fax Server) panes carry the same rows as the printed status sheet, so they are read
with the status sheet's reader into the same typed :class:`EmailServerStatus`.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.device.infopage import parse_info_page
from harness.device.statussheet import EmailServerStatus, parse_status_sheet_text
from harness.device.webconfig.base import WebConfigPage
from harness.device.webconfig.reading import PageReading
from harness.reporting.steps import step


@dataclass(frozen=True)
class NetworkStatusView:
    """The Network pane's keys and values, and each e-mail pane as the status sheet's typed section."""

    network: dict[str, str]
    email: EmailServerStatus | None
    fax: EmailServerStatus | None
    email_values: dict[str, str]
    fax_values: dict[str, str]


class NetworkStatusPage(WebConfigPage):
    page_key = "network_status"

    @step("{device}: read {self.title}")
    def read(self) -> NetworkStatusView:
        self.open()
        panes = ("network_pane", "email_pane", "fax_pane")
        page = self.reading(*panes)
        if not page.shown("network_pane"):
            self.wait_shown("network_pane", what="the Network pane")
            page = self.reading(*panes)
        network, email, fax = (self.pane(name, page) for name in panes)
        return NetworkStatusView(network=network, email=_email_status(email), fax=_email_status(fax),
                                 email_values=email, fax_values=fax)

    def pane(self, name: str, page: PageReading | None = None) -> dict[str, str]:
        """Keys and values of one pane (hidden tabs too: they are in the page, only not displayed)."""
        html = (page or self.reading(name)).html(name)
        return parse_info_page(html).values if html else {}


def _email_status(values: dict[str, str]) -> EmailServerStatus | None:
    if not values:
        return None
    text = "Email Server Status\n" + "\n".join(f"{key} : {value}" for key, value in values.items())
    return parse_status_sheet_text(text).email
