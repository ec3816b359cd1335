"""The queue's durable state: operations as short SQLite transactions around the pure engine.

Each operation: take the write lock (BEGIN IMMEDIATE), read the few rows it needs, ask the engine, write the
changed rows and one event per change, COMMIT. It returns an OpResult (changed tickets and counters, the
logged events with their sequence numbers) for the caller to push out after the commit. Nothing here emits,
prints or touches the network.
"""
from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

from queue_server.core import rules as E
from queue_server.config import CentreConfig
from queue_server.store.db import Writer, connect, migrate
from queue_server.core.rules import Counter, CounterState, Status, Ticket
from queue_server.core.errors import DomainError

TICKET_COLUMNS = [f for f in Ticket.__dataclass_fields__]
_WEEKDAY = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class OpResult:
    """What one committed operation changed, for the push layer."""

    tickets: list[dict] = field(default_factory=list)
    counters: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    waiting_ahead: int | None = None
    repeated: bool = False  # a repeated press: nothing changed, `tickets` holds the ticket already called

    @property
    def ticket(self) -> dict | None:
        return self.tickets[-1] if self.tickets else None


def ticket_from_row(row: sqlite3.Row) -> Ticket:
    d = {k: row[k] for k in TICKET_COLUMNS}
    d["status"] = Status(d["status"])
    d["priority"] = bool(d["priority"])
    return Ticket(**d)


def ticket_to_dict(t: Ticket) -> dict:
    d = {k: getattr(t, k) for k in TICKET_COLUMNS}
    d["status"] = t.status.value
    return d


class Store:
    def __init__(self, path: str | Path, config: CentreConfig, clock: Callable[[], datetime] = utc_now):
        self.path = str(path)
        self.config = config
        self.clock = clock
        self.conn = connect(self.path)
        self.writer = Writer(self.conn)
        with self.writer.lock:
            self.migrated = migrate(self.conn)
        self._services = config.services()
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
                       priority_streak=row["priority_streak"])

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
            c.execute("""UPDATE counters SET state=?, current_ticket_id=?, staff_id=?, priority_streak=?, updated_ms=?
                         WHERE id=?""", (k.state.value, k.current_ticket_id, k.staff_id, k.priority_streak, now, k.id))
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
        if result is not None:
            result.events.append({"seq": cur.lastrowid, "type": etype, "ts_ms": now, "ticket_id": ticket.id if ticket else None,
                                  "counter_id": counter_id, "service_id": ticket.service_id if ticket else data.get("service"),
                                  "data": data})
        return cur.lastrowid

    def _counter_dict(self, k: Counter) -> dict:
        return {"id": k.id, "number": k.number, "state": k.state.value, "current_ticket_id": k.current_ticket_id,
                "staff_id": k.staff_id, "services": list(k.services), "policy": k.policy,
                "priority_streak": k.priority_streak}

    # ------------------------------------------------------------ services
    def rules(self, service_id: str, manual: str = "auto", cap_override: int | None = None) -> E.ServiceRules:
        _, svc = self._services[service_id]
        hours = self.config.hours
        windows = svc.windows if svc.windows is not None else hours.windows
        return E.ServiceRules(
            id=service_id, daily_cap=svc.daily_cap, windows=tuple((w.start, w.end) for w in windows),
            weekdays=frozenset(_WEEKDAY[d] for d in hours.weekdays),
            holidays=frozenset(d.isoformat() for d in hours.holidays),
            always_open=self.config.queue.always_open, manual=manual, cap_override=cap_override)

    def _service_status(self, c: sqlite3.Connection, service_id: str, day: str) -> E.ServiceStatus:
        st = c.execute("SELECT manual, cap_override FROM service_state WHERE service_id = ?", (service_id,)).fetchone()
        # Count slips issued by the service (a transfer moves a ticket's service_id, not what was issued).
        issued = c.execute("SELECT COUNT(*) FROM events WHERE day = ? AND type = 'ticket.issued' AND service_id = ?",
                           (day, service_id)).fetchone()[0]
        rules = self.rules(service_id, st["manual"] if st else "auto", st["cap_override"] if st else None)
        return E.service_status(rules, self.local_now(), issued)

    # ------------------------------------------------------------ issuing
    def issue(self, service_id: str, *, priority: bool = False, priority_group: str | None = None,
              source: str = "walk_in", staff_id: int | None = None, actor: str | None = None) -> OpResult:
        if service_id not in self._services:
            raise DomainError("service_unknown", service=service_id)
        if priority_group is not None:
            if priority_group not in {g.id for g in self.config.priority.groups}:
                raise DomainError("priority_group_unknown", group=priority_group)
            priority = True
        seq_key, numbering = self.config.numbering_of(service_id)
        rng = E.NumberRange(numbering.prefix, numbering.start, numbering.end, numbering.width)
        token = secrets.token_urlsafe(12)
        result = OpResult()
        with self.writer.transaction() as c:
            now = self.now_ms()
            day = self.today()
            status = self._service_status(c, service_id, day)
            if not status.open:
                if status.reason == "full":
                    raise DomainError("service_full", service=service_id, cap=status.cap)
                raise DomainError("service_closed", service=service_id, reason=status.reason, opens_at=status.opens_at)
            last = c.execute("SELECT MAX(seq_index) FROM tickets WHERE day = ? AND seq_key = ?", (day, seq_key)).fetchone()[0]
            active: list[int] = []
            if last is not None and last + 1 >= rng.size:
                active = [r[0] for r in c.execute(
                    "SELECT number FROM tickets WHERE day = ? AND seq_key = ? AND status IN ('waiting','called','serving','parked')",
                    (day, seq_key))]
            index, number, code = E.next_number(rng, last, active, self.config.queue.on_range_exhausted)
            t = Ticket(id=None, day=day, service_id=service_id, seq_key=seq_key, seq_index=index, number=number,
                       code=code, priority=priority, priority_group=priority_group, source=source,
                       issued_ms=now, queued_ms=now, staff_id=staff_id, token=token)
            values = [getattr(t, k).value if k == "status" else getattr(t, k) for k in TICKET_COLUMNS if k != "id"]
            cur = c.execute(f"INSERT INTO tickets ({', '.join(k for k in TICKET_COLUMNS if k != 'id')}) "
                            f"VALUES ({', '.join('?' * (len(TICKET_COLUMNS) - 1))})", values)
            t = replace(t, id=cur.lastrowid)
            ahead = self._ahead(c, t)
            self._log(c, "ticket.issued", now=now, day=day, ticket=t, counter_id=None, staff_id=staff_id, actor=actor,
                      data={"ticket": t.id, "code": code, "priority": priority, "source": source}, result=result)
        result.tickets.append(ticket_to_dict(t))
        result.waiting_ahead = ahead
        return result

    def _ahead(self, c: sqlite3.Connection, t: Ticket) -> int:
        """People waiting before `t` in its service (priority tickets first, then by queue time)."""
        if t.priority:
            q = """SELECT COUNT(*) FROM tickets WHERE day=? AND service_id=? AND status='waiting' AND priority=1
                   AND (queued_ms < ? OR (queued_ms = ? AND id < ?))"""
            return c.execute(q, (t.day, t.service_id, t.queued_ms, t.queued_ms, t.id)).fetchone()[0]
        q = """SELECT COUNT(*) FROM tickets WHERE day=? AND service_id=? AND status='waiting'
               AND (priority=1 OR queued_ms < ? OR (queued_ms = ? AND id < ?))"""
        return c.execute(q, (t.day, t.service_id, t.queued_ms, t.queued_ms, t.id)).fetchone()[0]

    # ------------------------------------------------------------ calling
    def _waiting_for(self, c: sqlite3.Connection, counter: Counter, day: str) -> list[Ticket]:
        """The candidates for "next": tickets sent to this counter by name, and the head of each of its
        services' queues, priority and normal (the engine never picks a ticket behind a head of its kind)."""
        rows = c.execute("SELECT * FROM tickets WHERE day = ? AND status = 'waiting' AND target_counter_id = ?",
                         (day, counter.id)).fetchall()
        for service_id in counter.services:
            for priority in (1, 0):
                row = c.execute("""SELECT * FROM tickets WHERE day = ? AND status = 'waiting' AND service_id = ?
                                   AND target_counter_id IS NULL AND priority = ? ORDER BY queued_ms, id LIMIT 1""",
                                (day, service_id, priority)).fetchone()
                if row is not None:
                    rows.append(row)
        return [ticket_from_row(r) for r in rows]

    def call_next(self, counter_id: str, *, expect_current=E.UNSET, staff_id: int | None = None,
                  actor: str | None = None) -> OpResult:
        """Call the next ticket. `expect_current`: the ticket id (or None) the caller believes is current;
        a press that finds another ticket already called returns it instead of calling a second one."""
        result = OpResult()
        with self.writer.transaction() as c:
            now = self.now_ms()
            counter = self._counter(c, counter_id)
            if counter.state != CounterState.OPEN:
                raise DomainError("counter_not_open", counter=counter.number, state=counter.state.value)
            current = self._current(c, counter)
            if E.is_repeat_press(current, expect_current, now, int(self.config.queue.repeat_press_seconds * 1000)):
                result.tickets.append(ticket_to_dict(current))
                result.repeated = True
                return result
            if current is not None and self.config.queue.next_with_open_ticket == "refuse" and current.status in E.AT_COUNTER:
                raise DomainError("counter_busy", counter=counter.number, code=current.code)
            chosen = E.choose_next(counter, self._waiting_for(c, counter, self.today()), now,
                                   self.config.priority.max_consecutive)
            if chosen is None:
                raise DomainError("nothing_waiting", counter=counter.number)
            out = E.call(counter, chosen, current, now, self.config.queue.next_with_open_ticket,
                         staff_id if staff_id is not None else counter.staff_id)
            self._apply(c, out, actor=actor, staff_id=staff_id, result=result, now=now)
        return result

    def find_code(self, code: str, service_id: str | None = None, day: str | None = None) -> Ticket:
        """Today's ticket with this number (a number can repeat only across wraps; the active one wins)."""
        day = day or self.today()
        q = "SELECT * FROM tickets WHERE day = ? AND code = ?"
        args: list = [day, code.strip().upper()]
        if service_id:
            q += " AND service_id = ?"
            args.append(service_id)
        rows = [ticket_from_row(r) for r in self.conn.execute(q + " ORDER BY id DESC", args)]
        if not rows:
            raise DomainError("ticket_unknown", ticket=code)
        active = [t for t in rows if t.status in E.ACTIVE]
        if len(active) > 1:
            raise DomainError("code_ambiguous", code=code)
        return active[0] if active else rows[0]

    def call_code(self, counter_id: str, code: str, *, service_id: str | None = None, staff_id: int | None = None,
                  actor: str | None = None) -> OpResult:
        """Call a given number at a counter (a citizen who comes forward, a number read out of turn)."""
        found = self.find_code(code, service_id)
        result = OpResult()
        with self.writer.transaction() as c:
            now = self.now_ms()
            counter = self._counter(c, counter_id)
            ticket = self._ticket(c, found.id)
            current = self._current(c, counter)
            if ticket.status == Status.PARKED:
                out = E.resume(counter, ticket, current, now, self.config.queue.next_with_open_ticket, staff_id)
            else:
                out = E.call(counter, ticket, current, now, self.config.queue.next_with_open_ticket,
                             staff_id if staff_id is not None else counter.staff_id)
            self._apply(c, out, actor=actor, staff_id=staff_id, result=result, now=now)
        return result

    def _ticket_op(self, fn, ticket_id: int, counter_id: str, *, staff_id=None, actor=None, **kw) -> OpResult:
        result = OpResult()
        with self.writer.transaction() as c:
            now = self.now_ms()
            counter = self._counter(c, counter_id)
            ticket = self._ticket(c, ticket_id)
            out = fn(counter, ticket, now, **kw)
            self._apply(c, out, actor=actor, staff_id=staff_id, result=result, now=now)
        return result

    def recall(self, ticket_id: int, counter_id: str, **who) -> OpResult:
        return self._ticket_op(E.recall, ticket_id, counter_id, **who)

    def no_show(self, ticket_id: int, counter_id: str, **who) -> OpResult:
        return self._ticket_op(E.no_show, ticket_id, counter_id, **who)

    def start(self, ticket_id: int, counter_id: str, **who) -> OpResult:
        return self._ticket_op(E.start, ticket_id, counter_id, **who)

    def finish(self, ticket_id: int, counter_id: str, **who) -> OpResult:
        return self._ticket_op(E.finish, ticket_id, counter_id, **who)

    def park(self, ticket_id: int, counter_id: str, **who) -> OpResult:
        return self._ticket_op(E.park, ticket_id, counter_id, **who)

    def transfer(self, ticket_id: int, counter_id: str, *, service_id: str | None = None,
                 to_counter: str | None = None, go_last: bool = False, staff_id=None, actor=None) -> OpResult:
        if service_id is not None and service_id not in self._services:
            raise DomainError("service_unknown", service=service_id)
        result = OpResult()
        with self.writer.transaction() as c:
            now = self.now_ms()
            counter = self._counter(c, counter_id)
            ticket = self._ticket(c, ticket_id)
            target = self._counter(c, to_counter) if to_counter is not None else None
            out = E.transfer(counter, ticket, now, service_id=service_id, target=target, go_last=go_last)
            self._apply(c, out, actor=actor, staff_id=staff_id, result=result, now=now)
        return result

    def resume(self, ticket_id: int, counter_id: str, *, staff_id=None, actor=None) -> OpResult:
        result = OpResult()
        with self.writer.transaction() as c:
            now = self.now_ms()
            counter = self._counter(c, counter_id)
            ticket = self._ticket(c, ticket_id)
            out = E.resume(counter, ticket, self._current(c, counter), now,
                           self.config.queue.next_with_open_ticket, staff_id)
            self._apply(c, out, actor=actor, staff_id=staff_id, result=result, now=now)
        return result

    def cancel(self, ticket_id: int, *, staff_id=None, actor=None) -> OpResult:
        result = OpResult()
        with self.writer.transaction() as c:
            now = self.now_ms()
            out = E.cancel(self._ticket(c, ticket_id), now)
            self._apply(c, out, actor=actor, staff_id=staff_id, result=result, now=now)
        return result

    def set_counter_state(self, counter_id: str, state: str, *, staff_id: int | None = None, actor=None) -> OpResult:
        result = OpResult()
        with self.writer.transaction() as c:
            now = self.now_ms()
            counter = self._counter(c, counter_id)
            out = E.set_counter_state(counter, CounterState(state), self._current(c, counter), now,
                                      self.config.queue.next_with_open_ticket, staff_id)
            self._apply(c, out, actor=actor, staff_id=staff_id, result=result, now=now)
        return result

    def close_day(self, *, before_day: str | None = None, actor: str | None = "system") -> OpResult:
        """End of day: active tickets of `before_day` and earlier (default: today too) become unserved."""
        result = OpResult()
        with self.writer.transaction() as c:
            now = self.now_ms()
            if before_day is None:
                rows = c.execute("SELECT * FROM tickets WHERE status IN ('waiting','called','serving','parked')")
                counters = [self._counter_from_row(r) for r in c.execute("SELECT * FROM counters")]
            else:
                rows = c.execute("SELECT * FROM tickets WHERE day < ? AND status IN ('waiting','called','serving','parked')",
                                 (before_day,))
                stale = {t for (t,) in c.execute("SELECT id FROM tickets WHERE day < ? AND status IN ('called','serving')", (before_day,))}
                counters = [self._counter_from_row(r) for r in c.execute("SELECT * FROM counters")
                            if r["current_ticket_id"] in stale
                            or (r["state"] != "closed" and self.day_of_ms(r["updated_ms"]) < before_day)]
            active = [ticket_from_row(r) for r in rows]
            if not active and not counters:
                return result
            out = E.close_day(active, counters, now)
            self._apply(c, out, actor=actor, staff_id=None, result=result, now=now)
            if before_day is None:  # closing leftovers of earlier days is not today's close
                c.execute("INSERT INTO meta (key, value) VALUES ('last_close', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                          (json.dumps({"ts_ms": now, "day": self.today()}),))
        return result

    def close_stale_days(self) -> OpResult:
        """At start-up and on a new local day: leftovers of earlier days become unserved."""
        return self.close_day(before_day=self.today())

    # ------------------------------------------------------------ supervision
    def set_service_state(self, service_id: str, *, manual: str | None = None, cap_override: int | None | str = "keep",
                          staff_id: int | None = None, actor: str | None = None) -> OpResult:
        if service_id not in self._services:
            raise DomainError("service_unknown", service=service_id)
        result = OpResult()
        with self.writer.transaction() as c:
            now = self.now_ms()
            if manual is not None:
                c.execute("UPDATE service_state SET manual = ?, updated_ms = ? WHERE service_id = ?", (manual, now, service_id))
            if cap_override != "keep":
                c.execute("UPDATE service_state SET cap_override = ?, updated_ms = ? WHERE service_id = ?",
                          (cap_override, now, service_id))
            self._log(c, "service.updated", now=now, day=self.today(), ticket=None, counter_id=None, staff_id=staff_id,
                      actor=actor, data={"service": service_id, "manual": manual,
                                         **({} if cap_override == "keep" else {"cap_override": cap_override})}, result=result)
        return result

    def assign_services(self, counter_id: str, services: list[str] | None, *, staff_id: int | None = None,
                        actor: str | None = None) -> OpResult:
        """Live reassignment of the services a counter serves (None: back to config.yaml)."""
        for s in services or []:
            if s not in self._services:
                raise DomainError("service_unknown", service=s)
        result = OpResult()
        with self.writer.transaction() as c:
            now = self.now_ms()
            self._counter(c, counter_id)
            c.execute("UPDATE counters SET services_override = ?, updated_ms = ? WHERE id = ?",
                      (json.dumps(services) if services else None, now, counter_id))
            k = self._counter(c, counter_id)
            result.counters.append(self._counter_dict(k))
            self._log(c, "counter.services", now=now, day=self.today(), ticket=None, counter_id=counter_id,
                      staff_id=staff_id, actor=actor, data={"counter": counter_id, "services": services}, result=result)
        return result

    # ------------------------------------------------------------ reads (no transaction: WAL gives a snapshot)
    def ticket(self, ticket_id: int) -> dict:
        return ticket_to_dict(self._ticket(self.conn, ticket_id))

    def ticket_by_token(self, token: str) -> dict:
        row = self.conn.execute("SELECT * FROM tickets WHERE token = ?", (token,)).fetchone()
        if row is None:
            raise DomainError("ticket_unknown", ticket="?")
        return ticket_to_dict(ticket_from_row(row))

    def position(self, ticket: dict) -> int | None:
        if ticket["status"] != "waiting":
            return None
        return self._ahead(self.conn, replace(ticket_from_row_dict(ticket)))

    def counters(self) -> list[dict]:
        known = {x.id for x in self.config.counters}
        return [self._counter_dict(self._counter_from_row(r)) for r in self.conn.execute("SELECT * FROM counters ORDER BY number")
                if r["id"] in known]

    def counter(self, counter_id: str) -> dict:
        return self._counter_dict(self._counter(self.conn, counter_id))

    def tickets(self, *, day: str | None = None, statuses: Iterable[str] | None = None) -> list[dict]:
        q, args = "SELECT * FROM tickets WHERE day = ?", [day or self.today()]
        if statuses is not None:
            statuses = list(statuses)
            q += f" AND status IN ({','.join('?' * len(statuses))})"
            args += statuses
        return [ticket_to_dict(ticket_from_row(r)) for r in self.conn.execute(q + " ORDER BY id", args)]

    def waiting_counts(self, day: str | None = None) -> dict[str, int]:
        rows = self.conn.execute("SELECT service_id, COUNT(*) FROM tickets WHERE day = ? AND status = 'waiting' GROUP BY service_id",
                                 (day or self.today(),))
        counts = {sid: 0 for sid in self._services}
        counts.update({sid: n for sid, n in rows})
        return counts

    def service_statuses(self) -> dict[str, E.ServiceStatus]:
        day = self.today()
        return {sid: self._service_status(self.conn, sid, day) for sid in self._services}

    def events_since(self, seq: int, limit: int = 1000) -> list[dict]:
        rows = self.conn.execute("SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?", (seq, limit)).fetchall()
        return [{"seq": r["id"], "type": r["type"], "ts_ms": r["ts_ms"], "ticket_id": r["ticket_id"],
                 "counter_id": r["counter_id"], "service_id": r["service_id"], "data": json.loads(r["data"])} for r in rows]

    def last_seq(self) -> int:
        return self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]

    def event_counts(self, day: str | None = None) -> dict[str, int]:
        q = "SELECT type, COUNT(*) FROM events" + (" WHERE day = ?" if day else "") + " GROUP BY type"
        return {t: n for t, n in self.conn.execute(q, (day,) if day else ())}


def ticket_from_row_dict(d: dict) -> Ticket:
    d = dict(d)
    d["status"] = Status(d["status"])
    return Ticket(**{k: d[k] for k in TICKET_COLUMNS})
