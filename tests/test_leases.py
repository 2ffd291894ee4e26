"""Device leases on the SQLite backend: real processes race, die and pause; the heartbeat and the store's failures."""

from __future__ import annotations

import json
import os
import pickle
import selectors
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.device.errors import InfraError
from harness.lab.leases import (
    LEASES_FILE,
    Holder,
    Holding,
    Lease,
    LeaseBusy,
    LeaseLost,
    LeaseStoreError,
    SqliteLeaseStore,
)

DEADLINE = 15.0  # bound on any wait for another process or for a lease to expire; never reached when all is well

# A contender process: prints "ready", waits for "go", tries once to take the device; if it wins it holds the
# lease with its heartbeat until its stdin says anything or closes (or it is killed).
CONTENDER = r"""
import json, sys
from pathlib import Path
from harness.lab.leases import Holder, LeaseBusy, SqliteLeaseStore

path, device, ttl, run_id = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4]
store, holder = SqliteLeaseStore(path), Holder.current(run_id)
print("ready", flush=True)
sys.stdin.readline()
try:
    lease = store.acquire(device, holder, ttl)
except LeaseBusy as exc:
    print(json.dumps({"won": False, "holder_pid": exc.holder.pid, "message": str(exc)}), flush=True)
    sys.exit(0)
with lease:
    print(json.dumps({"won": True, "pid": holder.pid}), flush=True)
    sys.stdin.readline()
"""


def wait_until(condition: Callable[[], Any], what: str) -> Any:
    """Poll ``condition`` until it is truthy, failing after :data:`DEADLINE`."""
    deadline = time.monotonic() + DEADLINE
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        threading.Event().wait(0.02)
    return result


class Contender:
    """A contender process with line-wise, deadline-bounded access to its stdout."""

    def __init__(self, path: Path, device: str, ttl: float, run_id: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", CONTENDER, str(path), device, str(ttl), run_id],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        self._buffer = b""

    def line(self) -> str:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + DEADLINE
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                assert left > 0 and sel.select(left), f"contender {self.proc.pid} said nothing"
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                assert chunk, f"contender {self.proc.pid} exited with {self.proc.wait()}"
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()

    def result(self) -> dict[str, Any]:
        return json.loads(self.line())

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode() + b"\n")

    def finish(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        return self.proc.wait(timeout=DEADLINE)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / LEASES_FILE


@pytest.fixture
def store(path: Path) -> SqliteLeaseStore:
    return SqliteLeaseStore(path)


@pytest.fixture
def contenders(path: Path) -> Iterator[Callable[..., Contender]]:
    started: list[Contender] = []

    def start(device: str = "ET-5800", ttl: float = 30.0, run_id: str = "other-run") -> Contender:
        started.append(Contender(path, device, ttl, run_id))
        return started[-1]

    yield start
    for contender in started:
        if contender.proc.poll() is None:
            contender.proc.kill()
        contender.proc.wait(timeout=DEADLINE)


ME = Holder.current("this-run")
RIVAL = Holder("rival-run", "lab-host", 4242, "gw1")


def test_processes_racing_for_one_device_exactly_one_wins(contenders: Callable[..., Contender],
                                                          store: SqliteLeaseStore) -> None:
    racers = [contenders(run_id=f"run-{n}") for n in range(4)]
    for racer in racers:
        assert racer.line() == "ready"
    for racer in racers:
        racer.send("go")
    results = [racer.result() for racer in racers]
    winners = [r for r in results if r["won"]]
    assert len(winners) == 1, results
    winner_pid = winners[0]["pid"]
    for loser in (r for r in results if not r["won"]):
        assert loser["holder_pid"] == winner_pid
        assert f"pid {winner_pid}" in loser["message"] and "'ET-5800' is leased to run run-" in loser["message"]
    held = store.holders()["ET-5800"]
    assert held.holder.pid == winner_pid and held.holder.run_id.startswith("run-")
    assert all(racer.finish() == 0 for racer in racers)
    assert store.holders() == {}  # the winner released the device when its block ended


class ObservedStore(SqliteLeaseStore):
    """The real store, counting the tries that found the device busy so a test knows a wait has begun."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.busy_tries = 0
        self.waiting = threading.Event()

    def try_acquire(self, device: str, holder: Holder, ttl: float) -> Lease | Holding:
        taken = super().try_acquire(device, holder, ttl)
        if isinstance(taken, Holding):
            self.busy_tries += 1
            self.waiting.set()
        return taken


def test_a_waiting_acquire_takes_the_device_once_it_is_released(store: SqliteLeaseStore, path: Path) -> None:
    held = store.acquire("ET-5800", RIVAL, ttl=30)
    waiter = ObservedStore(path)
    got: list[Lease] = []
    thread = threading.Thread(target=lambda: got.append(waiter.acquire("ET-5800", ME, ttl=30, wait=DEADLINE)))
    thread.start()
    assert waiter.waiting.wait(DEADLINE)
    held.release()
    thread.join(DEADLINE)
    assert got and got[0].holder == ME and store.holders()["ET-5800"].holder == ME
    got[0].release()


def test_a_wait_that_runs_out_names_the_holder_after_polling(store: SqliteLeaseStore, path: Path) -> None:
    store.acquire("ET-5800", RIVAL, ttl=30)
    waiter = ObservedStore(path)
    with pytest.raises(LeaseBusy) as busy:
        waiter.acquire("ET-5800", ME, ttl=30, wait=0.3)
    assert waiter.busy_tries > 1
    assert busy.value.holder == RIVAL and busy.value.device == "ET-5800"
    message = str(busy.value)
    assert "run rival-run (host lab-host, pid 4242, worker gw1)" in message and "gave up after waiting 0.3 s" in message
    assert isinstance(busy.value, InfraError)


def test_a_killed_holders_lease_expires_and_another_takes_it(contenders: Callable[..., Contender],
                                                             store: SqliteLeaseStore) -> None:
    holder = contenders(ttl=1.0)
    assert holder.line() == "ready"
    holder.send("go")
    assert holder.result()["won"]
    with pytest.raises(LeaseBusy) as busy:
        store.acquire("ET-5800", ME, ttl=5)
    assert busy.value.holder.pid == holder.proc.pid
    holder.proc.send_signal(signal.SIGKILL)
    assert holder.proc.wait(timeout=DEADLINE) == -signal.SIGKILL
    with store.acquire("ET-5800", ME, ttl=5, wait=DEADLINE) as lease:
        assert store.holders()["ET-5800"].holder == ME and not lease.lost.is_set()


def test_the_heartbeat_keeps_a_lease_past_several_ttls(store: SqliteLeaseStore, path: Path) -> None:
    ttl = 0.5
    rival_store = SqliteLeaseStore(path)
    with store.acquire("ET-5800", ME, ttl=ttl) as lease:
        first_expiry = lease.expires_at
        while time.time() < first_expiry + 2 * ttl:
            assert not lease.lost.wait(0.05), lease.lost_reason
            with pytest.raises(LeaseBusy):
                rival_store.acquire("ET-5800", RIVAL, ttl=ttl)
        assert lease.expires_at > first_expiry + ttl  # renewed, more than once
        lease.check()
    assert store.holders() == {}


def test_renew_after_the_lease_expired_and_was_taken_raises_lease_lost(store: SqliteLeaseStore) -> None:
    mine = store.acquire("ET-5800", ME, ttl=0.1)  # no heartbeat: the lease simply runs out
    theirs = store.acquire("ET-5800", RIVAL, ttl=30, wait=DEADLINE)
    with pytest.raises(LeaseLost) as lost:
        mine.renew()
    assert lost.value.holder == RIVAL
    assert str(lost.value) == ("lease on device 'ET-5800' was lost: it expired and "
                               "run rival-run (host lab-host, pid 4242, worker gw1) took it")
    mine.release()  # a lost lease's release leaves the new holder alone
    assert store.holders()["ET-5800"].holder == RIVAL
    theirs.release()


def test_an_expired_lease_nobody_took_is_renewed(store: SqliteLeaseStore) -> None:
    lease = store.acquire("ET-5800", ME, ttl=0.1)
    wait_until(lambda: "ET-5800" not in store.holders(), "the lease to expire")
    lease.renew()
    assert store.holders()["ET-5800"].holder == ME
    lease.release()
    with pytest.raises(LeaseLost, match="no longer recorded"):
        lease.renew()


class GatedRenewals(SqliteLeaseStore):
    """The real store whose renewals wait at a gate: a heartbeat delayed past the TTL, as in a paused process."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.gate = threading.Event()

    def renew(self, lease: Lease) -> None:
        self.gate.wait(DEADLINE)
        super().renew(lease)


def test_a_heartbeat_delayed_past_the_ttl_marks_the_lease_lost(path: Path, store: SqliteLeaseStore) -> None:
    gated = GatedRenewals(path)
    with gated.acquire("ET-5800", ME, ttl=0.3) as lease:
        theirs = store.acquire("ET-5800", RIVAL, ttl=30, wait=DEADLINE)
        gated.gate.set()
        assert lease.lost.wait(DEADLINE)
        with pytest.raises(LeaseLost, match="it expired and run rival-run"):
            lease.check()
    assert store.holders()["ET-5800"].holder == RIVAL  # leaving the block did not free the rival's lease
    theirs.release()


def test_a_store_locked_until_expiry_marks_the_lease_lost(path: Path) -> None:
    store = SqliteLeaseStore(path, busy_timeout=0.1)
    with store.acquire("ET-5800", ME, ttl=0.3) as lease:
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            assert lease.lost.wait(DEADLINE)
        finally:
            blocker.rollback()
            blocker.close()
        assert lease.lost_reason is not None
        assert "could not renew it before it expired" in str(lease.lost_reason)
        assert "stayed locked by another process" in str(lease.lost_reason)


def test_one_holder_cannot_take_a_device_twice(store: SqliteLeaseStore) -> None:
    with store.acquire("ET-5800", ME, ttl=30), pytest.raises(LeaseBusy) as busy:
        store.acquire("ET-5800", ME, ttl=30)
    assert busy.value.holder == ME


def test_holders_lists_live_leases_by_device(store: SqliteLeaseStore) -> None:
    a = store.acquire("ET-5800", ME, ttl=30)
    b = store.acquire("WF-C5890", RIVAL, ttl=30)
    short = store.acquire("DS-790WN", RIVAL, ttl=0.05)
    wait_until(lambda: "DS-790WN" not in store.holders(), "the short lease to expire")
    assert {d: h.holder for d, h in store.holders().items()} == {"ET-5800": ME, "WF-C5890": RIVAL}
    for lease in (a, b, short):
        lease.release()
    assert store.holders() == {}


def test_holder_identity_names_run_host_pid_and_xdist_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    monkeypatch.setenv("PYTEST_XDIST_TESTRUNUID", "shared-uid")
    holder = Holder.current()
    assert (holder.run_id, holder.pid, holder.worker) == ("shared-uid", os.getpid(), "gw3") and holder.host
    assert Holder.current("nightly-42").run_id == "nightly-42"
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    monkeypatch.delenv("PYTEST_XDIST_TESTRUNUID")
    assert Holder.current().worker == "" and Holder.current().run_id == Holder.current().run_id


def test_lease_errors_survive_pickling_for_xdist() -> None:
    for error in (LeaseBusy("ET-5800", RIVAL, time.time() + 5, 1.0), LeaseLost("ET-5800", RIVAL),
                  LeaseStoreError("x: locked")):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and copy.args == error.args


def test_a_corrupted_database_is_a_clear_error(path: Path) -> None:
    path.parent.mkdir(parents=True)
    garbage = b"this is not an sqlite database\n" * 200
    path.write_bytes(garbage)
    store = SqliteLeaseStore(path)
    with pytest.raises(LeaseStoreError) as error:
        store.acquire("ET-5800", ME, ttl=30)
    assert isinstance(error.value, InfraError)
    assert str(error.value).startswith(f"{path}: not a usable lease database")
    assert "remove the file" in str(error.value)
    assert path.read_bytes() == garbage  # the evidence is left alone


def test_a_database_locked_too_long_is_a_clear_error_and_works_once_unlocked(path: Path) -> None:
    path.parent.mkdir(parents=True)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    store = SqliteLeaseStore(path, busy_timeout=0.2)
    try:
        with pytest.raises(LeaseStoreError, match=r"stayed locked by another process for more than 0.2 s"):
            store.acquire("ET-5800", ME, ttl=30, wait=1)
    finally:
        blocker.rollback()
        blocker.close()
    with store.acquire("ET-5800", ME, ttl=30):
        assert set(store.holders()) == {"ET-5800"}


def test_a_database_of_another_schema_version_is_refused(path: Path) -> None:
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 7")
    with pytest.raises(LeaseStoreError, match="schema version 7, this harness reads version 1"):
        SqliteLeaseStore(path).holders()


def test_nonsense_ttl_or_wait_is_refused(store: SqliteLeaseStore) -> None:
    with pytest.raises(ValueError, match="ttl must be positive"):
        store.acquire("ET-5800", ME, ttl=0)
    with pytest.raises(ValueError, match="wait must not be negative"):
        store.acquire("ET-5800", ME, ttl=1, wait=-1)
    assert store.holders() == {}


def test_the_default_file_is_in_the_lab_state_dir(tmp_path: Path) -> None:
    assert SqliteLeaseStore().path == Path(".lab") / "leases.sqlite"
    store = SqliteLeaseStore.in_state_dir(tmp_path / "lab")
    store.acquire("ET-5800", ME, ttl=30).release()
    assert (tmp_path / "lab" / "leases.sqlite").is_file()
