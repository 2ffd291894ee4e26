"""Evidence for the current test: attachments (redacted, hashed, kept in the run directory) and measurements.

The plugin opens a :class:`TestEvidence` around each test (:func:`start_test` / :func:`finish_test`), so harness
code at any depth (``harness.device``, ``harness.lab``) calls :func:`attach` or :func:`measure` without a
fixture. Outside a test, both still reach Allure (redacted) but are recorded nowhere.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import allure
from pydantic import BaseModel, ConfigDict

from harness.lab.yamlfile import load_yaml, validate
from harness.reporting.record import Attachment, AttachmentKind, Measurement
from harness.reporting.redaction import redactor

ATTACHMENTS_DIR = "attachments"
#: The event a panel notes when it starts a send job; delivery latency counts from it.
JOB_STARTED = "job started"
#: Where measurements' limits live when a call does not give them.
LIMITS_FILE = Path(__file__).resolve().parents[2] / "fixtures" / "measurement-limits.yaml"

__all__ = ["ATTACHMENTS_DIR", "JOB_STARTED", "TestEvidence", "attach", "current", "finish_test", "last_said", "mark",
           "marked", "measure", "said", "set_run_dir", "start_test"]


@dataclass
class TestEvidence:
    """What one test kept: attachments under ``<run_dir>/attachments/<slug>/`` and measurements."""

    nodeid: str
    slug: str
    attachments: list[Attachment] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    marks: dict[str, float] = field(default_factory=dict)  # event -> time.monotonic() it last happened
    said: dict[str, str] = field(default_factory=dict)  # where the device showed it -> its latest words there


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.run_dir: Path | None = None
        self.test: TestEvidence | None = None


_STATE = _State()


def slug(text: str, limit: int = 120) -> str:
    """A file-name-safe form of ``text`` (a node id, an attachment name)."""
    text = text.replace(".py::", "-").replace("::", "-")
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:limit] or "evidence"


def set_run_dir(run_dir: Path | None) -> None:
    """Where this process keeps evidence (``--report-dir``); None keeps none on disk."""
    with _STATE.lock:
        _STATE.run_dir = Path(run_dir) if run_dir is not None else None


def start_test(nodeid: str) -> TestEvidence:
    """Begin collecting evidence for the test ``nodeid`` (the plugin calls this)."""
    evidence = TestEvidence(nodeid, slug(nodeid.split("/")[-1]))
    with _STATE.lock:
        _STATE.test = evidence
    return evidence


def finish_test() -> TestEvidence | None:
    """Stop collecting and return what the test kept (the plugin calls this)."""
    with _STATE.lock:
        evidence, _STATE.test = _STATE.test, None
    return evidence


def current() -> TestEvidence | None:
    """The evidence of the test running now, if any."""
    return _STATE.test


def mark(event: str) -> None:
    """Note that ``event`` (e.g. "job started") happened now, so a later measurement can count from it."""
    with _STATE.lock:
        if _STATE.test is not None:
            _STATE.test.marks[event] = time.monotonic()


def marked(event: str) -> float | None:
    """When (``time.monotonic()``) ``event`` last happened in the current test; None if it did not."""
    with _STATE.lock:
        return _STATE.test.marks.get(event) if _STATE.test is not None else None


def said(where: str, lines: Iterable[str]) -> None:
    """Note what the device just showed at ``where`` (a Web Config message, a panel screen): a failure that
    follows quotes it as the device's own words."""
    text = " | ".join(line.strip() for line in lines if line.strip())
    with _STATE.lock:
        if _STATE.test is not None and text:
            _STATE.test.said.pop(where, None)
            _STATE.test.said[where] = text


def last_said(places: int = 3) -> str | None:
    """The device's latest words in the current test at each of the last ``places`` places it showed any, newest
    first: a test's clean-up (re-importing a certificate, say) may read the device after the failing reading."""
    with _STATE.lock:
        said = list(_STATE.test.said.items()) if _STATE.test is not None else []
    return "\n".join(f"{where} showed: {text}" for where, text in reversed(said[-places:])) or None


def attach(name: str, content: bytes | str | Path, kind: AttachmentKind, *, media_type: str,
           extension: str) -> Attachment | None:
    """Keep ``content`` as evidence of the current test, redacted (zip archives member by member).

    With a run directory it is written under ``attachments/<test>/`` with its SHA-256 and recorded on the test;
    either way it is attached to Allure. Returns the record entry, or None when nothing was kept on disk.
    """
    with _STATE.lock:
        run_dir, test = _STATE.run_dir, _STATE.test
    extension = extension.lstrip(".")
    if run_dir is None or test is None:
        with tempfile.TemporaryDirectory(prefix="evidence-") as tmp:
            path = _write_redacted(content, Path(tmp) / f"{slug(name)}.{extension}")
            allure.attach.file(str(path), name=name, attachment_type=media_type, extension=extension)
        return None
    folder = run_dir / ATTACHMENTS_DIR / test.slug
    folder.mkdir(parents=True, exist_ok=True)
    path = _write_redacted(content, _free_path(folder, slug(name), extension))
    data = path.read_bytes()
    entry = Attachment(name=name, kind=kind, media_type=media_type, path=path.relative_to(run_dir).as_posix(),
                       sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    with _STATE.lock:
        test.attachments.append(entry)
    allure.attach.file(str(path), name=name, attachment_type=media_type, extension=extension)
    return entry


def _free_path(folder: Path, stem: str, extension: str) -> Path:
    path, n = folder / f"{stem}.{extension}", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}.{extension}"
    return path


def _write_redacted(content: bytes | str | Path, dest: Path) -> Path:
    """Write ``content`` to ``dest`` with every secret removed; zip archives are rewritten member by member."""
    if isinstance(content, Path):
        shutil.copyfile(content, dest)
    else:
        dest.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    if zipfile.is_zipfile(dest):
        redactor().redact_zip(dest)
    else:
        redactor().redact_file(dest)
    return dest


class Limit(BaseModel):
    """A measurement's limits in ``fixtures/measurement-limits.yaml``."""

    model_config = ConfigDict(extra="forbid")

    unit: str
    low: float | None = None
    high: float | None = None
    description: str = ""


@cache
def limits(path: Path = LIMITS_FILE) -> dict[str, Limit]:
    """The measurement limits by measurement name (errors name the file and the key)."""
    data = load_yaml(path) or {}
    return {name: validate(Limit, spec, path, prefix=str(name)) for name, spec in dict(data).items()}


def measure(name: str, value: float, unit: str, *, low: float | None = None, high: float | None = None,
            description: str = "") -> Measurement:
    """Record a measured value on the current test; limits not given come from the limits file."""
    known = limits().get(name)
    if known is not None and low is None and high is None:
        if known.unit != unit:
            raise ValueError(f"{LIMITS_FILE}: {name}: limits are in {known.unit!r}, measured in {unit!r}")
        low, high = known.low, known.high
    description = description or (known.description if known else "")
    passed = (low is None or value >= low) and (high is None or value <= high)
    measurement = Measurement(name=name, value=round(float(value), 6), unit=unit, low=low, high=high,
                              passed=passed, description=description)
    with _STATE.lock:
        if _STATE.test is not None:
            _STATE.test.measurements.append(measurement)
    return measurement
