"""Traceability from the guide to the tests: the error codes 360/361/370 and each claim, with each covering test's
status per device. Read from the run record alone."""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.device.jobs import default_error_codes
from harness.reporting.record import Claim, RunRecord
from harness.reporting.verdict import Status, short_test, statuses


@dataclass(frozen=True)
class Coverage:
    """One covering test and its status on each device (``Status.NONE`` where the device has no such test)."""

    test: str
    on: dict[str, Status]


@dataclass(frozen=True)
class Row:
    """A claim (or an error code) and the tests that cover it; ``uncovered`` when no test does."""

    key: str
    section: str
    text: str
    tests: list[Coverage]

    @property
    def uncovered(self) -> bool:
        return not self.tests


@dataclass(frozen=True)
class Traceability:
    devices: list[str]
    error_codes: list[Row]
    claims: list[Row]


def traceability(record: RunRecord) -> Traceability:
    """The error codes first, then the claims in the record's order."""
    found = statuses(record)
    known = list(dict.fromkeys(test for test, _ in found))
    devices = list(dict.fromkeys([d.name for d in record.devices] + [d or "(lab)" for _, d in found]))

    def coverage(tests: list[str]) -> list[Coverage]:
        return [Coverage(t, {d: found.get((t, None if d == "(lab)" else d), Status.NONE) for d in devices})
                for t in dict.fromkeys(tests)]

    claims = [Row(c.id, c.section, c.text, coverage(_covering(c, record, known))) for c in record.claims]
    codes = []
    for code, entry in sorted(default_error_codes().codes.items()):
        word = re.compile(rf"(?<!\d){code}(?!\d)")
        tests = [t for t in known if word.search(short_test(t))]
        for claim in record.claims:
            if word.search(claim.id) or word.search(claim.text):
                tests += _covering(claim, record, known)
        codes.append(Row(str(code), "§7", f"{entry.status} Fix: {entry.fix}", coverage(tests)))
    return Traceability(devices, codes, claims)


def _covering(claim: Claim, record: RunRecord, known: list[str]) -> list[str]:
    """The tests the claim names (by full id or by function name) and the tests whose record names the claim."""
    named = set(claim.tests)
    listed = [t for t in known if t in named or short_test(t) in named]
    listed += [t for t in claim.tests if t not in listed and not any(short_test(k) == t for k in known)]
    listed += [t.test for t in record.tests if claim.id in t.claims]
    return list(dict.fromkeys(listed))
