"""The live publisher: the only place that calls Socket.IO's emit.

After a write commits, `publish(result)` builds each payload once per audience from what the write
returned (push.views.Built) and sends it to that audience's rooms (push.audiences). Calls go out at once;
queue counts and phones' positions are coalesced per room on a short tick.

Each queue message sent live carries `prev`: for each room it goes to, the seq of the message this process
sent to that room before it (`room_seq`). A client that has not applied that seq lost a message and asks for
the catch-up (push.catch_up); `live.beat`, every BEAT_SECONDS on the tick to the rooms with sockets here,
carries each room's last seq, so a lost last message is noticed too.
"""
from __future__ import annotations

import logging
import time
from collections import deque

from queue_server.push.audiences import PHONE, STAFF, SUPERVISORS, Rooms, dept_room, payload_for, ticket_room
from queue_server.push.catch_up import CatchUp
from queue_server.push.payloads import CounterUpdated, LiveBeat, QueueUpdated, as_dict
from queue_server.push.views import Built

log = logging.getLogger(__name__)
PHONE_POSITION_SECONDS = 1.0  # a phone's place in line: at most once a second
BEAT_SECONDS = 5.0  # live.beat: each room with sockets here hears its last seq this often


class Push(CatchUp):
    """Turns committed changes into Socket.IO messages for the rooms that need them."""

    def __init__(self, socketio, read, *, coalesce_ms: int = 500):
        self.socketio = socketio
        self.read = read
        self.rooms = Rooms(read)
        self.coalesce_s = coalesce_ms / 1000
        self.bus = None  # push.bus.Bus when several server processes share the database through Redis
        self.delivered: set[int] = set()  # others' events sent here on their process's note, ahead of the tick
        self.dirty: set[str] = set()
        self.local_seqs: deque[int] = deque(maxlen=5000)
        self.local_set: set[int] = set()
        self.seen_seq = read.store.last_seq()
        self.followed: dict[int, int] = {}  # ticket id -> sockets of this process following it
        self._ticker = None
        self.phone_dirty: set[str] = set()  # services whose phones are owed a position
        self.phones_at = 0.0
        self.room_seq: dict[str, int] = {}  # room -> the seq of the last queue message this process sent there
        self.beat_at = 0.0
        self._stop = False

    @property
    def config(self):
        return self.read.config

    # ------------------------------------------------------------ emit (the only calls to socketio.emit)
    def _emit(self, payload, room: str | list[str] | None = None, to: str | None = None, forward: bool = False) -> None:
        """Send to this process's sockets. `forward`: a payload the event log does not carry, which other
        processes' sockets get through the message queue (push.bus); they deliver logged events themselves."""
        data = as_dict(payload)
        self.socketio.emit(payload.event, data, to=to or room)
        if forward and self.bus is not None and not to:
            self.bus.emit(payload.event, data, room)

    def emit_forwarded(self, event: str, data, room) -> None:
        """A payload another process forwarded (push.bus): to this process's sockets."""
        self.socketio.emit(event, data, to=room)

    def send_to(self, sid: str, payload) -> None:
        self._emit(payload, to=sid)

    def send_device(self, payload) -> None:
        """A device's state changed (devices.Devices): supervisors see it."""
        self._emit(payload, room="supervisors", forward=True)

    def send_rooms(self, payload, rooms) -> None:
        """A payload built elsewhere (print.status, ticket_printer.server.jobs) to some rooms."""
        for room in dict.fromkeys(rooms):
            self._emit(payload, room=room, forward=True)

    def send_supervisors(self, payload) -> None:
        """Supervision (alerts.updated, computed by each process for its own clients): local supervisors."""
        self._emit(payload, room="supervisors")

    def broadcast(self, payload) -> None:
        """Every connected client (notice.updated, config.reloaded); each page takes what concerns it."""
        self._emit(payload, forward=True)

    def send_rating(self, payload, counter_id: str) -> None:
        """A rating was stored (feedback_buttons): its counter and the supervisors see it."""
        self._remember(payload.seq)
        for room in (f"counter:{counter_id}", "supervisors"):
            self._emit(payload, room=room, forward=True)

    # ------------------------------------------------------------ rooms (push.audiences.Rooms)
    def dept_of_service(self, service_id: str) -> str | None:
        return self.rooms.dept_of_service(service_id)

    def dept_of_counter(self, counter_id: str) -> str | None:
        return self.rooms.dept_of_counter(counter_id)

    def display_departments(self, display_id: str) -> set[str] | None:
        return self.rooms.display_departments(display_id)

    def rooms_for(self, room: str) -> list[str]:
        return self.rooms.rooms_for(room)

    # ------------------------------------------------------------ publishing committed changes
    def publish(self, result) -> Built:
        """Send what one committed operation changed. Called after COMMIT, never inside a transaction.
        Returns the views it built, for the caller's answer."""
        built = Built.of(self.read, result)
        audiences = self._audiences()
        for e in result.events:
            self._remember(e["seq"])
            self._mark_dirty(e)
            self._send_event(e, built, audiences)
        last = max((e["seq"] for e in result.events), default=None)
        if last is not None:
            for c in result.counters:
                self._send_counter(built, c["id"], last)
        if self.bus is not None:
            self.bus.committed([e["seq"] for e in result.events])  # queued: the request never waits on Redis
        return built

    def _mark_dirty(self, e: dict) -> None:
        for sid in (e.get("service_id"), e["data"].get("from_service"), e["data"].get("to_service"), e["data"].get("service")):
            if sid:
                self.dirty.add(sid)

    def _send_event(self, e: dict, built: Built, audiences) -> None:
        for audience in audiences:
            rooms = self.rooms.rooms_of(e, audience)
            if not rooms:
                continue
            payload = payload_for(e, audience, built)
            if payload is None:
                continue
            payload.prev = self._link(rooms, e["seq"])
            self._emit(payload, room=rooms[0] if len(rooms) == 1 else rooms)  # a client in two rooms: once

    def _send_counter(self, built: Built, counter_id: str, seq: int) -> None:
        """counter.updated for staff at that counter and for supervisors (displays hear counter.state events)."""
        try:
            state = built.staff_counter(counter_id)
        except Exception:  # noqa: BLE001
            log.warning("counter %s vanished from config", counter_id)
            return
        rooms = [f"counter:{counter_id}", "supervisors"]
        self._emit(CounterUpdated(seq, state, prev=self._link(rooms, seq)), room=rooms)
        for sid in state["services"]:
            self.dirty.add(sid)

    def _link(self, rooms: list[str], seq: int) -> dict:
        """`prev` of a message with `seq` to `rooms`: each room's previous seq here (None: none since start)."""
        prev = {r: self.room_seq.get(r) for r in rooms}
        for r in rooms:
            self.room_seq[r] = seq
        return prev

    def beat(self) -> int:
        """live.beat to each room with sockets of this process: the seq of the last queue message sent there.
        Rooms left without sockets are forgotten (their next message has no prev, as after a restart).
        Returns how many rooms heard it."""
        present = self.socketio.server.manager.rooms.get("/", {})
        sent = 0
        for room, seq in list(self.room_seq.items()):
            if not present.get(room):
                self.room_seq.pop(room, None)
                continue
            self._emit(LiveBeat({room: seq}), room=room)
            sent += 1
            if sent % 100 == 0:
                self.socketio.sleep(0)
        return sent

    def _remember(self, seq: int) -> None:
        if len(self.local_seqs) == self.local_seqs.maxlen:
            self.local_set.discard(self.local_seqs[0])
        self.local_seqs.append(seq)
        self.local_set.add(seq)

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
        try:
            self.read.refresh_board()  # the wait estimates, when the queue changed: here, never in a write's request
        except Exception:  # noqa: BLE001 - the counts and calls still go out; the next tick tries again
            log.exception("making the wait estimates failed")
        self._queue_tick()
        now = time.monotonic()
        if now - self.beat_at >= BEAT_SECONDS:
            self.beat_at = now
            self.beat()
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
        self._emit(QueueUpdated(as_of, state), room="supervisors")
        self._emit(QueueUpdated(as_of, state), room="kiosks")
        displays = self.rooms.display_audiences()
        for dept in {self.dept_of_service(s) for s in dirty}:
            part = QueueUpdated(as_of, {s: state[s] for s in dirty if self.dept_of_service(s) == dept})
            for audience in displays:
                self._emit(part, room=dept_room(dept, audience.extras))
        for c in v.store.counters():
            mine = [s for s in c["services"] if s in dirty]
            if mine:
                self._emit(QueueUpdated(as_of, {s: state[s] for s in mine}), room=f"counter:{c['id']}")
        self.phone_dirty |= dirty

    def _send_positions(self, dirty: set[str], state: dict, as_of: int) -> None:
        """Phones following tickets of the changed services get their place in line: one ordered read per
        service, not one count per phone."""
        v = self.read
        followed: dict[str, list[tuple[int, str]]] = {}
        for tid, sid, status in v.store.ticket_services(list(self.followed)):
            if sid in dirty:
                followed.setdefault(sid, []).append((tid, status))
        sent = 0
        for sid, tickets in followed.items():
            order = {tid: n for n, tid in enumerate(v.store.waiting_order(sid))}
            serving = v.serving_counters(sid)
            for tid, status in tickets:
                position = {"id": tid, "status": status, **v.position_of(tid, status, order.get(tid)),
                            "serving_counters": serving}
                self._emit(QueueUpdated(as_of, {sid: state[sid]}, position), room=ticket_room(tid))
                sent += 1
                if sent % 25 == 0:
                    self.socketio.sleep(0)  # let calls and requests through between batches of phone updates

    def _catch_up_foreign(self) -> None:
        """Changes made by another process (another server, the CLI) reach this process's clients from the event
        log: on the tick, or sooner when that process's note arrives (`deliver_committed`)."""
        store = self.read.store
        now = store.now_ms()
        context = None
        for e in store.events_since(self.seen_seq, limit=2000):
            seq = e["seq"]
            if seq in self.local_set or seq in self.delivered:
                self.seen_seq = seq
                self.delivered.discard(seq)
                continue
            if now - e["ts_ms"] < 300 and e["ts_ms"] <= now:
                break  # may still be on its way out of this process's own request; look again next tick
            self.seen_seq = seq  # before sending: a note for it arriving meanwhile finds it taken
            context = context or self._audiences()
            self._send_foreign(e, context)

    def deliver_committed(self, seqs: list[int] | None) -> None:
        """Another process committed `seqs` (push.bus): send them to this process's clients now, from the log.
        None: the link was down; look through the log at once."""
        if seqs is None:
            self._catch_up_foreign()
            return
        fresh = sorted(s for s in seqs if s > self.seen_seq and s not in self.local_set and s not in self.delivered)
        if not fresh:
            return
        self.delivered.update(fresh)  # before sending: the tick skips them
        wanted = set(fresh)
        audiences = self._audiences()
        for e in self.read.store.events_since(fresh[0] - 1, limit=fresh[-1] - fresh[0] + 1):
            if e["seq"] in wanted:
                self._send_foreign(e, audiences)

    def _audiences(self) -> list:
        return [*self.rooms.display_audiences(), STAFF, SUPERVISORS, PHONE]

    def _send_foreign(self, e: dict, audiences) -> None:
        built = Built(self.read)  # the tickets and counters as they are now, read for this event
        self._remember(e["seq"])
        self._mark_dirty(e)
        self._send_event(e, built, audiences)
        if e["type"] in ("counter.state", "counter.services") and e.get("counter_id"):
            self._send_counter(built, e["counter_id"], e["seq"])
