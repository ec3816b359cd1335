"""Issuing a ticket: one short transaction (numbering, the service's status, the people ahead)."""
from __future__ import annotations

import secrets
from dataclasses import replace

from queue_server.core import rules as E
from queue_server.core.errors import DomainError
from queue_server.core.rules import Ticket
from queue_server.store import dossiers, notifications
from queue_server.store.rows import TICKET_COLUMNS, OpResult, ticket_to_dict


class Issuing:
    """Mixed into store.Store."""

    # ------------------------------------------------------------ issuing
    def issue(self, service_id: str, *, priority: bool = False, priority_group: str | None = None,
              source: str = "walk_in", staff_id: int | None = None, actor: str | None = None,
              booking_id: int | None = None, slot_start_ms: int | None = None, phone: str | None = None,
              lang: str = "vi", dossier: str | None = None) -> OpResult:
        """A new ticket. `booking_id` and `slot_start_ms`: the booking it is issued for and its slot's start;
        `phone` (with `lang`): a number the công dân gave for notices, kept in ticket_contacts in the same
        transaction and never on a public view. `dossier`: a dossier code attached to the ticket in the same
        transaction (the kiosk's return-of-results ticket)."""
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
            status = self._service_status(c, service_id, day, booked=booking_id is not None)
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
                       issued_ms=now, queued_ms=now, staff_id=staff_id, token=token, booking_id=booking_id,
                       slot_start_ms=slot_start_ms)
            values = [getattr(t, k).value if k == "status" else getattr(t, k) for k in TICKET_COLUMNS if k != "id"]
            cur = c.execute(f"INSERT INTO tickets ({', '.join(k for k in TICKET_COLUMNS if k != 'id')}) "
                            f"VALUES ({', '.join('?' * (len(TICKET_COLUMNS) - 1))})", values)
            t = replace(t, id=cur.lastrowid)
            if phone:
                notifications.save_contact(self, c, ticket_id=t.id, phone=phone, lang=lang, now=now)
            ahead = self._ahead(c, t)
            data = {"ticket": t.id, "code": code, "priority": priority, "source": source}
            if booking_id is not None:  # the log tells a booked ticket and its slot (reports, replays)
                data.update(booking=booking_id, slot_start_ms=slot_start_ms)
            self._log(c, "ticket.issued", now=now, day=day, ticket=t, counter_id=None, staff_id=staff_id, actor=actor,
                      data=data, result=result)
            if dossier is not None:  # the code the kiosk was shown, on its return-of-results ticket
                dossiers.attach_at_issue(self, c, t, dossier, now=now, actor=actor, result=result)
        result.tickets.append(ticket_to_dict(t))
        result.waiting_ahead = ahead
        return result
