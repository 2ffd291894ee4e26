"""A device's job history (the Job History page or its CSV export) as typed jobs, and the job error codes.

The error-code table (360/361/370 with the guide's status and fix texts, §7) and the pattern that finds a
code in a job's Result cell live in ``fixtures/error-codes.yaml``; a firmware family whose devices word or
number them differently gets a section there (or an override file) that replaces or adds codes. Columns are
found by their header names, never by position, so a firmware that adds or reorders columns still reads.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from harness.device.errors import DeviceError
from harness.device.htmltree import Element, parse_html
from harness.lab.yamlfile import InventoryError, load_yaml, validate

__all__ = [
    "DEFAULT_ERROR_CODES", "ErrorCode", "ErrorCodeTable", "Job", "JobHistoryFormatError", "UnknownErrorCode",
    "default_error_codes", "explain", "firmware_family", "load_error_codes", "parse_jobs_csv", "parse_jobs_page",
]

DEFAULT_ERROR_CODES = Path(__file__).resolve().parents[2] / "fixtures" / "error-codes.yaml"

# Column headers: Epson's CSV columns (FIDELITY.md); Error Code and Detail are extra columns a page may show.
RECEIPT_NO, DATE_TIME, COMPLETED, TYPE, RESULT = "Receipt No.", "Date/Time", "Completed", "Type", "Result"
PAGES, FROM, TO, FILE_NAME, ERROR_CODE, DETAIL = "Pages", "From", "To", "File Name", "Error Code", "Detail"
#: Columns without which a table is not a job history.
REQUIRED_COLUMNS = (RECEIPT_NO, RESULT)
#: How devices print Date/Time and Completed (their own clock, no zone).
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%m/%d/%Y %H:%M:%S",
                "%m/%d/%Y %H:%M")
_EMPTY_HISTORY = re.compile(r"(?i)\bno (?:job history|jobs?)\b")
#: ``07.59.LW14NB``: the family is the two letters that start the build code.
_FIRMWARE = re.compile(r"^\d{2}\.\d{2}\.(?P<family>[A-Z]{2})\d{2}[A-Z][0-9A-C]$")


class JobHistoryFormatError(DeviceError):
    """The page or CSV is not a job history the reader understands (no such table, columns missing)."""


class UnknownErrorCode(KeyError):
    """A code the error-code table does not list."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown error code"


@dataclass(frozen=True)
class ErrorCode:
    """One job error code: what the device's status text says and how the guide says to fix it."""

    code: int
    status: str
    fix: str


@dataclass(frozen=True)
class Job:
    """One job of the history; ``columns`` keeps every cell as read, by its header."""

    receipt_no: int | None
    started: datetime | None
    completed: datetime | None
    type: str
    result: str
    error_code: int | None
    pages: int | None
    sender: str
    recipient: str
    file_name: str = ""
    detail: str = ""
    columns: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def failed(self) -> bool:
        return self.error_code is not None


# --- the error-code table ---------------------------------------------------------------------------------
class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    status: str = Field(min_length=1)
    fix: str = Field(min_length=1)


class _Override(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    result_pattern: str | None = None
    codes: dict[int, _Entry] = Field(default_factory=dict)

    @field_validator("result_pattern")
    @classmethod
    def _pattern(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            compiled = re.compile(v)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        if "code" not in compiled.groupindex:
            raise ValueError("the pattern needs a named group (?P<code>...)")
        return v


class _TableFile(_Override):
    result_pattern: str
    families: dict[str, _Override] = Field(default_factory=dict)


@dataclass(frozen=True)
class ErrorCodeTable:
    """Error codes by number and the pattern that finds a code in a Result cell; ``family`` it was made for."""

    codes: dict[int, ErrorCode]
    result_pattern: re.Pattern[str]
    family: str | None = None

    def get(self, code: int) -> ErrorCode | None:
        return self.codes.get(code)

    def explain(self, code: int) -> ErrorCode:
        """The status and fix of ``code``; :class:`UnknownErrorCode` names the codes the table knows."""
        entry = self.codes.get(code)
        if entry is None:
            known = ", ".join(str(c) for c in sorted(self.codes))
            family = f" (firmware family {self.family})" if self.family else ""
            raise UnknownErrorCode(f"error code {code} is not in the table{family}; it knows {known}")
        return entry

    def code_in(self, result: str) -> int | None:
        """The error code a Result cell shows (``Error code 370``), or None."""
        match = self.result_pattern.search(result)
        return int(match["code"]) if match else None

    def overridden(self, override: _Override, family: str | None = None) -> ErrorCodeTable:
        codes = dict(self.codes)
        codes.update({n: ErrorCode(n, e.status, e.fix) for n, e in override.codes.items()})
        pattern = re.compile(override.result_pattern) if override.result_pattern else self.result_pattern
        return ErrorCodeTable(codes, pattern, family or self.family)


def load_error_codes(path: Path = DEFAULT_ERROR_CODES, *, family: str | None = None,
                     override: Path | None = None) -> ErrorCodeTable:
    """The table of ``path``, with ``family``'s section and then the ``override`` file applied.

    A family the file has no section for gets the base table (most families word codes the same).
    Errors name the file and the key (:class:`~harness.lab.yamlfile.InventoryError`).
    """
    data = validate(_TableFile, _mapping(load_yaml(path), path), path)
    table = ErrorCodeTable({n: ErrorCode(n, e.status, e.fix) for n, e in data.codes.items()},
                           re.compile(data.result_pattern), family)
    if family is not None and family in data.families:
        table = table.overridden(data.families[family], family)
    if override is not None:
        table = table.overridden(validate(_Override, _mapping(load_yaml(override), override), override), family)
    return table


def _mapping(data: object, path: Path) -> object:
    if not isinstance(data, dict):
        raise InventoryError(f"{path}: (top level): expected a mapping with 'result_pattern:' and 'codes:'")
    return data


@cache
def default_error_codes(family: str | None = None) -> ErrorCodeTable:
    """The shipped table (read once per family)."""
    return load_error_codes(family=family)


def explain(code: int, family: str | None = None) -> ErrorCode:
    """Status and fix of ``code`` from the shipped table (for ``family``'s firmware if given)."""
    return default_error_codes(family).explain(code)


def firmware_family(firmware: str) -> str | None:
    """``07.59.LW14NB`` → ``LW``; None when the version is not shaped like Epson's."""
    match = _FIRMWARE.match(firmware.strip())
    return match["family"] if match else None


# --- reading jobs ---------------------------------------------------------------------------------------------
def parse_jobs_csv(data: str | bytes, table: ErrorCodeTable | None = None) -> list[Job]:
    """The jobs of a job-history CSV export, in file order (devices write the newest first)."""
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.removeprefix("\ufeff")
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not rows:
        raise JobHistoryFormatError("the job-history CSV is empty (not even a header row)")
    return _jobs(rows[0], rows[1:], table or default_error_codes(), "CSV")


def parse_jobs_page(html: str, table: ErrorCodeTable | None = None) -> list[Job]:
    """The jobs listed on the Job History page, in page order; an empty history gives no jobs."""
    root = parse_html(html)
    for candidate in root.find_all("table"):
        rows = [[cell.text() for cell in row.children if isinstance(cell, Element) and cell.tag in ("td", "th")]
                for row in _rows(candidate)]
        rows = [row for row in rows if row]
        if rows and all(column in rows[0] for column in REQUIRED_COLUMNS):
            return _jobs(rows[0], rows[1:], table or default_error_codes(), "page")
    if any(e.attrs.get("name") == "INPUTT_PASSWORD" for e in root.find_all("input")):
        raise JobHistoryFormatError("the Job History page shows the administrator login form: log in first")
    if _EMPTY_HISTORY.search(root.text()):
        return []
    raise JobHistoryFormatError(f"no job-history table (a header row with {', '.join(REQUIRED_COLUMNS)}) on the page")


def _rows(table: Element) -> list[Element]:
    """The table's own rows (not those of a table nested in a cell)."""
    nested = {id(row) for inner in table.find_all("table") for row in inner.find_all("tr")}
    return [row for row in table.find_all("tr") if id(row) not in nested]


def _jobs(header: list[str], rows: list[list[str]], table: ErrorCodeTable, source: str) -> list[Job]:
    names = [" ".join(h.split()) for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise JobHistoryFormatError(f"the job-history {source} has no column {', '.join(missing)} "
                                    f"(columns: {', '.join(names)})")
    return [_job(dict(zip(names, [c.strip() for c in row], strict=False)), table) for row in rows]


def _job(cells: dict[str, str], table: ErrorCodeTable) -> Job:
    result = cells.get(RESULT, "")
    code = table.code_in(result)
    if code is None and cells.get(ERROR_CODE, "").isdigit():
        code = int(cells[ERROR_CODE])
    return Job(
        receipt_no=_int(cells.get(RECEIPT_NO, "")), started=_time(cells.get(DATE_TIME, "")),
        completed=_time(cells.get(COMPLETED, "")), type=cells.get(TYPE, ""), result=result, error_code=code,
        pages=_int(cells.get(PAGES, "")), sender=cells.get(FROM, ""), recipient=cells.get(TO, ""),
        file_name=cells.get(FILE_NAME, ""), detail=cells.get(DETAIL, ""), columns=cells,
    )


def _int(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


def _time(text: str) -> datetime | None:
    text = " ".join(text.split())
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None
