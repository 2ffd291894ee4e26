"""The one-host lease backend: one SQLite file in the lab state dir, shared safely by concurrent processes.

Every operation is one ``BEGIN IMMEDIATE`` transaction on its own connection: the write lock is taken before the
lease is read, so check-then-take is atomic across processes, and a heartbeat thread never shares a connection.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.lab.defaults import DEFAULT_STATE_DIR
from harness.lab.leases.base import Holder, Holding, Lease, LeaseLost, LeaseStore, LeaseStoreError

LEASES_FILE = "leases.sqlite"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS leases (
    device      TEXT PRIMARY KEY,
    token       TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    host        TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    worker      TEXT NOT NULL,
    acquired_at REAL NOT NULL,
    expires_at  REAL NOT NULL
)"""
_HOLDER_COLUMNS = "run_id, host, pid, worker"


class SqliteLeaseStore(LeaseStore):
    """Leases in an SQLite file (default ``.lab/leases.sqlite``); ``busy_timeout`` bounds each wait for its lock."""

    def __init__(self, path: Path = DEFAULT_STATE_DIR / LEASES_FILE, *, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout

    @classmethod
    def in_state_dir(cls, state_dir: Path, *, busy_timeout: float = 5.0) -> SqliteLeaseStore:
        return cls(Path(state_dir) / LEASES_FILE, busy_timeout=busy_timeout)

    def __repr__(self) -> str:
        return f"SqliteLeaseStore({str(self.path)!r})"

    def try_acquire(self, device: str, holder: Holder, ttl: float) -> Lease | Holding:
        with self._transaction() as db:
            now = time.time()
            row = db.execute(f"SELECT {_HOLDER_COLUMNS}, expires_at FROM leases WHERE device = ?",
                             (device,)).fetchone()
            if row is not None and row[4] > now:
                return Holding(device, Holder(*row[:4]), row[4])
            token = uuid.uuid4().hex
            db.execute(f"INSERT OR REPLACE INTO leases (device, token, {_HOLDER_COLUMNS}, acquired_at, expires_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (device, token, holder.run_id, holder.host, holder.pid, holder.worker, now, now + ttl))
        return Lease(self, device, holder, ttl, token, now + ttl)

    def renew(self, lease: Lease) -> None:
        with self._transaction() as db:
            now = time.time()
            row = db.execute(f"SELECT token, {_HOLDER_COLUMNS} FROM leases WHERE device = ?",
                             (lease.device,)).fetchone()
            if row is None or row[0] != lease.token:
                raise LeaseLost(lease.device, Holder(*row[1:]) if row is not None else None)
            db.execute("UPDATE leases SET expires_at = ? WHERE device = ?", (now + lease.ttl, lease.device))
        lease.expires_at = now + lease.ttl

    def release(self, lease: Lease) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM leases WHERE device = ? AND token = ?", (lease.device, lease.token))

    def holders(self) -> dict[str, Holding]:
        with self._transaction() as db:
            rows = db.execute(f"SELECT device, {_HOLDER_COLUMNS}, expires_at FROM leases WHERE expires_at > ? "
                              "ORDER BY device", (time.time(),)).fetchall()
        return {row[0]: Holding(row[0], Holder(*row[1:5]), row[5]) for row in rows}

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on a fresh connection; SQLite failures become :class:`LeaseStoreError`."""
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise self._store_error(exc) from exc
        try:
            db.execute("BEGIN IMMEDIATE")
            self._ensure_schema(db)
            yield db
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.rollback()
            raise self._store_error(exc) from exc
        except BaseException:
            if db.in_transaction:
                db.rollback()
            raise
        finally:
            db.close()

    def _ensure_schema(self, db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version != 0:
            raise LeaseStoreError(f"{self.path}: lease database schema version {version}, this harness reads "
                                  f"version {SCHEMA_VERSION}; use another lab state dir or remove the file")
        db.execute(_SCHEMA)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _store_error(self, exc: OSError | sqlite3.Error) -> LeaseStoreError:
        name = getattr(exc, "sqlite_errorname", "")
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            return LeaseStoreError(f"{self.path}: the lease database stayed locked by another process for more than "
                                   f"{self.busy_timeout:g} s; is a process stuck holding it?")
        if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
            return LeaseStoreError(f"{self.path}: not a usable lease database ({exc}); if no run is using this lab, "
                                   "remove the file (leases are short-lived and it is rebuilt)")
        return LeaseStoreError(f"{self.path}: cannot use the lease database: {exc}")
