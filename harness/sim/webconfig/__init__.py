"""The virtual Epson device's Web Config server (advanced pages, sessions, setup tokens, forms, messages)."""

from harness.sim.webconfig.app import create_webconfig_app

__all__ = ["create_webconfig_app"]
