"""One Web Config page per device, kept from test to test and logged in again whenever the device asks.

A fresh browser context per test costs a renderer, a locator-profile detection and a login, about half a second
a test; the device's state, not the browser's, is what the suites test. A test that fails leaves its context
behind (``discard``), so the next test starts from a new one.
"""

from __future__ import annotations

from contextlib import ExitStack

from playwright.sync_api import Browser

from harness.device.webconfig import WebConfig
from harness.lab.session import DeviceUnderTest
from harness.reporting.browser_evidence import watched_context


class WebConfigPages:
    """The open Web Config page of each device of this test process, in a traced context of its own."""

    def __init__(self, browser: Browser) -> None:
        self._browser = browser
        self._open: dict[str, tuple[ExitStack, WebConfig]] = {}

    def logged_in(self, device: DeviceUnderTest) -> WebConfig:
        """The device's Web Config page, logged in as administrator; a kept page logs in again when the device asks.

        No login page is loaded per test: the first page a test opens shows the login form if the session ended
        (a power cycle, a log-out), and the page objects answer it then (``admin_password``).
        """
        entry = self._open.get(device.name)
        if entry is not None and entry[1].page.is_closed():
            self.discard(device.name)
            entry = None
        if entry is None:
            stack = ExitStack()
            try:
                context = stack.enter_context(watched_context(self._browser, f"Web Config of {device.name}"))
                wc = WebConfig.detected(context.new_page(), device.webconfig_url, device.locator_profile,
                                        admin_password=device.admin_password)
                wc.session.log_in(device.admin_password)  # a wrong password fails the fixture, not a test step
            except BaseException:
                stack.close()
                raise
            entry = self._open[device.name] = (stack, wc)
        return entry[1]

    def discard(self, name: str) -> None:
        """Close the device's context (after a failed test, or at the end); the next use opens a new one."""
        entry = self._open.pop(name, None)
        if entry is not None:
            entry[0].close()

    def close(self) -> None:
        for name in list(self._open):
            self.discard(name)
