"""Progress per device and the end-of-run summary that ``epson-hil run`` prints (also works under xdist)."""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TextIO

import pytest

from harness.lab.outcomes import FailureClass


@dataclass
class DeviceTally:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    errors: int = 0
    classes: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.skipped + self.errors


def device_of(report: pytest.TestReport) -> str:
    """The device a test ran on (the plugin records it in the test's properties), or ``-``."""
    return str(dict(report.user_properties).get("device", "-"))


class DeviceProgress:
    """A pytest plugin object: one line per finished test, tagged with its device; a table at the end."""

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self.out = out
        self.tallies: dict[str, DeviceTally] = defaultdict(DeviceTally)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call" and not (report.failed or report.skipped):
            return
        if report.when == "teardown" and report.skipped:
            return
        device = device_of(report)
        tally = self.tallies[device]
        if report.passed:
            tally.passed += 1
            verdict = "PASS"
        elif report.skipped:
            tally.skipped += 1
            verdict = "SKIP"
        elif report.when == "call":
            tally.failed += 1
            verdict = "FAIL"
        else:
            tally.errors += 1
            verdict = "ERROR"
        failure = dict(report.user_properties).get("failure_class")
        if failure:
            tally.classes[str(failure)] += 1
        name = report.nodeid.split("::")[-1].split("[")[0]
        extra = f" ({failure})" if failure else ""
        print(f"[{device}] {verdict:<5} {name} {report.duration:.1f}s{extra}", file=self.out, flush=True)

    def summary(self) -> str:
        rows = [("device", "passed", "failed", "errors", "skipped", "failure classes")]
        for device, t in sorted(self.tallies.items()):
            classes = ", ".join(f"{n} {c}" for c, n in sorted(t.classes.items())) or "-"
            rows.append((device, str(t.passed), str(t.failed), str(t.errors), str(t.skipped), classes))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows)

    @property
    def ok(self) -> bool:
        return all(t.failed == 0 and t.errors == 0 for t in self.tallies.values())


__all__ = ["DeviceProgress", "DeviceTally", "FailureClass", "device_of"]
