"""Reads of the queue (no transaction: WAL gives each a snapshot). What the read models and the push
need from the database is asked here, never written as SQL elsewhere."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from typing import Iterable

from queue_server.core import rules as E
from queue_server.core.errors import DomainError
from queue_server.core.rules import Ticket
from queue_server.store.rows import ticket_from_row, ticket_from_row_dict, ticket_to_dict


class QueueReads:
    """Mixed into store.Store."""

    def _ahead(self, c: sqlite3.Connection, t: Ticket) -> int:
        """People waiting before `t` in its service (priority tickets first, then by queue time)."""
        if t.priority:
            q = """SELECT COUNT(*) FROM tickets WHERE day=? AND service_id=? AND status='waiting' AND priority=1
                   AND (queued_ms < ? OR (queued_ms = ? AND id < ?))"""
            return c.execute(q, (t.day, t.service_id, t.queued_ms, t.queued_ms, t.id)).fetchone()[0]
        q = """SELECT COUNT(*) FROM tickets WHERE day=? AND service_id=? AND status='waiting'
               AND (priority=1 OR queued_ms < ? OR (queued_ms = ? AND id < ?))"""
        return c.execute(q, (t.day, t.service_id, t.queued_ms, t.queued_ms, t.id)).fetchone()[0]

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
        known = self.config.counter_ids()
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

    def events_since(self, seq: int, limit: int = 1000, *, hide_prefixes: tuple[str, ...] = ()) -> list[dict]:
        """Events after `seq`, oldest first, leaving out the types that start with one of `hide_prefixes`."""
        hide = "".join(" AND substr(type, 1, ?) != ?" for _ in hide_prefixes)
        args = [x for prefix in hide_prefixes for x in (len(prefix), prefix)]
        rows = self.conn.execute(f"SELECT * FROM events WHERE id > ?{hide} ORDER BY id LIMIT ?",
                                 (seq, *args, limit)).fetchall()
        return [{"seq": r["id"], "type": r["type"], "ts_ms": r["ts_ms"], "ticket_id": r["ticket_id"],
                 "counter_id": r["counter_id"], "service_id": r["service_id"], "staff_id": r["staff_id"],
                 "data": json.loads(r["data"])} for r in rows]

    def last_seq(self) -> int:
        return self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]

    def event_counts(self, day: str | None = None) -> dict[str, int]:
        q = "SELECT type, COUNT(*) FROM events" + (" WHERE day = ?" if day else "") + " GROUP BY type"
        return {t: n for t, n in self.conn.execute(q, (day,) if day else ())}

    # ------------------------------------------------------------ for the read models and the push
    def find_ticket(self, ticket_id: int) -> dict | None:
        row = self.conn.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        return ticket_to_dict(ticket_from_row(row)) if row is not None else None

    def tickets_by_ids(self, ids: Iterable[int]) -> dict[int, dict]:
        ids = list(ids)
        out: dict[int, dict] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            for r in self.conn.execute(f"SELECT * FROM tickets WHERE id IN ({','.join('?' * len(chunk))})", chunk):
                out[r["id"]] = ticket_to_dict(ticket_from_row(r))
        return out

    def ticket_services(self, ids: list[int]) -> list[tuple[int, str, str]]:
        """(id, service, status) of some tickets (the phones' positions)."""
        out = []
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            out += [tuple(r) for r in self.conn.execute(
                f"SELECT id, service_id, status FROM tickets WHERE id IN ({','.join('?' * len(chunk))})", chunk)]
        return out

    def waiting_order(self, service_id: str) -> list[int]:
        """Today's waiting tickets of a service, in the order they are called (priority first)."""
        return [r[0] for r in self.conn.execute(
            """SELECT id FROM tickets WHERE day = ? AND service_id = ? AND status = 'waiting'
               ORDER BY priority DESC, queued_ms, id""", (self.today(), service_id))]

    def waiting_heads(self, service_id: str, n: int) -> list[str]:
        """The codes of the next `n` waiting tickets of a service."""
        return [r[0] for r in self.conn.execute(
            """SELECT code FROM tickets WHERE day = ? AND service_id = ? AND status = 'waiting'
               ORDER BY priority DESC, queued_ms, id LIMIT ?""", (self.today(), service_id, n))]

    def service_status(self, service_id: str) -> E.ServiceStatus:
        return self._service_status(self.conn, service_id, self.today())

    def counter_history(self, counter_id: str, limit: int) -> list[dict]:
        """Today's tickets called at or sent to a counter, newest first."""
        return [ticket_to_dict(ticket_from_row(r)) for r in self.conn.execute(
            """SELECT * FROM tickets WHERE day = ? AND (counter_id = ? OR target_counter_id = ?)
               ORDER BY COALESCE(called_ms, queued_ms) DESC LIMIT ?""", (self.today(), counter_id, counter_id, limit))]

    def staff_name(self, staff_id: int) -> str:
        row = self.conn.execute("SELECT full_name, username FROM staff WHERE id = ?", (staff_id,)).fetchone()
        return (row["full_name"] or row["username"]) if row else ""

    def open_counters_serving(self, service_id: str) -> list[str]:
        """Ids of the open counters whose service list names this service, by number."""
        rows = self.conn.execute(
            """SELECT id, services, services_override FROM counters WHERE state = 'open'
               AND instr(COALESCE(services_override, services), ?) > 0 ORDER BY number""", (json.dumps(service_id),))
        return [r["id"] for r in rows if service_id in json.loads(r["services_override"] or r["services"])]

    def recent_service_ms(self, service_id: str, last: int) -> list[int]:
        """Call-to-finish times of the service's last `last` tickets served today, newest first."""
        return [r[0] for r in self.conn.execute(
            """SELECT finished_ms - called_ms FROM tickets WHERE day = ? AND service_id = ? AND status = 'done'
               AND called_ms IS NOT NULL AND finished_ms >= called_ms ORDER BY finished_ms DESC LIMIT ?""",
            (self.today(), service_id, last))]

    def recent_call_rows(self, limit: int) -> list[dict]:
        """Today's last calls, newest first: seq, ts_ms, counter_id, code, service_id, recall."""
        rows = self.conn.execute(
            """SELECT e.id, e.ts_ms, e.counter_id, e.data, t.code, t.service_id FROM events e JOIN tickets t ON t.id = e.ticket_id
               WHERE e.day = ? AND e.type IN ('ticket.called', 'ticket.resumed') ORDER BY e.id DESC LIMIT ?""",
            (self.today(), limit))
        return [{"seq": r["id"], "ts_ms": r["ts_ms"], "counter_id": r["counter_id"], "code": r["code"],
                 "service_id": r["service_id"], "recall": '"recall":true' in r["data"]} for r in rows]

