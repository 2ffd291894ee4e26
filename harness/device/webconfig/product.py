"""Status > Product Status: the device's identity as Web Config shows it (public, no login)."""

from __future__ import annotations

from dataclasses import dataclass

from harness.device.infopage import InfoPage, parse_info_page
from harness.device.webconfig.base import WebConfigPage
from harness.reporting.steps import step


@dataclass(frozen=True)
class ProductStatus:
    """Product Status values; ``page`` keeps every key as read."""

    device_name: str
    model: str
    serial: str
    firmware: str
    mac: str
    root_certificate_version: str
    page: InfoPage

    @property
    def values(self) -> dict[str, str]:
        return self.page.values


class ProductStatusPage(WebConfigPage):
    page_key = "product_status"

    @step("{device}: read {self.title}")
    def read(self) -> ProductStatus:
        """Open the page and read it (the template is the info-page one FIDELITY.md describes)."""
        self.open()
        self.wait_shown("values", what="the product values")
        page = parse_info_page(self.markup())
        get = page.get
        return ProductStatus(device_name=get("Device Name") or "", model=get("Model") or page.product,
                             serial=get("Serial Number") or "", firmware=get("Firmware") or "",
                             mac=get("MAC Address") or "",
                             root_certificate_version=get("Root Certificate Version") or "", page=page)
