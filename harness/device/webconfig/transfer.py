"""Device Management > Export and Import Setting Value: the settings file, to snapshot and restore a device.

The file's secrets are encrypted with the export password; sign-ins are never in it (so an import leaves a
device's saved sign-ins alone). The password is typed into the page and never logged.
"""

from __future__ import annotations

from harness.device.webconfig.base import Downloaded, WebConfigPage
from harness.reporting.steps import step


class ExportPage(WebConfigPage):
    page_key = "export"

    @step("{device}: export the settings file")
    def export(self, password: str, *, confirm: str | None = None) -> Downloaded:
        """Download the settings file encrypted with ``password``; a refusal raises, quoting the page."""
        self.open()
        self.fill("password", password)
        self.fill("confirm", password if confirm is None else confirm)
        return self.download("export")


class ImportPage(WebConfigPage):
    page_key = "import"

    @step("{device}: import a settings file")
    def import_file(self, settings: Downloaded | bytes, password: str, *,
                    filename: str = "settings.json") -> tuple[str, ...]:
        """Upload a settings file; the device validates all of it before changing anything."""
        if isinstance(settings, Downloaded):
            filename, settings = settings.filename, settings.content
        self.open()
        self.loc("file").set_input_files({"name": filename, "mimeType": "application/json", "buffer": settings},
                                         timeout=self.timeout_ms)
        self.fill("password", password)
        return self.submit("import")
