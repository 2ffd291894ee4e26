"""The current test's evidence, recorded under a temporary run directory (for the evidence tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.reporting import evidence
from harness.reporting.redaction import register_secret


@contextmanager
def recording_test(run_dir: Path, nodeid: str, *secrets: str) -> Iterator[Path]:
    """Record ``nodeid``'s evidence under ``run_dir`` with ``secrets`` registered; stop recording afterwards."""
    register_secret(*secrets)
    evidence.set_run_dir(run_dir)
    evidence.start_test(nodeid)
    try:
        yield run_dir
    finally:
        evidence.finish_test()
        evidence.set_run_dir(None)
