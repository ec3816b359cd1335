"""The views of one write, each built at most once, from what the write returned.

The push builds a ticket's staff view, its public view and a counter's state from the store's OpResult;
the command that made the write answers with the same objects, so nothing is read back after COMMIT
unless the write did not return it (a counter whose current ticket the write did not touch).
"""
from __future__ import annotations


class Built:
    def __init__(self, read, tickets=(), counters=()):
        self.read = read
        self.tickets: dict[int, dict] = dict(tickets) if isinstance(tickets, dict) else {t["id"]: t for t in tickets}
        self.counters: dict[str, dict] = {c["id"]: c for c in counters}
        self._staff: dict[int, dict] = {}
        self._public: dict[int, dict] = {}
        self._counter_views: dict[str, dict] = {}

    @classmethod
    def of(cls, read, result) -> "Built":
        return cls(read, result.tickets, result.counters)

    def ticket(self, ticket_id: int | None) -> dict | None:
        """A ticket row: the one the write returned, else the stored one (catch-up, another process's write)."""
        if ticket_id is None:
            return None
        t = self.tickets.get(ticket_id)
        if t is None:
            t = self.read.store.find_ticket(ticket_id)
            if t is not None:
                self.tickets[ticket_id] = t
        return t

    def staff_ticket(self, ticket_id: int) -> dict | None:
        if ticket_id not in self._staff:
            t = self.ticket(ticket_id)
            self._staff[ticket_id] = self.read.ticket_staff(t) if t else None
        return self._staff[ticket_id]

    def public_ticket(self, ticket_id: int) -> dict | None:
        if ticket_id not in self._public:
            t = self.ticket(ticket_id)
            self._public[ticket_id] = self.read.ticket_public(t, with_position=False) if t else None
        return self._public[ticket_id]

    def staff_counter(self, counter_id: str) -> dict:
        """A counter's state as staff and supervisors see it (store.counter only when the write did not return it)."""
        if counter_id not in self._counter_views:
            c = self.counters.get(counter_id) or self.read.store.counter(counter_id)
            current = c["current_ticket_id"]
            self._counter_views[counter_id] = self.read.counter_state(
                c, current=self.staff_ticket(current) if current is not None else None)
        return self._counter_views[counter_id]
