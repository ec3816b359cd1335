"""Connect: hello, then the events missed since last_seq, or a fresh snapshot of the room; and the same
catch-up when a connected client saw a gap in the `prev` of its messages (the socket event catch_up).

A reconnecting client gets, marked `replayed`, what the live path would have sent to its rooms: the same
`rooms_of` and `payload_for` (push.audiences) decide both. Displays' payloads depend only on the event log
and on what never changes in a ticket, so theirs are the very payloads sent live; staff, supervisors and
phones get their tickets and counters as they are now.
"""
from __future__ import annotations

from queue_server.push.audiences import Audience, payload_for
from queue_server.push.payloads import CounterUpdated, Hello, Snapshot, replayed
from queue_server.push.views import Built
from queue_server.store import display_notices, service_notices

CATCH_UP_LIMIT = 500  # more missed events than this: a snapshot is cheaper


class CatchUp:
    """Mixed into push.live.Push: needs self.read, self.rooms, self.config, self.send_to, self._emit."""

    def greet(self, sid: str, room: str, last_seq: int | None, ticket: dict | None = None) -> None:
        """hello (with the rooms joined and the seq it covers), then the missed events or a snapshot."""
        as_of = self.read.store.last_seq()
        self.send_to(sid, Hello(**self.read.hello(room), rooms=self.rooms_for(room), as_of=as_of))
        self.catch_up(sid, room, last_seq, ticket, as_of)

    def catch_up(self, sid: str, room: str, last_seq: int | None, ticket: dict | None = None,
                 as_of: int | None = None) -> int:
        """What the live path sent to `room` after `last_seq`, up to `as_of` (now when None), to `sid` alone,
        marked `replayed`; a snapshot instead when there is no last_seq or more than CATCH_UP_LIMIT were missed.
        A reconnect (greet) and a client that saw a gap in `prev` (the socket event catch_up) both come here.
        Returns the last seq covered: later changes reach the client live."""
        store = self.read.store
        as_of = store.last_seq() if as_of is None else as_of
        audience = self.rooms.audience_of(room)
        if last_seq is not None and 0 <= as_of - last_seq <= CATCH_UP_LIMIT:
            if audience is None:  # a room kind added by a device package: nothing of the queue to replay
                return as_of
            missed = [e for e in store.events_since(last_seq, limit=CATCH_UP_LIMIT) if e["seq"] <= as_of]
            joined = set(self.rooms_for(room))
            built = Built(self.read, store.tickets_by_ids({e["ticket_id"] for e in missed if e["ticket_id"]}))
            for e in missed:
                for payload in self.replay_of(e, audience, joined, built):
                    self._emit(replayed(payload), to=sid)
            return as_of
        snap = Snapshot(store.last_seq(), room, self.snapshot(room, ticket))
        self.send_to(sid, snap)
        return snap.seq

    def replay_of(self, e: dict, audience: Audience, joined: set[str], built: Built) -> list:
        out = []
        if set(self.rooms.rooms_of(e, audience)) & joined:
            payload = payload_for(e, audience, built)
            if payload is not None:
                out.append(payload)
        if (audience.kind in ("staff", "supervisors") and e["type"] in ("counter.state", "counter.services")
                and ({"supervisors", f"counter:{e['counter_id']}"} & joined)):
            try:
                out.append(CounterUpdated(e["seq"], built.staff_counter(e["counter_id"])))
            except Exception:  # noqa: BLE001 - a counter since removed from config.yaml
                pass
        return out

    def notice_of(self, display) -> dict:
        """A display's notice: the one an admin set for it, else the one for every display ('*'), else config."""
        rows = display_notices.notices_for(self.read.store, display.id)
        text, text_en = rows.get(display.id) or rows.get("*") or (display.notice, "")
        depts = self.rooms.display_departments(display.id) or set()  # and supervisors' notices of its services
        ids = {s.id for d in self.config.departments if d.id in depts for s in d.services}
        for n in service_notices.notices_today(self.read.store, ids).values():
            text, text_en = " · ".join(x for x in (text, n["text"]) if x), " · ".join(
                x for x in (text_en or text, n["text_en"] or n["text"]) if x)
        return {"notice": text, "notice_en": text_en}

    def snapshot(self, room: str, ticket: dict | None = None) -> dict:
        v = self.read
        kind, _, ident = room.partition(":")
        if kind == "display":
            depts = self.rooms.display_departments(ident) or set()
            disp = self.rooms.display(ident)
            extras = frozenset(disp.show_extra)
            services = [s.id for d in self.config.departments if d.id in depts for s in d.services]
            counters = [c for c in v.store.counters() if self.rooms.dept_of_counter(c["id"]) in depts]
            current = v.store.tickets_by_ids({c["current_ticket_id"] for c in counters if c["current_ticket_id"]})
            return {"display": {**disp.model_dump(mode="json", exclude={"token"}), **self.notice_of(disp)},
                    "departments": [d for d in v.departments() if d["id"] in depts],
                    "services": v.queue_state(services),
                    "counters": [v.counter_on_display(c["id"], c["state"], staff_id=c["staff_id"], extras=extras,
                                                      current=self._on_display(current.get(c["current_ticket_id"]), extras))
                                 for c in counters],
                    "recent_calls": v.recent_calls(depts, disp.last_calls), "voice": self.config.voice.model_dump(mode="json"),
                    "centre": {"name": self.config.centre.name, "name_en": self.config.centre.name_en}}
        if kind == "counter":
            counter = Built(v).staff_counter(ident)
            history = [v.ticket_staff(t) for t in v.store.counter_history(ident, 12)]
            return {"counter": counter, "services": v.queue_state(counter["services"]), "history": history}
        if kind == "kiosk":
            return {"departments": v.departments(), "services": v.services()}
        if kind == "ticket" and ticket is not None:
            return {"ticket": v.ticket_public(ticket)}
        if kind == "supervisors":
            counters = v.store.counters()
            built = Built(v, counters=counters)
            return {"services": v.services(), "counters": [built.staff_counter(c["id"]) for c in counters]}
        return {}

    def _on_display(self, t: dict | None, extras) -> dict | None:
        if t is None:
            return None
        return self.read.ticket_on_display(t, status=t["status"], service_id=t["service_id"],
                                           counter_id=t["counter_id"] or t["target_counter_id"], extras=extras)
