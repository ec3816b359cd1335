"""Many writers at once on one database file: 16 threads issuing and 8 threads calling "next" together.

Each thread has its own Store (its own SQLite connection) on the file, or, in the second variant, all threads
share one Store. The threads start together behind a barrier. Afterwards: numbers unique and gap-free per range
and day, every acknowledged ticket present with its code, each ticket called exactly once (no two callers got
one ticket), the daily cap held, and the invariant checker of storecheck.py passes.
"""
from __future__ import annotations

import random
import threading
import time
from collections import Counter as Tally
from datetime import datetime, timedelta, timezone

import pytest

from queue_server.core.errors import DomainError
from queue_server.store import Store
from storecheck import check_invariants, config_data, config_variant

ISSUERS, CALLERS, PER_ISSUER = 16, 8, 25
START = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)  # Wednesday 09:00 local, inside every window
# Weighted choice of services: two share the police range 1001-1999, civil has A001-A999, records is capped at 4.
SERVICES = ["cccd", "cccd", "passport", "civil", "civil", "records"]
EXTRA_COUNTERS = [
    {"id": "6", "number": 6, "department": "police", "services": ["cccd", "passport"]},
    {"id": "7", "number": 7, "department": "police", "services": ["passport", "cccd"], "policy": "order"},
    {"id": "8", "number": 8, "department": "justice", "services": ["civil"]},
    {"id": "9", "number": 9, "department": "police", "services": ["cccd", "civil"]},
]
CALLER_COUNTERS = ["1", "2", "3", "5", "6", "7", "8", "9"]


class RunningClock:
    """Real elapsed time, starting on Wednesday 09:00 local (thread-safe: it only reads the monotonic clock)."""

    def __init__(self):
        self.t0 = time.monotonic()

    def __call__(self) -> datetime:
        return START + timedelta(seconds=time.monotonic() - self.t0)


@pytest.fixture
def load_config():
    return config_variant(counters=config_data()["counters"] + EXTRA_COUNTERS)


def run_load(stores: list[Store]) -> dict:
    """Run the issuers and callers on `stores` (one per thread, possibly the same object); return what they saw."""
    assert len(stores) == ISSUERS + CALLERS
    barrier = threading.Barrier(ISSUERS + CALLERS)
    lock = threading.Lock()
    issued: list[tuple[int, str, str]] = []
    called: list[list[int]] = [[] for _ in range(CALLERS)]
    refusals: Tally = Tally()
    errors: list[str] = []
    issuing = [ISSUERS]

    def issuer(i: int, store: Store) -> None:
        rnd = random.Random(i)
        try:
            barrier.wait(timeout=30)
            for _ in range(PER_ISSUER):
                service = rnd.choice(SERVICES)
                try:
                    r = store.issue(service, priority=rnd.random() < 0.1)
                except DomainError as e:
                    with lock:
                        refusals[e.code] += 1
                    continue
                with lock:
                    issued.append((r.ticket["id"], r.ticket["code"], r.ticket["seq_key"]))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(f"issuer {i}: {type(e).__name__}: {e}")
        finally:
            with lock:
                issuing[0] -= 1

    def caller(j: int, store: Store, counter: str) -> None:
        rnd = random.Random(100 + j)
        deadline = time.monotonic() + 60
        try:
            barrier.wait(timeout=30)
            while time.monotonic() < deadline:
                with lock:
                    issuers_done = issuing[0] == 0
                try:
                    r = store.call_next(counter)
                except DomainError as e:
                    assert e.code == "nothing_waiting", e.code
                    if issuers_done:  # nothing waits and nothing more will come
                        return
                    time.sleep(0.01)
                    continue
                assert not r.repeated
                t = r.ticket
                assert t["status"] == "called" and t["counter_id"] == counter
                called[j].append(t["id"])
                if rnd.random() < 0.5:
                    store.finish(t["id"], counter)
            errors.append(f"caller {j}: still calling after 60 s")
        except BaseException as e:  # noqa: BLE001
            errors.append(f"caller {j}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=issuer, args=(i, stores[i]), name=f"issuer-{i}") for i in range(ISSUERS)]
    threads += [threading.Thread(target=caller, args=(j, stores[ISSUERS + j], CALLER_COUNTERS[j]), name=f"caller-{j}")
                for j in range(CALLERS)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    assert not errors, "\n".join(errors)
    return {"issued": issued, "called": called, "refusals": refusals, "seconds": time.monotonic() - t0}


def check_outcome(path, config, seen: dict) -> None:
    import sqlite3

    conn = sqlite3.connect(str(path))
    conn.row_factory = sqlite3.Row
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        check_invariants(conn, config)  # unique, gap-free numbers; log == table; one ticket per counter
        rows = {r["id"]: dict(r) for r in conn.execute("SELECT * FROM tickets")}
        issued = seen["issued"]
        # nothing lost: every acknowledged ticket is there with its code, and nothing else
        assert len(issued) == len({i for i, _, _ in issued}) == len(rows)
        assert all(rows[i]["code"] == code for i, code, _ in issued)
        attempts = ISSUERS * PER_ISSUER
        assert len(issued) + sum(seen["refusals"].values()) == attempts
        assert set(seen["refusals"]) <= {"service_full"}, seen["refusals"]
        # the daily cap held under contention: exactly 4 records tickets
        assert sum(1 for r in rows.values() if r["service_id"] == "records") == 4
        # numbers unique and gap-free per range (also checked above, stated here plainly)
        per_range: dict[str, list[int]] = {}
        for r in rows.values():
            per_range.setdefault(r["seq_key"], []).append(r["number"])
        for key, numbers in per_range.items():
            numbering = dict(config.numbering_of(s) for s in config.services())[key]
            assert sorted(numbers) == list(range(numbering.start, numbering.start + len(numbers))), key
        # each ticket called exactly once: by one caller, with one "called" event (recalls aside)
        all_called = [t for ids in seen["called"] for t in ids]
        assert len(all_called) == len(set(all_called)), "two callers got the same ticket"
        assert set(all_called) == set(rows), "some tickets were never called"
        calls = Tally(r["ticket_id"] for r in conn.execute("SELECT ticket_id, data FROM events WHERE type = 'ticket.called'")
                      if '"recall":false' in r["data"])
        assert max(calls.values()) == 1 and set(calls) == set(rows)
        assert {r["status"] for r in rows.values()} <= {"called", "done"}
        for j, ids in enumerate(seen["called"]):
            assert all(rows[i]["counter_id"] == CALLER_COUNTERS[j] for i in ids)
    finally:
        conn.close()


@pytest.mark.parametrize("sharing", ["store per thread", "one shared store"])
def test_issue_and_call_at_once(tmp_path, load_config, sharing):
    path = tmp_path / "qms.sqlite3"
    clock = RunningClock()
    first = Store(path, load_config, clock=clock)
    if sharing == "one shared store":
        stores = [first] * (ISSUERS + CALLERS)
    else:  # opened one after the other (migrations run once), then used all at once
        stores = [first] + [Store(path, load_config, clock=clock) for _ in range(ISSUERS + CALLERS - 1)]
        # 24 connections of one process compete for SQLite's write lock, whose busy handler polls and is not
        # fair: on a loaded 2-core machine one of them can wait longer than the product's 5 s busy timeout
        # and fail cleanly with "database is locked" (the server itself writes through one Store and its
        # Writer lock). This test is about integrity under contention, so its connections may wait longer.
        for s in stores:
            s.conn.execute("PRAGMA busy_timeout = 60000")
    try:
        for c in CALLER_COUNTERS:
            first.set_counter_state(c, "open")
        seen = run_load(stores)
    finally:
        for s in {id(s): s for s in stores}.values():
            s.close()
    check_outcome(path, load_config, seen)


@pytest.mark.parametrize("round_", range(3))
def test_many_stores_open_a_new_file_at_once(tmp_path, load_config, round_):
    """Stores opened together on a fresh file: one applies the migrations, the others find them applied."""
    path = tmp_path / "qms.sqlite3"
    n = 8
    barrier = threading.Barrier(n)
    opened: list[Store] = []
    errors: list[str] = []
    lock = threading.Lock()

    def open_one():
        try:
            barrier.wait(timeout=30)
            s = Store(path, load_config, clock=RunningClock())
            with lock:
                opened.append(s)
        except BaseException as e:  # noqa: BLE001
            errors.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=open_one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert not errors, errors
        applied = sorted(len(s.migrated) for s in opened)
        assert applied[:-1] == [0] * (n - 1) and applied[-1] > 0
        codes = sorted(s.issue("civil").ticket["code"] for s in opened)
        assert codes == [f"A{i:03d}" for i in range(1, n + 1)]
    finally:
        for s in opened:
            s.close()


def test_many_connections_switch_a_new_file_to_wal_at_once(tmp_path):
    """SQLite answers "database is locked" at once, without waiting out busy_timeout, when several connections
    switch a new file to WAL together; connect() tries again within the timeout. About one round in thirty
    failed before, so a hundred rounds of eight threads fail almost surely without the retry."""
    from queue_server.store.db import connect

    errors: list[str] = []
    for round_ in range(100):
        path = tmp_path / f"wal-{round_}.sqlite3"
        barrier = threading.Barrier(8)

        def open_one():
            barrier.wait(timeout=30)
            try:
                conn = connect(path)
                assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
                conn.close()
            except BaseException as e:  # noqa: BLE001
                errors.append(f"{type(e).__name__}: {e}")

        threads = [threading.Thread(target=open_one) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert errors == []


def test_a_write_waits_for_a_read_of_its_own_connection_that_began_before_another_process_wrote(tmp_path, load_config):
    """One Store's connection serves every thread of a server. A thread still reading holds that connection's
    snapshot; once another process (a second server, the CLI) has written, SQLite refuses to begin a write on a
    stale snapshot with "database is locked" at once, without waiting out busy_timeout (a kiosk's ticket got
    `internal`, seen under load in test_socket_credentials). The writer tries again within the timeout, so the
    write goes through once the read ends."""
    path = tmp_path / "snapshot.sqlite3"
    here, other = Store(path, load_config, clock=RunningClock()), Store(path, load_config, clock=RunningClock())
    try:
        for _ in range(3):
            here.issue("civil")
        reading = here.conn.execute("SELECT id FROM tickets ORDER BY id")
        assert reading.fetchone() is not None  # a read in progress: its snapshot is held
        other.issue("civil")  # another process writes meanwhile

        def finish_reading():
            time.sleep(0.2)
            reading.fetchall()

        reader = threading.Thread(target=finish_reading)
        reader.start()
        try:
            assert here.issue("civil").ticket["code"] == "A005"
        finally:
            reader.join(timeout=10)
    finally:
        here.close()
        other.close()
