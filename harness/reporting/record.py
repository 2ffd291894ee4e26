"""The run record: one canonical JSON document per run (``reports/<run-id>/run.json``).

Every report (Allure environment, PDF sign-off, history and trend) is rendered from this record, never from
pytest's own output. It is written through the redaction filter, so no secret of the run reaches it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1
RECORD_NAME = "run.json"


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # the test body failed
    ERROR = "error"  # set-up or tear-down failed
    SKIPPED = "skipped"


class AttachmentKind(StrEnum):
    SCREENSHOT = "screenshot"
    PAGE_SOURCE = "page-source"
    TRACE = "playwright-trace"
    SMTP_TRANSCRIPT = "smtp-transcript"
    SIGNIN_LOG = "signin-log"
    SNMP = "snmp-readings"
    STATUS_SHEET = "status-sheet"
    JOB_HISTORY = "job-history"
    LOG = "log"
    OTHER = "other"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Attachment(_Model):
    """A file kept as evidence, relative to the run directory, with its digest."""

    name: str
    kind: AttachmentKind
    media_type: str
    path: str
    sha256: str
    size: int


class Measurement(_Model):
    """A measured value with its unit and limits, like an OpenHTF measurement; ``passed`` when within limits."""

    name: str
    value: float
    unit: str
    low: float | None = None
    high: float | None = None
    passed: bool = True
    description: str = ""


class Attempt(_Model):
    """One attempt of a test; a test retried for lab infrastructure keeps every attempt."""

    attempt: int
    outcome: Outcome
    phase: str | None = None
    failure_class: str | None = None
    message: str | None = None
    duration: float = 0.0


class TestRecord(_Model):
    """One test on one device (or on no device, for lab-wide tests)."""

    nodeid: str
    test: str  # "suites/test_s3_setup.py::test_name": the test without its device parameter
    device: str | None = None
    section: str | None = None  # the guide section, "§3"
    claims: list[str] = Field(default_factory=list)  # ids of the guide's claims the test covers
    title: str = ""  # the first line of the test's docstring
    outcome: Outcome
    skip_reason: str | None = None
    failure_class: str | None = None  # "device defect" | "harness error" | "lab infrastructure"
    phase: str | None = None  # where it failed: setup, call, teardown
    message: str | None = None  # the failure's one-line message
    device_words: str | None = None  # the device's own message (page text, panel text, SMTP reply) when known
    longrepr: str | None = None  # the failure's traceback, redacted
    attempts: list[Attempt] = Field(default_factory=list)
    started: datetime | None = None
    duration: float = 0.0
    measurements: list[Measurement] = Field(default_factory=list)
    attachments: list[Attachment] = Field(default_factory=list)


class ExpectedTest(_Model):
    """A test the run should have run on a device, given the device's capabilities."""

    test: str
    device: str
    section: str | None = None


class DeviceRecord(_Model):
    """A device as the inventory names it and as pre-flight read it."""

    name: str
    model: str
    kind: str  # "virtual" | "real"
    address: str | None = None
    serial: str | None = None
    mac: str | None = None
    firmware: str | None = None
    capabilities: list[str] = Field(default_factory=list)
    locator_profile: str | None = None
    defects: list[str] = Field(default_factory=list)  # virtual devices only


class Claim(_Model):
    """A claim or step of the vendor guide, with the tests that check it."""

    id: str
    section: str
    text: str
    tests: list[str] = Field(default_factory=list)


class RunRecord(_Model):
    """Everything known of one run."""

    schema_version: int = SCHEMA_VERSION
    run_id: str
    started: datetime
    finished: datetime | None = None
    harness_version: str
    git_revision: str | None = None
    git_dirty: bool = False
    host: str | None = None
    command: list[str] = Field(default_factory=list)
    inventory_path: str
    inventory_digest: str  # sha256 of the inventory file
    tier: str  # "builtin" | "real"
    exit_status: int | None = None
    devices: list[DeviceRecord] = Field(default_factory=list)
    tests: list[TestRecord] = Field(default_factory=list)
    expected: list[ExpectedTest] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)

    def missing(self) -> list[ExpectedTest]:
        """Expected tests with no result: gaps, never passes."""
        ran = {(t.test, t.device) for t in self.tests}
        return [e for e in self.expected if (e.test, e.device) not in ran]


def load_record(path: Path) -> RunRecord:
    """Read a run record from ``run.json`` or from the run directory holding it."""
    if path.is_dir():
        path = path / RECORD_NAME
    return RunRecord.model_validate_json(path.read_text(encoding="utf-8"))
