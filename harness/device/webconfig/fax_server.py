"""Fax > Fax Server > Email Server Settings (and its Sign In screen and Connection Test): the guide's §5.

The same page as Network > Email Server > Basic, for the fax server's own e-mail settings, on models with an
Internet fax server; only the profile's pages differ.
"""

from __future__ import annotations

from harness.device.webconfig.email_server import ConnectionTestPage, EmailServerPage, SignInScreen


class FaxServerPage(EmailServerPage):
    page_key = "fax_basic"
    saved_status = "fax"


class FaxSignInScreen(SignInScreen):
    page_key = "fax_signin"
    basic_page = FaxServerPage


class FaxConnectionTestPage(ConnectionTestPage):
    page_key = "fax_test"


FaxServerPage.signin_screen = FaxSignInScreen
FaxServerPage.connection_test = FaxConnectionTestPage
