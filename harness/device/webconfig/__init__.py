"""Playwright page objects for Epson Web Config; selectors come from a locator profile (per firmware family).

``WebConfig(page, base_url, profile)`` bundles one browser page, one device and one profile::

    wc = WebConfig(page, device.webconfig, load_profile("epson-advanced"))
    wc.session.log_in(device.admin_password)
    wc.certificates.import_certificate(lab_ca_pem)
    view = wc.email_server.read()
"""

from __future__ import annotations

from playwright.sync_api import Page

from harness.device.webconfig.base import DEFAULT_TIMEOUT_MS, Downloaded, P, WebConfigPage
from harness.device.webconfig.certificates import CaCertificate, CaCertificatePage
from harness.device.webconfig.email_server import (
    ConnectionTestPage,
    ConnectionTestResult,
    EmailServerPage,
    EmailServerSettingsView,
    SignInCode,
    SignInScreen,
    SignInScreenView,
)
from harness.device.webconfig.errors import (
    LockedOut,
    LoginRefused,
    LoginRequired,
    PageNotFound,
    StaleSetupToken,
    WebConfigPageError,
    WebConfigRefused,
    WebConfigUnreachable,
)
from harness.device.webconfig.fax_server import FaxConnectionTestPage, FaxServerPage, FaxSignInScreen
from harness.device.webconfig.interface import NetworkInterfacePage
from harness.device.webconfig.jobs import JobHistoryPage
from harness.device.webconfig.network import NetworkStatusPage, NetworkStatusView
from harness.device.webconfig.product import ProductStatus, ProductStatusPage
from harness.device.webconfig.profile import LocatorProfile, default_profile, detect_profile, load_profile
from harness.device.webconfig.serverless import ServerlessSettingsPage, ServerlessUsersPage
from harness.device.webconfig.session import AdminSession, LoginPage
from harness.device.webconfig.transfer import ExportPage, ImportPage

__all__ = [
    "AdminSession",
    "CaCertificate",
    "CaCertificatePage",
    "ConnectionTestPage",
    "ConnectionTestResult",
    "Downloaded",
    "EmailServerPage",
    "EmailServerSettingsView",
    "ExportPage",
    "FaxConnectionTestPage",
    "FaxServerPage",
    "FaxSignInScreen",
    "ImportPage",
    "JobHistoryPage",
    "LocatorProfile",
    "LockedOut",
    "LoginPage",
    "LoginRefused",
    "LoginRequired",
    "NetworkInterfacePage",
    "NetworkStatusPage",
    "NetworkStatusView",
    "PageNotFound",
    "ProductStatus",
    "ProductStatusPage",
    "ServerlessSettingsPage",
    "ServerlessUsersPage",
    "SignInCode",
    "SignInScreen",
    "SignInScreenView",
    "StaleSetupToken",
    "WebConfig",
    "WebConfigPage",
    "WebConfigPageError",
    "WebConfigRefused",
    "WebConfigUnreachable",
    "default_profile",
    "detect_profile",
    "load_profile",
]


class WebConfig:
    """One device's Web Config on one browser page: a page object per page, sharing page, URL and profile."""

    def __init__(self, page: Page, base_url: str, profile: LocatorProfile | None = None, *,
                 timeout_ms: float = DEFAULT_TIMEOUT_MS, admin_password: str | None = None) -> None:
        self.page = page
        self.base_url = base_url.rstrip("/")
        self.profile = profile or default_profile()
        self.timeout_ms = timeout_ms
        #: Given, every page object logs in by itself when the device asks (:meth:`WebConfigPage.open`).
        self.admin_password = admin_password

    @classmethod
    def detected(cls, page: Page, base_url: str, configured: str | None = None, *,
                 timeout_ms: float = DEFAULT_TIMEOUT_MS, admin_password: str | None = None) -> WebConfig:
        """With the inventory's ``locator_profile`` if given, else the profile Product Status points to."""
        if configured:
            return cls(page, base_url, load_profile(configured), timeout_ms=timeout_ms, admin_password=admin_password)
        product = ProductStatusPage(page, base_url, timeout_ms=timeout_ms).read()
        return cls(page, base_url, detect_profile(product.page), timeout_ms=timeout_ms, admin_password=admin_password)

    def _make(self, cls: type[P]) -> P:
        return cls(self.page, self.base_url, self.profile, timeout_ms=self.timeout_ms,
                   admin_password=self.admin_password)

    @property
    def session(self) -> AdminSession:
        return self._make(AdminSession)

    @property
    def product(self) -> ProductStatusPage:
        return self._make(ProductStatusPage)

    @property
    def network(self) -> NetworkStatusPage:
        return self._make(NetworkStatusPage)

    @property
    def job_history(self) -> JobHistoryPage:
        return self._make(JobHistoryPage)

    @property
    def email_server(self) -> EmailServerPage:
        return self._make(EmailServerPage)

    @property
    def connection_test(self) -> ConnectionTestPage:
        return self._make(ConnectionTestPage)

    @property
    def fax_server(self) -> FaxServerPage:
        return self._make(FaxServerPage)

    @property
    def certificates(self) -> CaCertificatePage:
        return self._make(CaCertificatePage)

    @property
    def interface(self) -> NetworkInterfacePage:
        return self._make(NetworkInterfacePage)

    @property
    def serverless_settings(self) -> ServerlessSettingsPage:
        return self._make(ServerlessSettingsPage)

    @property
    def serverless_users(self) -> ServerlessUsersPage:
        return self._make(ServerlessUsersPage)

    @property
    def export(self) -> ExportPage:
        return self._make(ExportPage)

    @property
    def import_(self) -> ImportPage:
        return self._make(ImportPage)
