"""Status > Job History: the page's table and its CSV export, read into typed jobs (``harness.device.jobs``)."""

from __future__ import annotations

from harness.device.jobs import ErrorCodeTable, Job, parse_jobs_csv, parse_jobs_page
from harness.device.webconfig.base import Downloaded, WebConfigPage
from harness.reporting import evidence
from harness.reporting.record import AttachmentKind
from harness.reporting.steps import step


class JobHistoryPage(WebConfigPage):
    page_key = "job_history"

    @step("{device}: read {self.title}")
    def jobs(self, table: ErrorCodeTable | None = None) -> list[Job]:
        """The jobs the page lists (newest first, as devices show them)."""
        self.open()
        self.wait_shown("export_csv", what="the job history")
        return parse_jobs_page(self.markup(), table)

    @step("{device}: export {self.title} as CSV")
    def export_csv(self, *, reload: bool = True) -> Downloaded:
        """Download the CSV through the page's own export form (history type: all).

        ``reload`` False uses the page as it stands (right after :meth:`jobs`): the CSV comes from the device
        whatever the page showed.
        """
        if reload:
            self.open()
        self.select("history_type", self.options("history_type")[0])
        exported = self.download("export_csv")
        evidence.attach(f"job history CSV ({exported.filename})", exported.content, AttachmentKind.JOB_HISTORY,
                        media_type="text/csv", extension="csv")
        return exported

    def csv_jobs(self, table: ErrorCodeTable | None = None, *, reload: bool = True) -> list[Job]:
        return parse_jobs_csv(self.export_csv(reload=reload).content, table)
