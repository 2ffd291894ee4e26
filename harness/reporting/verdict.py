"""The sign-off verdict and the devices × guide sections matrix, both read from the run record alone."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from harness.reporting.record import ExpectedTest, Outcome, RunRecord, TestRecord

DEVICE_DEFECT = "device defect"
HARNESS_ERROR = "harness error"
LAB_INFRA = "lab infrastructure"
#: Failure classes in the order the verdict reports them; a failure with another or no class comes last.
FAILURE_CLASSES = (DEVICE_DEFECT, HARNESS_ERROR, LAB_INFRA)
#: The row of tests that ran on no device (lab-wide tests).
LAB_ROW = "(lab)"
#: How many names a reason lists before it says "and N more".
NAMES_SHOWN = 5


class Status(StrEnum):
    """What a report says of one test on one device, or of a cell of the matrix."""

    PASS = "pass"
    FAIL = "fail"
    NOT_RUN = "not run"  # expected, but no result (or skipped although the device should run it)
    SKIPPED = "skipped"  # skipped for a capability the device lacks, and not expected
    NONE = "—"  # the device has no test in that section


#: A cell's status is the worst of its tests', in this order.
_SEVERITY = (Status.FAIL, Status.NOT_RUN, Status.PASS, Status.SKIPPED, Status.NONE)


@dataclass(frozen=True)
class Verdict:
    """READY FOR SIGN-OFF (``ready``) or NOT READY with every reason."""

    ready: bool
    reasons: list[str]

    @property
    def label(self) -> str:
        return "READY FOR SIGN-OFF" if self.ready else "NOT READY"


@dataclass(frozen=True)
class Cell:
    """One device's results in one guide section: its status and how many tests had each status."""

    status: Status
    counts: dict[Status, int] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """``pass 4/4``, ``fail 1/5``, ``not run 2/5``, ``skipped 3``, or ``—``."""
        if self.status in (Status.NONE, Status.SKIPPED):
            return self.status.value if self.status is Status.NONE else f"skipped {self.counts[Status.SKIPPED]}"
        counted = sum(n for s, n in self.counts.items() if s is not Status.SKIPPED)
        return f"{self.status.value} {self.counts[self.status]}/{counted}"


@dataclass(frozen=True)
class Matrix:
    """Devices (rows) × guide sections (columns)."""

    devices: list[str]
    sections: list[str]
    cells: dict[tuple[str, str], Cell]

    def cell(self, device: str, section: str) -> Cell:
        return self.cells.get((device, section), Cell(Status.NONE))


def failure_class(test: TestRecord) -> str:
    """The test's failure class as the verdict counts it; an unknown or missing class is "unclassified"."""
    return test.failure_class if test.failure_class in FAILURE_CLASSES else "unclassified"


def statuses(record: RunRecord) -> dict[tuple[str, str | None], Status]:
    """The status of every (test, device) the record ran or expected; repeated results count their worst."""
    expected = {(e.test, e.device) for e in record.expected}
    found: dict[tuple[str, str | None], Status] = {}
    for test in record.tests:
        key = (test.test, test.device)
        status = _status(test, key in expected)
        found[key] = worst(found[key], status) if key in found else status
    for e in record.missing():
        found[(e.test, e.device)] = Status.NOT_RUN
    return found


def _status(test: TestRecord, expected: bool) -> Status:
    if test.outcome is Outcome.PASSED:
        return Status.PASS
    if test.outcome is Outcome.SKIPPED:
        return Status.NOT_RUN if expected else Status.SKIPPED
    return Status.FAIL


def worst(*found: Status) -> Status:
    return min(found, key=_SEVERITY.index)


def section_order(section: str) -> tuple[float, ...]:
    """``§3`` before ``§7``, ``§7.2`` before ``§10``; sections without a number last."""
    numbers = re.findall(r"\d+", section)
    return tuple(int(n) for n in numbers) if numbers else (float("inf"),)


def sections_of(record: RunRecord) -> list[str]:
    """Every guide section the record's tests, expected tests or claims name, in the guide's order."""
    found = {t.section for t in record.tests} | {e.section for e in record.expected}
    found |= {c.section for c in record.claims}
    return sorted((s for s in found if s), key=lambda s: (section_order(s), s))


def matrix(record: RunRecord) -> Matrix:
    """Each device's status per guide section: pass / fail / skipped (capability) / not run."""
    section_of: dict[str, str | None] = {t.test: t.section for t in record.tests}
    section_of.update({e.test: e.section for e in record.expected if e.section})
    counts: dict[tuple[str, str], Counter[Status]] = {}
    for (test, device), status in statuses(record).items():
        section = section_of.get(test)
        if section:
            counts.setdefault((device or LAB_ROW, section), Counter())[status] += 1
    devices = [d.name for d in record.devices]
    extra = sorted({device for device, _ in counts} - set(devices), key=lambda d: (d == LAB_ROW, d))
    cells = {key: Cell(worst(*c), dict(c)) for key, c in counts.items()}
    return Matrix(devices + extra, sections_of(record), cells)


def verdict(record: RunRecord) -> Verdict:
    """READY only when every expected test ran and passed and no failure of any class remains."""
    reasons: list[str] = []
    failed = [t for t in record.tests if t.outcome in (Outcome.FAILED, Outcome.ERROR)]
    by_class: dict[str, list[TestRecord]] = {}
    for test in failed:
        by_class.setdefault(failure_class(test), []).append(test)
    for cls in (*FAILURE_CLASSES, "unclassified"):
        if cls in by_class:
            tests = by_class[cls]
            noun = plural(len(tests), {DEVICE_DEFECT: "device defect", HARNESS_ERROR: "harness error",
                                        LAB_INFRA: "lab-infrastructure failure"}.get(cls, "unclassified failure"))
            reasons.append(f"{noun}: {_names(_label(t.test, t.device) for t in tests)}")
    not_run = _not_run(record)
    if not_run:
        reasons.append(f"{plural(len(not_run), 'expected test')} not run: "
                       f"{_names(_label(e.test, e.device) for e in not_run)}")
    if not record.expected:
        reasons.append("the record lists no expected tests, so the run cannot show it is complete")
    if record.finished is None:
        reasons.append("the run did not finish")
    if record.exit_status not in (None, 0) and not failed:
        reasons.append(f"the run exited with status {record.exit_status} although no test failed")
    return Verdict(not reasons, reasons)


def _not_run(record: RunRecord) -> list[ExpectedTest]:
    """Expected tests with no result or only skipped ones."""
    found = statuses(record)
    return [e for e in record.expected if found[(e.test, e.device)] is Status.NOT_RUN]


def short_test(test: str) -> str:
    """``suites/test_s3_setup.py::test_sign_in`` → ``test_sign_in``."""
    return test.rsplit("::", 1)[-1]


def _label(test: str, device: str | None) -> str:
    return f"{short_test(test)} on {device}" if device else short_test(test)


def _names(names: Iterable[str]) -> str:
    unique = list(dict.fromkeys(names))
    shown = ", ".join(unique[:NAMES_SHOWN])
    return shown if len(unique) <= NAMES_SHOWN else f"{shown} and {len(unique) - NAMES_SHOWN} more"


def plural(n: int, noun: str) -> str:
    """``1 device``, ``2 devices``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
