"""Counter operations: calling, serving, transferring, parking, closing; the supervisors' changes.

Each is one short transaction: read the rows it needs, ask the rules (queue_server.core.rules), write what
they return (Store._apply). The rules are the engine's; nothing here checks one again.
"""
from __future__ import annotations

import json
import sqlite3

from queue_server.core import rules as E
from queue_server.core.calling import call_next
from queue_server.core.errors import DomainError
from queue_server.core.rules import Counter, CounterState, Status, Ticket
from queue_server.store.rows import OpResult, ticket_from_row, ticket_to_dict


class CounterOps:
    """Mixed into store.Store."""

    # ------------------------------------------------------------ calling
    def _waiting_for(self, c: sqlite3.Connection, counter: Counter, day: str, now: int) -> list[Ticket]:
        """The candidates for "next": tickets sent to this counter by name, and the head of each of its
        services' queues of each kind: priority, and among normal tickets the walk-ins, the booked tickets
        whose slot has begun and those whose slot has not (the engine never picks a ticket behind a head of
        its kind)."""
        rows = c.execute("SELECT * FROM tickets WHERE day = ? AND status = 'waiting' AND target_counter_id = ?",
                         (day, counter.id)).fetchall()
        kinds = (("priority = 1", ()), ("priority = 0 AND slot_start_ms IS NULL", ()),
                 ("priority = 0 AND slot_start_ms <= ?", (now,)), ("priority = 0 AND slot_start_ms > ?", (now,)))
        for service_id in counter.services:
            for kind, args in kinds:
                row = c.execute(f"""SELECT * FROM tickets WHERE day = ? AND status = 'waiting' AND service_id = ?
                                    AND target_counter_id IS NULL AND {kind} ORDER BY queued_ms, id LIMIT 1""",
                                (day, service_id, *args)).fetchone()
                if row is not None:
                    rows.append(row)
        return [ticket_from_row(r) for r in rows]

    def call_next(self, counter_id: str, *, expect_current=E.UNSET, staff_id: int | None = None,
                  actor: str | None = None) -> OpResult:
        """Call the next ticket. `expect_current`: the ticket id (or None) the caller believes is current;
        a press that finds another ticket already called returns it instead of calling a second one."""
        result = OpResult()
        q = self.config.queue
        with self.writer.transaction() as c:
            now = self.now_ms()
            counter = self._counter(c, counter_id)
            current = self._current(c, counter)
            waiting = self._waiting_for(c, counter, self.today(), now)
            out = call_next(counter, current, waiting, now, mode=q.next_with_open_ticket, expect_current=expect_current,
                            max_consecutive_priority=self.config.priority.max_consecutive,
                            walk_ins_per_booked=q.walk_ins_per_booked,
                            repeat_window_ms=int(q.repeat_press_seconds * 1000), staff_id=staff_id)
            if out is None:  # a repeated press: the ticket it called stands
                result.tickets.append(ticket_to_dict(current))
                result.repeated = True
                return result
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
                self._log(c, "day.closed", now=now, day=self.today(), ticket=None, counter_id=None, staff_id=None,
                          actor=actor, data={"day": self.today(), "unserved": len(out.tickets)}, result=result)
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
