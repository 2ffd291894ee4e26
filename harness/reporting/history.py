"""The run history: every run record appended to one SQL store (SQLite by default, PostgreSQL for shared labs).

Two portable tables: ``runs`` (one row per run id, with the counts a verdict rests on) and ``results`` (one row
per test and device, expected tests that did not run included as ``missing``). Only names, outcomes, classes
and durations are kept: no messages, so nothing a test printed can reach the history.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, Text, create_engine, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload

from harness.reporting.record import Outcome, RunRecord

DEFAULT_REPORTS_DIR = Path("reports")
HISTORY_NAME = "history.sqlite"
#: The outcome stored for an expected test that did not run: a gap, never a pass.
MISSING = "missing"
#: Outcomes that count against the pass rate (skipped tests count neither way).
BAD_OUTCOMES = frozenset({Outcome.FAILED.value, Outcome.ERROR.value, MISSING})


class _Base(DeclarativeBase):
    pass


class RunRow(_Base):
    __tablename__ = "runs"

    run_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    started: Mapped[datetime] = mapped_column(DateTime(), index=True)  # UTC, stored naive for portability
    finished: Mapped[datetime | None] = mapped_column(DateTime())
    harness_version: Mapped[str] = mapped_column(String(64))
    git_revision: Mapped[str | None] = mapped_column(String(64))
    host: Mapped[str | None] = mapped_column(String(255))
    tier: Mapped[str] = mapped_column(String(32))
    passed: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    errors: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[int] = mapped_column(Integer)
    missing: Mapped[int] = mapped_column(Integer)
    duration: Mapped[float] = mapped_column(Float)
    results: Mapped[list[ResultRow]] = relationship(back_populates="run", cascade="all, delete-orphan",
                                                    order_by="ResultRow.id")


class ResultRow(_Base):
    __tablename__ = "results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"), index=True)
    test: Mapped[str] = mapped_column(Text)
    device: Mapped[str | None] = mapped_column(String(200))
    section: Mapped[str | None] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))
    failure_class: Mapped[str | None] = mapped_column(String(32))
    duration: Mapped[float] = mapped_column(Float)
    run: Mapped[RunRow] = relationship(back_populates="results")


@dataclass(frozen=True)
class HistoryResult:
    """One test on one device in one run, as the history keeps it."""

    test: str
    device: str | None
    section: str | None
    outcome: str
    failure_class: str | None
    duration: float

    @property
    def key(self) -> tuple[str, str | None]:
        return self.test, self.device


@dataclass(frozen=True)
class HistoryRun:
    """One run of the history with its results."""

    run_id: str
    started: datetime
    finished: datetime | None
    harness_version: str
    git_revision: str | None
    host: str | None
    tier: str
    passed: int
    failed: int
    errors: int
    skipped: int
    missing: int
    duration: float
    results: tuple[HistoryResult, ...]


@dataclass(frozen=True)
class History:
    """The runs started within the last ``days`` days, oldest first."""

    runs: tuple[HistoryRun, ...]
    days: int


def history_url(url: str | None, reports_dir: Path = DEFAULT_REPORTS_DIR) -> str:
    """The database URL to use: ``url`` as given, or the SQLite file ``history.sqlite`` in ``reports_dir``."""
    if url:
        return url
    return f"sqlite:///{(reports_dir / HISTORY_NAME).resolve()}"


def append_run(record: RunRecord, url: str | None = None, reports_dir: Path = DEFAULT_REPORTS_DIR) -> None:
    """Add a run to the history; appending a run id again replaces that run, so appending is idempotent."""
    engine = _engine(history_url(url, reports_dir))
    try:
        with Session(engine) as session, session.begin():
            existing = session.get(RunRow, record.run_id)
            if existing is not None:
                session.delete(existing)
                session.flush()
            session.add(_run_row(record))
    finally:
        engine.dispose()


def load_history(url: str | None, days: int, reports_dir: Path = DEFAULT_REPORTS_DIR,
                 now: datetime | None = None) -> History:
    """The runs started in the ``days`` days before ``now`` (default: the current time), oldest first."""
    cutoff = _to_utc_naive(now or datetime.now(UTC)) - timedelta(days=days)
    engine = _engine(history_url(url, reports_dir))
    try:
        with Session(engine) as session:
            rows = session.scalars(
                select(RunRow).where(RunRow.started >= cutoff).order_by(RunRow.started, RunRow.run_id)
                .options(selectinload(RunRow.results))
            ).all()
            return History(runs=tuple(_history_run(row) for row in rows), days=days)
    finally:
        engine.dispose()


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    _Base.metadata.create_all(engine)
    return engine


def _to_utc_naive(moment: datetime) -> datetime:
    """UTC without tzinfo, which SQLite and PostgreSQL store alike; a naive time is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _run_duration(record: RunRecord) -> float:
    if record.finished is not None:
        return max(0.0, (_to_utc_naive(record.finished) - _to_utc_naive(record.started)).total_seconds())
    return sum(t.duration for t in record.tests)


def _run_row(record: RunRecord) -> RunRow:
    results = [ResultRow(test=t.test, device=t.device, section=t.section, outcome=t.outcome.value,
                         failure_class=t.failure_class, duration=t.duration) for t in record.tests]
    results += [ResultRow(test=e.test, device=e.device, section=e.section, outcome=MISSING, failure_class=None,
                          duration=0.0) for e in record.missing()]
    counts = Counter(r.outcome for r in results)
    return RunRow(
        run_id=record.run_id,
        started=_to_utc_naive(record.started),
        finished=_to_utc_naive(record.finished) if record.finished else None,
        harness_version=record.harness_version,
        git_revision=record.git_revision,
        host=record.host,
        tier=record.tier,
        passed=counts[Outcome.PASSED.value],
        failed=counts[Outcome.FAILED.value],
        errors=counts[Outcome.ERROR.value],
        skipped=counts[Outcome.SKIPPED.value],
        missing=counts[MISSING],
        duration=_run_duration(record),
        results=results,
    )


def _history_run(row: RunRow) -> HistoryRun:
    return HistoryRun(
        run_id=row.run_id,
        started=row.started.replace(tzinfo=UTC),
        finished=row.finished.replace(tzinfo=UTC) if row.finished else None,
        harness_version=row.harness_version,
        git_revision=row.git_revision,
        host=row.host,
        tier=row.tier,
        passed=row.passed,
        failed=row.failed,
        errors=row.errors,
        skipped=row.skipped,
        missing=row.missing,
        duration=row.duration,
        results=tuple(HistoryResult(test=r.test, device=r.device, section=r.section, outcome=r.outcome,
                                    failure_class=r.failure_class, duration=r.duration) for r in row.results),
    )
