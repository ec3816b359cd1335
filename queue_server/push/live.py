"""Live push: the typed payloads, the rooms, and the only place that calls Socket.IO's emit.

Every payload that reflects a change carries `seq`, the id of that change in the append-only event log
(several messages may carry one seq; seqs a room does not need are skipped, so gaps are normal). A client
keeps the highest seq it has applied and sends it back on reconnect to get what it missed.

Rooms, sized to need:
  dept:<id>        hall displays showing that department: its calls and counters, coalesced queue counts
  counter:<id>     counter terminals, LED and keypad agents of one counter
  kiosks           ticket machines: coalesced service states
  ticket:<id>      a phone following one ticket (joined with the ticket's secret token)
  supervisors      supervisor dashboards: everything
Calls go out at once; queue counts and positions are coalesced per room on a short tick.
"""
from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass, field, fields

log = logging.getLogger(__name__)
PHONE_POSITION_SECONDS = 1.0  # a phone's place in line: at most once a second

CHANGE_OF = {
    "ticket.started": "started", "ticket.finished": "finished", "ticket.no_show": "no_show",
    "ticket.parked": "parked", "ticket.transferred": "transferred", "ticket.cancelled": "cancelled",
    "ticket.unserved": "unserved",
}


# ------------------------------------------------------------------ payloads
@dataclass
class Hello:
    version: str
    config_hash: str
    centre: str
    server_time: str
    room: str
    event = "hello"


@dataclass
class Snapshot:
    seq: int
    room: str
    state: dict
    event = "snapshot"


@dataclass
class TicketIssued:
    seq: int
    ticket: dict
    event = "ticket.issued"


@dataclass
class TicketCalled:
    seq: int
    call: dict  # code, counter, service, department, recall, at
    ticket: dict
    recall: bool
    replayed: bool = False
    event = "ticket.called"


@dataclass
class TicketUpdated:
    seq: int
    change: str
    ticket: dict
    data: dict = field(default_factory=dict)
    replayed: bool = False
    event = "ticket.updated"


@dataclass
class CounterUpdated:
    seq: int
    counter: dict
    replayed: bool = False
    event = "counter.updated"


@dataclass
class QueueUpdated:
    as_of: int  # the last seq these counts reflect
    services: dict
    position: dict | None = None  # ticket rooms: {id, waiting_ahead, serving_counters}
    event = "queue.updated"


@dataclass
class RatingRecorded:
    seq: int
    rating: dict  # id, ticket, code, counter, level, label, positive, status, flags, source, pressed_at
    event = "rating.recorded"


EVENT_NAMES = ("hello", "snapshot", "ticket.issued", "ticket.called", "ticket.updated", "counter.updated",
               "queue.updated", "device.updated", "rating.recorded", "alerts.updated", "notice.updated", "config.reloaded",
               "print.status", "print.job")


def ticket_room(ticket_id: int) -> str:
    return f"ticket:{ticket_id}"


class Push:
    """Turns committed changes into Socket.IO messages for the rooms that need them."""

    def __init__(self, socketio, read, *, coalesce_ms: int = 500, shared_queue: bool = False):
        self.socketio = socketio
        self.read = read
        self.coalesce_s = coalesce_ms / 1000
        self.shared_queue = shared_queue  # several server processes share rooms through a message queue
        self.dirty: set[str] = set()
        self.local_seqs: deque[int] = deque(maxlen=5000)
        self.local_set: set[int] = set()
        self.seen_seq = read.store.last_seq()
        self.followed: dict[int, int] = {}  # ticket id -> sockets of this process following it
        self._ticker = None
        self.phone_dirty: set[str] = set()  # services whose phones are owed a position
        self.phones_at = 0.0
        self._stop = False

    @property
    def config(self):
        return self.read.config

    # ------------------------------------------------------------ emit (the only calls to socketio.emit)
    def _emit(self, payload, room: str | None = None, to: str | None = None, local_only: bool = False) -> None:
        data = {f.name: getattr(payload, f.name) for f in fields(payload)}  # shallow: payloads hold plain dicts
        target = to or room
        if local_only and not to:
            self.socketio.emit(payload.event, data, to=target, ignore_queue=True)
        else:
            self.socketio.emit(payload.event, data, to=target)

    def send_to(self, sid: str, payload) -> None:
        self._emit(payload, to=sid)

    def send_device(self, payload) -> None:
        """A device's state changed (devices.Devices): supervisors see it."""
        self._emit(payload, room="supervisors")

    def send_rooms(self, payload, rooms) -> None:
        """A payload built elsewhere (print.status, ticket_printer.jobs) to some rooms."""
        for room in dict.fromkeys(rooms):
            self._emit(payload, room=room)

    def send_supervisors(self, payload) -> None:
        """Supervision (alerts.updated, computed by each process for its own clients): local supervisors."""
        self._emit(payload, room="supervisors", local_only=True)

    def broadcast(self, payload) -> None:
        """Every connected client (notice.updated, config.reloaded); each page takes what concerns it."""
        self._emit(payload)

    def notice_of(self, display) -> dict:
        """A display's notice: the one an admin set for it, else the one for every display ('*'), else config."""
        try:
            rows = {r[0]: (r[1], r[2]) for r in self.read.store.conn.execute(
                "SELECT display_id, text, text_en FROM display_notices WHERE display_id IN (?, '*')", (display.id,))}
        except Exception:  # noqa: BLE001 - no notices table (an old database): the config's notice
            rows = {}
        text, text_en = rows.get(display.id) or rows.get("*") or (display.notice, "")
        return {"notice": text, "notice_en": text_en}

    def send_rating(self, payload: "RatingRecorded", counter_id: str) -> None:
        """A rating was stored (feedback_buttons): its counter and the supervisors see it."""
        self._remember(payload.seq)
        for room in (f"counter:{counter_id}", "supervisors"):
            self._emit(payload, room=room)

    # ------------------------------------------------------------ rooms
    def dept_of_service(self, service_id: str) -> str | None:
        pair = self.config.services().get(service_id)
        return pair[0].id if pair else None

    def dept_of_counter(self, counter_id: str) -> str | None:
        try:
            return self.config.counter(counter_id).department
        except KeyError:
            return None

    def display_departments(self, display_id: str) -> set[str] | None:
        disp = next((d for d in self.config.devices.displays if d.id == display_id), None)
        if disp is None:
            return None
        if disp.kind == "counter" and disp.counter:
            return {self.config.counter(disp.counter).department}
        depts = {d.id for d in self.config.departments}
        if disp.departments:
            depts &= set(disp.departments)
        if disp.zone:
            depts = {d.id for d in self.config.departments if d.zone == disp.zone and d.id in depts}
        return depts

    def rooms_for(self, room: str) -> list[str]:
        """The Socket.IO rooms a client of `room` joins."""
        kind, _, ident = room.partition(":")
        if kind == "display":
            return [f"dept:{d}" for d in sorted(self.display_departments(ident) or ())]
        if kind in ("counter", "ticket"):
            return [room]
        if kind == "kiosk":
            return ["kiosks", room]  # kiosk:<id>: print.status of that kiosk's slips only
        if kind == "printer":
            return [room]  # printer:<kiosk id>: the printer agent of that kiosk (ticket_printer.jobs)
        if kind == "supervisors":
            return ["supervisors"]
        return []

    # ------------------------------------------------------------ publishing committed changes
    def publish(self, result) -> None:
        """Send what one committed operation changed. Called after COMMIT, never inside a transaction."""
        tickets = {t["id"]: t for t in result.tickets}
        for e in result.events:
            self._remember(e["seq"])
            self._publish_event(e, tickets)
        last = max((e["seq"] for e in result.events), default=None)
        if last is not None:
            for c in result.counters:
                self._publish_counter(c["id"], last)

    def _remember(self, seq: int) -> None:
        if len(self.local_seqs) == self.local_seqs.maxlen:
            self.local_set.discard(self.local_seqs[0])
        self.local_seqs.append(seq)
        self.local_set.add(seq)

    def _ticket_for(self, e: dict, tickets: dict) -> dict | None:
        tid = e.get("ticket_id")
        if tid is None:
            return None
        t = tickets.get(tid)
        if t is None:
            try:
                t = self.read.store.ticket(tid)
            except Exception:  # noqa: BLE001 - a vanished ticket cannot happen, but must not stop the push
                log.warning("event %s names missing ticket %s", e["seq"], tid)
                return None
        return t

    def _publish_event(self, e: dict, tickets: dict, replayed: bool = False, to: str | None = None) -> None:
        etype = e["type"]
        t = self._ticket_for(e, tickets)
        for sid in (e.get("service_id"), e["data"].get("from_service"), e["data"].get("to_service"), e["data"].get("service")):
            if sid:
                self.dirty.add(sid)
        if t is not None:
            staff_view = self.read.ticket_staff(t)
            dept = self.dept_of_service(t["service_id"])
            if etype == "ticket.issued":
                rooms = ["supervisors"]
                payload = TicketIssued(e["seq"], staff_view)
            elif etype in ("ticket.called", "ticket.resumed"):
                recall = bool(e["data"].get("recall"))
                call = self.read.call_view(e["seq"], e["ts_ms"], t["code"], e["counter_id"], t["service_id"], recall)
                payload = TicketCalled(e["seq"], call, staff_view, recall, replayed)
                rooms = [f"dept:{dept}", f"counter:{e['counter_id']}", ticket_room(t["id"]), "supervisors"]
            elif etype in CHANGE_OF:
                payload = TicketUpdated(e["seq"], CHANGE_OF[etype], staff_view, e["data"], replayed)
                rooms = [ticket_room(t["id"]), "supervisors"]
                if e.get("counter_id"):
                    rooms.append(f"counter:{e['counter_id']}")
                if e["data"].get("to_counter"):
                    rooms.append(f"counter:{e['data']['to_counter']}")
                if etype in ("ticket.transferred", "ticket.no_show", "ticket.unserved"):
                    rooms.append(f"dept:{dept}")
            else:
                return
        elif etype in ("counter.state", "counter.services"):
            if to is None:  # live: counter.updated follows from result.counters
                return
            self._publish_counter(e["counter_id"], e["seq"], replayed, to)
            return
        else:
            return
        if to is not None:
            self._emit(payload, to=to)
            return
        for room in dict.fromkeys(rooms):
            self._emit(payload, room=room)

    def _publish_counter(self, counter_id: str, seq: int, replayed: bool = False, to: str | None = None) -> None:
        try:
            state = self.read.counter_state(self.read.store.counter(counter_id))
        except Exception:  # noqa: BLE001
            log.warning("counter %s vanished from config", counter_id)
            return
        payload = CounterUpdated(seq, state, replayed)
        if to is not None:
            self._emit(payload, to=to)
            return
        for room in (f"counter:{counter_id}", f"dept:{self.dept_of_counter(counter_id)}", "supervisors"):
            self._emit(payload, room=room)
        for sid in state["services"]:
            self.dirty.add(sid)

    # ------------------------------------------------------------ connect: hello, snapshot or catch-up
    def greet(self, sid: str, room: str, last_seq: int | None, ticket: dict | None = None) -> None:
        self.send_to(sid, Hello(**self.read.hello(room)))
        store = self.read.store
        if last_seq is not None and 0 <= store.last_seq() - last_seq <= 500:
            missed = store.events_since(last_seq, limit=500)
            joined = set(self.rooms_for(room))
            for e in missed:
                if self._event_reaches(e, joined):
                    self._publish_event(e, {}, replayed=True, to=sid)
            return
        self.send_to(sid, Snapshot(store.last_seq(), room, self.snapshot(room, ticket)))

    def _event_reaches(self, e: dict, joined: set[str]) -> bool:
        if "supervisors" in joined:
            return True
        rooms = set()
        if e.get("service_id"):
            rooms.add(f"dept:{self.dept_of_service(e['service_id'])}")
        if e.get("counter_id"):
            rooms.add(f"counter:{e['counter_id']}")
            rooms.add(f"dept:{self.dept_of_counter(e['counter_id'])}")
        if e.get("ticket_id"):
            rooms.add(ticket_room(e["ticket_id"]))
        if e["data"].get("to_counter"):
            rooms.add(f"counter:{e['data']['to_counter']}")
        return bool(rooms & joined)

    def snapshot(self, room: str, ticket: dict | None = None) -> dict:
        v = self.read
        kind, _, ident = room.partition(":")
        if kind == "display":
            depts = self.display_departments(ident) or set()
            disp = next(d for d in self.config.devices.displays if d.id == ident)
            services = [s.id for d in self.config.departments if d.id in depts for s in d.services]
            return {"display": {**disp.model_dump(mode="json", exclude={"token"}), **self.notice_of(disp)},
                    "departments": [d for d in v.departments() if d["id"] in depts],
                    "services": v.queue_state(services),
                    "counters": [v.counter_state(c) for c in v.store.counters() if self.dept_of_counter(c["id"]) in depts],
                    "recent_calls": v.recent_calls(depts, disp.last_calls), "voice": self.config.voice.model_dump(mode="json"),
                    "centre": {"name": self.config.centre.name, "name_en": self.config.centre.name_en}}
        if kind == "counter":
            counter = v.counter_state(v.store.counter(ident))
            history = [v.ticket_staff(t) for t in v.store.conn.execute(
                """SELECT * FROM tickets WHERE day = ? AND (counter_id = ? OR target_counter_id = ?)
                   ORDER BY COALESCE(called_ms, queued_ms) DESC LIMIT 12""", (v.store.today(), ident, ident)).fetchall()
                       for t in [dict(t)]]
            return {"counter": counter, "services": v.queue_state(counter["services"]), "history": history}
        if kind == "kiosk":
            return {"departments": v.departments(), "services": v.services()}
        if kind == "ticket" and ticket is not None:
            return {"ticket": v.ticket_public(ticket)}
        if kind == "supervisors":
            return {"services": v.services(), "counters": [v.counter_state(c) for c in v.store.counters()]}
        return {}

    # ------------------------------------------------------------ following tickets (phones)
    def follow(self, ticket_id: int) -> None:
        self.followed[ticket_id] = self.followed.get(ticket_id, 0) + 1

    def unfollow(self, ticket_id: int) -> None:
        n = self.followed.get(ticket_id, 0) - 1
        if n <= 0:
            self.followed.pop(ticket_id, None)
        else:
            self.followed[ticket_id] = n

    # ------------------------------------------------------------ the coalescing tick
    def start(self) -> None:
        if self._ticker is None:
            self._ticker = self.socketio.start_background_task(self._run)

    def stop(self) -> None:
        self._stop = True

    def _run(self) -> None:
        while not self._stop:
            self.socketio.sleep(self.coalesce_s)
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - the ticker must outlive any one bad tick
                log.exception("push tick failed")

    def tick(self) -> None:
        self._catch_up_foreign()
        self._queue_tick()
        now = time.monotonic()
        if self.phone_dirty and now - self.phones_at >= PHONE_POSITION_SECONDS:
            self.phones_at = now
            dirty, self.phone_dirty = self.phone_dirty, set()
            if self.followed:
                self._send_positions(dirty, self.read.queue_state(sorted(dirty)), self.seen_seq)

    def _queue_tick(self) -> None:
        if not self.dirty:
            return
        dirty, self.dirty = self.dirty, set()
        v = self.read
        as_of = self.seen_seq
        known = self.config.services()
        dirty = {s for s in dirty if s in known}
        if not dirty:
            return
        state = v.queue_state(sorted(dirty))
        self._emit(QueueUpdated(as_of, state), room="supervisors", local_only=True)
        self._emit(QueueUpdated(as_of, state), room="kiosks", local_only=True)
        for dept in {self.dept_of_service(s) for s in dirty}:
            part = {s: state[s] for s in dirty if self.dept_of_service(s) == dept}
            self._emit(QueueUpdated(as_of, part), room=f"dept:{dept}", local_only=True)
        for c in v.store.counters():
            mine = [s for s in c["services"] if s in dirty]
            if mine:
                self._emit(QueueUpdated(as_of, {s: state[s] for s in mine}), room=f"counter:{c['id']}", local_only=True)
        self.phone_dirty |= dirty

    def _send_positions(self, dirty: set[str], state: dict, as_of: int) -> None:
        """Phones following tickets of the changed services get their place in line: one ordered read per
        service, not one count per phone."""
        v = self.read
        ids = list(self.followed)
        followed: dict[str, list[tuple[int, str]]] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            marks = ",".join("?" * len(chunk))
            for tid, sid, status in v.store.conn.execute(
                    f"SELECT id, service_id, status FROM tickets WHERE id IN ({marks})", chunk):
                if sid in dirty:
                    followed.setdefault(sid, []).append((tid, status))
        sent = 0
        for sid, tickets in followed.items():
            order = {tid: n for n, (tid,) in enumerate(v.store.conn.execute(
                """SELECT id FROM tickets WHERE day = ? AND service_id = ? AND status = 'waiting'
                   ORDER BY priority DESC, queued_ms, id""", (v.store.today(), sid)))}
            serving = v.serving_counters(sid)
            for tid, status in tickets:
                position = {"id": tid, "status": status, "waiting_ahead": order.get(tid), "serving_counters": serving}
                self._emit(QueueUpdated(as_of, {sid: state[sid]}, position), room=ticket_room(tid), local_only=True)
                sent += 1
                if sent % 25 == 0:
                    self.socketio.sleep(0)  # let calls and requests through between batches of phone updates

    def _catch_up_foreign(self) -> None:
        """Changes made by another process (the CLI, another writer) reach this process's clients too."""
        store = self.read.store
        now = store.now_ms()
        for e in store.events_since(self.seen_seq, limit=2000):
            if e["seq"] in self.local_set:
                self.seen_seq = e["seq"]
                continue
            if now - e["ts_ms"] < 300 and e["ts_ms"] <= now:
                break  # may still be on its way out of this process's own request; look again next tick
            self.seen_seq = e["seq"]
            if self.shared_queue:
                for sid in (e.get("service_id"), e["data"].get("service")):
                    if sid:
                        self.dirty.add(sid)
                continue
            self._remember(e["seq"])
            self._publish_event(e, {})
            if e["type"] in ("counter.state", "counter.services") and e.get("counter_id"):
                self._publish_counter(e["counter_id"], e["seq"])
