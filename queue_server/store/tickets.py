"""The queue's durable state: operations as short SQLite transactions around the pure engine.

Each operation: take the write lock (BEGIN IMMEDIATE), read the few rows it needs, ask the engine, write the
changed rows and one event per change, COMMIT. It returns an OpResult (changed tickets and counters, the
logged events with their sequence numbers) for the caller to push out after the commit. Nothing here emits,
prints or touches the network. The operations live in issuing.py and counter_ops.py, the reads in
ticket_reads.py; this module holds the connection, the clock, the config's rows and the row helpers.
"""
from __future__ import annotations

import json
from dataclasses import replace
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Callable

from queue_server.config import CentreConfig
from queue_server.core import rules as E
from queue_server.core.errors import DomainError
from queue_server.core.rules import Counter, CounterState, Ticket
from queue_server.store.counter_ops import CounterOps
from queue_server.store.db import Writer, connect, migrate
from queue_server.store.issuing import Issuing
from queue_server.store import bookings, webhooks as webhook_outbox
from queue_server.store.ticket_reads import QueueReads
from queue_server.store.rows import (TICKET_COLUMNS, OpResult, ticket_from_row, ticket_from_row_dict,  # noqa: F401
                                     ticket_to_dict, utc_now)

_WEEKDAY = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


class Store(Issuing, CounterOps, QueueReads):
    def __init__(self, path: str | Path, config: CentreConfig, clock: Callable[[], datetime] = utc_now):
        self.path = str(path)
        self.config = config
        self.clock = clock
        self.conn = connect(self.path)
        self.writer = Writer(self.conn)
        with self.writer.lock:
            self.migrated = migrate(self.conn)
        self._services = config.services()
        self._rules: dict[str, E.ServiceRules] = {}
        self.sync_config()

    def close(self) -> None:
        self.conn.close()

    # ------------------------------------------------------------ time
    def now_ms(self) -> int:
        return int(self.clock().timestamp() * 1000)

    def local_now(self) -> datetime:
        return self.clock().astimezone(self.config.tz)

    def today(self) -> str:
        return self.local_now().date().isoformat()

    def day_of_ms(self, ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, self.config.tz).date().isoformat()

    # ------------------------------------------------------------ config -> rows
    def sync_config(self) -> None:
        """Counters and services of config.yaml get their rows; the structure follows the file."""
        now = self.now_ms()
        with self.writer.transaction() as c:
            for counter in self.config.counters:
                c.execute("""INSERT INTO counters (id, number, state, services, policy, weights, updated_ms)
                             VALUES (?, ?, 'closed', ?, ?, ?, ?)
                             ON CONFLICT (id) DO UPDATE SET number=excluded.number, services=excluded.services,
                               policy=excluded.policy, weights=excluded.weights""",
                          (counter.id, counter.number, json.dumps(counter.services), counter.policy,
                           json.dumps(counter.weights), now))
            for sid in self._services:
                c.execute("INSERT OR IGNORE INTO service_state (service_id, updated_ms) VALUES (?, ?)", (sid, now))

    def reload_config(self, config: CentreConfig) -> None:
        self.config = config
        self._services = config.services()
        self._rules = {}
        self.sync_config()

    # ------------------------------------------------------------ row helpers (inside a transaction)
    def _counter(self, c: sqlite3.Connection, counter_id: str) -> Counter:
        row = c.execute("SELECT * FROM counters WHERE id = ?", (counter_id,)).fetchone()
        if row is None or not any(x.id == counter_id for x in self.config.counters):
            raise DomainError("counter_unknown", counter=counter_id)
        return self._counter_from_row(row)

    @staticmethod
    def _counter_from_row(row: sqlite3.Row) -> Counter:
        services = json.loads(row["services_override"] or row["services"])
        return Counter(id=row["id"], number=row["number"], services=tuple(services), policy=row["policy"],
                       weights=tuple(json.loads(row["weights"]).items()), state=CounterState(row["state"]),
                       current_ticket_id=row["current_ticket_id"], staff_id=row["staff_id"],
                       priority_streak=row["priority_streak"], walk_in_streak=row["walk_in_streak"])

    def _ticket(self, c: sqlite3.Connection, ticket_id: int) -> Ticket:
        row = c.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        if row is None:
            raise DomainError("ticket_unknown", ticket=ticket_id)
        return ticket_from_row(row)

    def _current(self, c: sqlite3.Connection, counter: Counter) -> Ticket | None:
        if counter.current_ticket_id is None:
            return None
        return self._ticket(c, counter.current_ticket_id)

    def _apply(self, c: sqlite3.Connection, out: E.Outcome, *, actor: str | None, staff_id: int | None,
               result: OpResult, now: int) -> None:
        day = self.today()
        for t in out.tickets:
            sets = ", ".join(f"{k} = ?" for k in TICKET_COLUMNS if k != "id")
            values = [getattr(t, k).value if k == "status" else getattr(t, k) for k in TICKET_COLUMNS if k != "id"]
            c.execute(f"UPDATE tickets SET {sets} WHERE id = ?", (*values, t.id))
            result.tickets.append(ticket_to_dict(t))
        for k in out.counters:
            c.execute("""UPDATE counters SET state=?, current_ticket_id=?, staff_id=?, priority_streak=?, walk_in_streak=?,
                           updated_ms=? WHERE id=?""",
                      (k.state.value, k.current_ticket_id, k.staff_id, k.priority_streak, k.walk_in_streak, now, k.id))
            result.counters.append(self._counter_dict(k))
        by_id = {t.id: t for t in out.tickets}
        for etype, data in out.events:
            t = by_id.get(data.get("ticket"))
            self._log(c, etype, now=now, day=day, ticket=t, counter_id=data.get("counter") or (t.counter_id if t else None),
                      staff_id=staff_id, actor=actor, data=data, result=result)

    def _log(self, c: sqlite3.Connection, etype: str, *, now: int, day: str, ticket: Ticket | None,
             counter_id: str | None, staff_id: int | None, actor: str | None, data: dict, result: OpResult | None) -> int:
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        cur = c.execute("""INSERT INTO events (ts_ms, day, type, ticket_id, counter_id, service_id, staff_id, actor, data)
                           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                        (now, day, etype, ticket.id if ticket else None, counter_id,
                         ticket.service_id if ticket else data.get("service"), staff_id, actor, payload))
        webhook_outbox.enqueue(self, c, cur.lastrowid, etype, now)  # in the event's own transaction
        if result is not None:
            result.events.append({"seq": cur.lastrowid, "type": etype, "ts_ms": now, "ticket_id": ticket.id if ticket else None,
                                  "counter_id": counter_id, "service_id": ticket.service_id if ticket else data.get("service"),
                                  "staff_id": staff_id, "data": data})
        return cur.lastrowid

    def _counter_dict(self, k: Counter) -> dict:
        return {"id": k.id, "number": k.number, "state": k.state.value, "current_ticket_id": k.current_ticket_id,
                "staff_id": k.staff_id, "services": list(k.services), "policy": k.policy,
                "priority_streak": k.priority_streak, "walk_in_streak": k.walk_in_streak}

    # ------------------------------------------------------------ services
    def rules(self, service_id: str, manual: str = "auto", cap_override: int | None = None) -> E.ServiceRules:
        """The service's rules for the core: from the config (built once per config), with the supervisors'
        manual state and cap override."""
        base = self._rules.get(service_id)
        if base is None:
            _, svc = self._services[service_id]
            hours = self.config.hours
            windows = svc.windows if svc.windows is not None else hours.windows
            base = self._rules[service_id] = E.ServiceRules(
                id=service_id, daily_cap=svc.daily_cap, windows=tuple((w.start, w.end) for w in windows),
                weekdays=frozenset(_WEEKDAY[d] for d in hours.weekdays),
                holidays=frozenset(d.isoformat() for d in hours.holidays),
                always_open=self.config.queue.always_open)
        if manual == base.manual and cap_override == base.cap_override:
            return base
        return replace(base, manual=manual, cap_override=cap_override)

    def _service_status(self, c: sqlite3.Connection, service_id: str, day: str, *,
                        booked: bool = False) -> E.ServiceStatus:
        """`booked`: for a booking's check-in, whose place the daily cap kept (docs/booking.md)."""
        st = c.execute("SELECT manual, cap_override FROM service_state WHERE service_id = ?", (service_id,)).fetchone()
        # Count slips issued by the service (a transfer moves a ticket's service_id, not what was issued).
        issued = c.execute("SELECT COUNT(*) FROM events WHERE day = ? AND type = 'ticket.issued' AND service_id = ?",
                           (day, service_id)).fetchone()[0]
        rules = self.rules(service_id, st["manual"] if st else "auto", st["cap_override"] if st else None)
        capped = rules.cap_override is not None or rules.daily_cap is not None
        reserved = bookings.still_to_check_in(self, c, service_id, day) if capped else 0
        return E.service_status(rules, self.local_now(), issued, reserved=reserved, booked=booked)
