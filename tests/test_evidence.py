"""Evidence of the current test: attachments redacted, hashed and kept under the run directory; measurements."""

from __future__ import annotations

import hashlib
import io
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from evidence_support import recording_test

from harness.lab.yamlfile import InventoryError
from harness.reporting import evidence
from harness.reporting.record import AttachmentKind
from harness.reporting.redaction import REDACTED

SECRET = "evidence-test-secret-3141"


@pytest.fixture
def run_dir(tmp_path: Path) -> Iterator[Path]:
    with recording_test(tmp_path, "suites/test_s3_setup.py::test_sign_in[printer-1]", SECRET) as recording:
        yield recording


def test_an_attachment_is_redacted_kept_under_the_test_and_hashed(run_dir: Path) -> None:
    entry = evidence.attach("SMTP transcript", f"AUTH XOAUTH2 ok; pw {SECRET}", AttachmentKind.SMTP_TRANSCRIPT,
                            media_type="text/plain", extension="txt")
    assert entry is not None
    path = run_dir / entry.path
    assert entry.path == "attachments/test_s3_setup-test_sign_in-printer-1/SMTP-transcript.txt"
    assert path.read_text() == f"AUTH XOAUTH2 ok; pw {REDACTED}"
    assert entry.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() and entry.size == path.stat().st_size
    again = evidence.attach("SMTP transcript", b"second", AttachmentKind.SMTP_TRANSCRIPT,
                            media_type="text/plain", extension=".txt")
    assert again is not None and again.path.endswith("SMTP-transcript-2.txt")
    kept = evidence.finish_test()
    assert kept is not None and [a.path for a in kept.attachments] == [entry.path, again.path]


def test_a_zip_given_as_a_path_is_redacted_member_by_member(run_dir: Path, tmp_path_factory: pytest.TempPathFactory
                                                            ) -> None:
    source = tmp_path_factory.mktemp("src") / "trace.zip"
    with zipfile.ZipFile(source, "w") as z:
        z.writestr("trace.network", f'{{"postData": "password={SECRET}"}}')
    entry = evidence.attach("Playwright trace", source, AttachmentKind.TRACE, media_type="application/zip",
                            extension="zip")
    assert entry is not None
    with zipfile.ZipFile(io.BytesIO((run_dir / entry.path).read_bytes())) as z:
        assert SECRET not in z.read("trace.network").decode()
    assert SECRET in zipfile.ZipFile(source).read("trace.network").decode()  # the source is left as it was


def test_outside_a_test_nothing_is_recorded() -> None:
    evidence.finish_test()
    assert evidence.attach("log", "text", AttachmentKind.LOG, media_type="text/plain", extension="txt") is None
    assert evidence.measure("sign-in time", 3.0, "s").passed


def test_measurements_take_their_limits_from_the_data_file(run_dir: Path) -> None:
    inside = evidence.measure("sign-in time", 12.5, "s")
    assert inside.high == evidence.limits()["sign-in time"].high and inside.passed and inside.description
    outside = evidence.measure("delivery latency", 10_000.0, "s")
    assert not outside.passed
    given = evidence.measure("pages", 3, "count", low=1, high=2)
    assert (given.low, given.high, given.passed) == (1, 2, False)
    with pytest.raises(ValueError, match="limits are in 's'"):
        evidence.measure("sign-in time", 1.0, "ms")
    kept = evidence.finish_test()
    assert kept is not None and [m.name for m in kept.measurements] == ["sign-in time", "delivery latency", "pages"]


def test_a_bad_limits_file_names_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "limits.yaml"
    bad.write_text("sign-in time:\n  unit: s\n  hgih: 3\n")
    with pytest.raises(InventoryError, match=r"limits.yaml: sign-in time.hgih"):
        evidence.limits(bad)


def test_marks_belong_to_the_current_test(run_dir: Path) -> None:
    assert evidence.marked(evidence.JOB_STARTED) is None
    evidence.mark(evidence.JOB_STARTED)
    first = evidence.marked(evidence.JOB_STARTED)
    evidence.mark(evidence.JOB_STARTED)
    second = evidence.marked(evidence.JOB_STARTED)
    assert first is not None and second is not None and second >= first  # the latest start counts
    evidence.finish_test()
    evidence.start_test("suites/test_sending.py::test_next[printer-1]")
    assert evidence.marked(evidence.JOB_STARTED) is None


class _DeliveredMailbox:
    """A Microsoft side whose mailbox already holds the message (the send finished before the wait)."""

    def messages(self, address: str) -> list[dict[str, str]]:
        return [{"to": address}]


def test_delivery_latency_counts_from_the_job_start_not_from_the_wait(run_dir: Path) -> None:
    from harness.lab.microsoft import wait_for_message

    evidence.current().marks[evidence.JOB_STARTED] = time.monotonic() - 5.0  # type: ignore[union-attr]
    wait_for_message(_DeliveredMailbox(), "printer@example.com", lambda _: True)  # type: ignore[arg-type]
    [latency] = evidence.current().measurements  # type: ignore[union-attr]
    assert (latency.name, latency.unit) == ("delivery latency", "s")
    assert latency.value >= 5.0  # from the job's start five seconds ago, though the wait itself was instant
