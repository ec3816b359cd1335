"""Helpers shared by the store tests: config variants, database dumps and the invariant checker.

`check_invariants` reads a queue database with plain SQL (no store code) and asserts what must hold after
any sequence of committed operations: numbering unique and gap-free, no ticket lost, one ticket per counter,
and tickets equal to a replay of the event log. The machine, concurrency and crash tests all use it.

Run as a script it is the crash test's writer process (see `writer_main`).
"""
from __future__ import annotations

import copy
import json
import sqlite3
import sys
from collections import Counter as Tally
from pathlib import Path

import yaml

FIXTURES = Path(__file__).parent / "fixtures"
CENTRE_YAML = FIXTURES / "centre.yaml"
ACTIVE = ("waiting", "called", "serving", "parked")
AT_COUNTER = ("called", "serving")
FINAL_EVENT = {"done": "ticket.finished", "no_show": "ticket.no_show", "cancelled": "ticket.cancelled",
               "unserved": "ticket.unserved"}


# ---------------------------------------------------------------- config variants
def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def config_data(**overrides) -> dict:
    """The fixture centre as a dict, with sections deep-merged from `overrides` (lists are replaced)."""
    data = yaml.safe_load(CENTRE_YAML.read_text(encoding="utf-8"))
    return _merge(data, overrides)


def config_text(**overrides) -> str:
    return yaml.safe_dump(config_data(**overrides), allow_unicode=True, sort_keys=False)


def config_variant(**overrides):
    """A validated CentreConfig: the fixture centre with some keys changed, e.g. queue={"on_range_exhausted": "wrap"}."""
    from queue_server.config import parse_config

    return parse_config(config_text(**overrides), "centre-variant.yaml")


# ---------------------------------------------------------------- dumps
TABLES = ("tickets", "counters", "events", "service_state", "meta")


def dump(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Every row of the queue tables, in a stable order (for "nothing changed" checks)."""
    out = {}
    for table in TABLES:
        key = "key" if table == "meta" else ("service_id" if table == "service_state" else "id")
        out[table] = [tuple(r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY {key}")]
    return out


def open_ro(path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


# ---------------------------------------------------------------- invariants
def ranges_of(config) -> dict[str, object]:
    """seq_key -> Numbering, as the store names them."""
    keys = {}
    for sid in config.services():
        key, numbering = config.numbering_of(sid)
        keys[key] = numbering
    return keys


def replay(conn: sqlite3.Connection) -> tuple[dict[int, dict], dict[str, str]]:
    """Tickets and counter states rebuilt from the event log alone."""
    tickets: dict[int, dict] = {}
    counters: dict[str, str] = {}
    for ev in conn.execute("SELECT * FROM events ORDER BY id"):
        etype, tid = ev["type"], ev["ticket_id"]
        data = json.loads(ev["data"])
        if etype == "counter.state":
            counters[data["counter"]] = data["to"]
            continue
        if not etype.startswith("ticket."):
            continue
        if etype == "ticket.issued":
            assert tid not in tickets, f"ticket {tid} issued twice in the log"
            tickets[tid] = {"status": "waiting", "service_id": ev["service_id"], "counter_id": None,
                            "target_counter_id": None, "code": data["code"], "priority": bool(data["priority"]),
                            "recall_count": 0, "transfer_count": 0, "day": ev["day"],
                            "booking_id": data.get("booking"), "slot_start_ms": data.get("slot_start_ms")}
            continue
        assert tid in tickets, f"event {ev['id']} {etype} for ticket {tid} that was never issued"
        t = tickets[tid]
        assert t["status"] not in FINAL_EVENT, f"event {etype} after ticket {tid} became {t['status']}"
        if etype == "ticket.called" and data.get("recall"):
            assert t["status"] == "called", f"recall of ticket {tid} in status {t['status']}"
            t["recall_count"] += 1
        elif etype in ("ticket.called", "ticket.resumed"):
            expected = "waiting" if etype == "ticket.called" else "parked"
            assert t["status"] == expected, f"{etype} of ticket {tid} in status {t['status']}"
            t.update(status="called", counter_id=data["counter"], target_counter_id=None)
        elif etype == "ticket.started":
            assert t["status"] == "called"
            t["status"] = "serving"
        elif etype == "ticket.finished":
            assert t["status"] in AT_COUNTER
            t["status"] = "done"
        elif etype == "ticket.no_show":
            assert t["status"] == "called"
            t["status"] = "no_show"
        elif etype == "ticket.parked":
            assert t["status"] in AT_COUNTER
            t["status"] = "parked"
        elif etype == "ticket.transferred":
            assert t["status"] in (*AT_COUNTER, "parked")
            assert data["from_service"] == t["service_id"]
            t.update(status="waiting", service_id=data["to_service"], counter_id=None,
                     target_counter_id=data["to_counter"], transfer_count=t["transfer_count"] + 1)
        elif etype == "ticket.cancelled":
            assert t["status"] == "waiting"
            t["status"] = "cancelled"
        elif etype == "ticket.unserved":
            assert t["status"] in ACTIVE
            t["status"] = "unserved"
        else:  # a new ticket event: teach the replay what it does
            raise AssertionError(f"unknown ticket event type {etype!r}")
    return tickets, counters


def check_invariants(conn: sqlite3.Connection, config) -> None:
    """Assert every invariant of a queue database (read with plain SQL)."""
    rows = [dict(r) for r in conn.execute("SELECT * FROM tickets ORDER BY id")]
    ranges = ranges_of(config)

    # Numbers: unique per day and range (index always; number among active tickets), gap-free, in the range.
    by_range: dict[tuple[str, str], list[dict]] = {}
    for t in rows:
        by_range.setdefault((t["day"], t["seq_key"]), []).append(t)
    for (day, key), ts in by_range.items():
        idx = sorted(t["seq_index"] for t in ts)
        assert idx == list(range(len(ts))), f"{day} {key}: seq indexes not 0..{len(ts) - 1} without gaps: {idx}"
        active = [t["number"] for t in ts if t["status"] in ACTIVE]
        dupes = [n for n, k in Tally(active).items() if k > 1]
        assert not dupes, f"{day} {key}: two active tickets show number(s) {dupes}"
        rng = ranges[key]
        size = rng.end - rng.start + 1
        for t in ts:
            number = rng.start + t["seq_index"] % size
            assert t["number"] == number, f"ticket {t['id']}: number {t['number']} != {number}"
            assert t["code"] == rng.code(number), f"ticket {t['id']}: code {t['code']}"

    # Counters: a called/serving ticket is the current ticket of exactly its counter, and back.
    counters = {r["id"]: dict(r) for r in conn.execute("SELECT * FROM counters")}
    by_id = {t["id"]: t for t in rows}
    currents = [c["current_ticket_id"] for c in counters.values() if c["current_ticket_id"] is not None]
    assert len(currents) == len(set(currents)), f"two counters hold one ticket: {currents}"
    for t in rows:
        if t["status"] in AT_COUNTER:
            assert t["counter_id"] in counters, f"ticket {t['code']} {t['status']} without a counter"
            assert counters[t["counter_id"]]["current_ticket_id"] == t["id"], (
                f"ticket {t['code']} is {t['status']} at counter {t['counter_id']}, "
                f"whose current ticket is {counters[t['counter_id']]['current_ticket_id']}")
    for cid, c in counters.items():
        if c["current_ticket_id"] is not None:
            t = by_id.get(c["current_ticket_id"])
            assert t is not None and t["status"] in AT_COUNTER and t["counter_id"] == cid, (
                f"counter {cid} points at ticket {c['current_ticket_id']} which is {t and t['status']} "
                f"at {t and t['counter_id']}")
            assert c["state"] == "open", f"counter {cid} is {c['state']} but still holds ticket {t['code']}"
    per_counter = Tally(t["counter_id"] for t in rows if t["status"] in AT_COUNTER)
    assert all(n == 1 for n in per_counter.values()), f"a counter serves several tickets: {per_counter}"

    # No ticket lost: the log and the table agree, ticket by ticket.
    issued = conn.execute("SELECT COUNT(*) FROM events WHERE type = 'ticket.issued'").fetchone()[0]
    assert issued == len(rows), f"{issued} issued events but {len(rows)} tickets"
    log, counter_states = replay(conn)
    assert set(log) == set(by_id), f"tickets without an issued event: {set(by_id) - set(log)}; lost: {set(log) - set(by_id)}"
    for tid, want in log.items():
        got = by_id[tid]
        for k, v in want.items():
            g = bool(got[k]) if k == "priority" else got[k]
            assert g == v, f"ticket {tid} ({got['code']}): {k} is {g!r} in the table, {v!r} by the event log"
    status_counts = Tally(t["status"] for t in rows)
    event_counts = {r[0]: r[1] for r in conn.execute("SELECT type, COUNT(*) FROM events GROUP BY type")}
    for status, etype in FINAL_EVENT.items():
        assert status_counts.get(status, 0) == event_counts.get(etype, 0), (
            f"{status_counts.get(status, 0)} tickets {status} but {event_counts.get(etype, 0)} {etype} events")
    for cid, c in counters.items():
        assert c["state"] == counter_states.get(cid, "closed"), (
            f"counter {cid} is {c['state']}, the log says {counter_states.get(cid, 'closed')}")


# ---------------------------------------------------------------- crash writer
def writer_main(argv: list[str]) -> None:
    """`python storecheck.py DB CONFIG SEED [hold]`: issue, call and finish tickets for ever, acknowledging
    each committed issue on stdout as `ID CODE` (flushed after the store call returned, i.e. after COMMIT).
    With `hold`, stop for good half-way through a transaction instead."""
    import random

    from queue_server.config import load_config
    from queue_server.store import Store

    db, cfg_path, seed = argv[0], argv[1], int(argv[2])
    rnd = random.Random(seed)
    store = Store(db, load_config(cfg_path))
    store.close_stale_days()
    for c in ("1", "2", "3"):
        store.set_counter_state(c, "open")
    services = ["cccd", "passport", "civil"]
    out = sys.stdout
    if argv[3:] == ["hold"]:
        # Issue a few tickets, then stop inside a "call next" transaction: the ticket row is already updated,
        # the event not yet written, nothing committed. The test kills the process there.
        import time

        for _ in range(5):
            r = store.issue("cccd")
            out.write(f"{r.ticket['id']} {r.ticket['code']}\n")

        def hold(*args, **kw):
            out.write("HOLDING\n")
            out.flush()
            time.sleep(60)

        store._log = hold
        store.call_next("1")
        return
    n = 0
    while True:
        r = store.issue(rnd.choice(services), priority=rnd.random() < 0.1)
        out.write(f"{r.ticket['id']} {r.ticket['code']}\n")
        out.flush()
        n += 1
        if n % 3 == 0:
            counter = rnd.choice(("1", "2", "3"))
            try:
                called = store.call_next(counter)
                if rnd.random() < 0.5:
                    store.finish(called.ticket["id"], counter)
            except Exception as exc:  # noqa: BLE001 - only domain refusals are expected here
                from queue_server.core.errors import DomainError

                if not isinstance(exc, DomainError):
                    raise


if __name__ == "__main__":
    writer_main(sys.argv[1:])
