"""The virtual device's job history: every job with its result and error code, on the page and as CSV."""

from __future__ import annotations

import csv
import io
import threading
import time
from dataclasses import dataclass

#: Columns of Epson's job-history CSV export (FIDELITY.md), in order.
CSV_COLUMNS: tuple[str, ...] = (
    "Receipt No.", "Date/Time", "Completed", "Type", "Result", "Pages", "From", "To",
    "Total Receipt Fax Data", "File Name", "Reference Receipt No.", "Receipt Number for Sending", "Storage",
)


def result_text(error_code: int | None, cancelled: bool = False) -> str:
    """The Result cell: ``Succeeded``, ``Canceled``, or ``Error code NNN`` (the simulator's chosen wording)."""
    if cancelled:
        return "Canceled"
    return "Succeeded" if error_code is None else f"Error code {error_code}"


@dataclass(frozen=True)
class Job:
    """One finished job."""

    receipt_no: int
    started: float
    completed: float
    type: str
    error_code: int | None
    pages: int
    sender: str
    recipient: str
    file_name: str = ""
    #: Why the job failed, e.g. the server's exact SMTP reply (shown on the page; not a CSV column).
    detail: str = ""

    @property
    def result(self) -> str:
        return result_text(self.error_code)

    def row(self) -> dict[str, str]:
        """The job as one CSV row keyed by :data:`CSV_COLUMNS`."""
        return {
            "Receipt No.": f"{self.receipt_no:04d}", "Date/Time": stamp(self.started),
            "Completed": stamp(self.completed), "Type": self.type, "Result": self.result,
            "Pages": str(self.pages), "From": self.sender, "To": self.recipient, "Total Receipt Fax Data": "",
            "File Name": self.file_name, "Reference Receipt No.": "", "Receipt Number for Sending": "",
            "Storage": "",
        }


def stamp(epoch: float) -> str:
    """Date/Time as the device prints it (its own clock, UTC in the lab)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))


class JobHistory:
    """Thread-safe, bounded (like a device's) job log with receipt numbers that only go up."""

    def __init__(self, capacity: int = 200) -> None:
        self._jobs: list[Job] = []
        self._next = 1
        self._capacity = capacity
        self._lock = threading.Lock()

    def record(self, *, started: float, completed: float, type: str, error_code: int | None, pages: int,
               sender: str, recipient: str, file_name: str = "", detail: str = "") -> Job:
        with self._lock:
            job = Job(self._next, started, completed, type, error_code, pages, sender, recipient, file_name,
                      detail)
            self._next += 1
            self._jobs.append(job)
            del self._jobs[: max(0, len(self._jobs) - self._capacity)]
            return job

    def jobs(self) -> list[Job]:
        """Newest first, as Job Status lists them."""
        with self._lock:
            return list(reversed(self._jobs))

    def last(self) -> Job | None:
        with self._lock:
            return self._jobs[-1] if self._jobs else None

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        for job in self.jobs():
            writer.writerow(job.row())
        return out.getvalue()
