"""Read models: what each kind of client is shown. Plain dicts built from the store; no Flask here."""
from __future__ import annotations

from datetime import datetime

from queue_server import __version__
from queue_server.config import CentreConfig
from queue_server.core import estimate
from queue_server.core.rules import UNSET
from queue_server.store import Store, queue_reads

BOARD_SECONDS = 10  # the estimates of an unchanged queue are made again this often (on the push tick)


def iso_local(ms: int | None, config: CentreConfig) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, config.tz).isoformat(timespec="seconds")


class ReadModels:
    def __init__(self, store: Store):
        self.store = store
        self._board: tuple[tuple, dict] | None = None
        self._issued: dict[int, dict] = {}  # tickets issued since the board was made: the estimate they were told
        self.board_builds = 0

    @property
    def config(self) -> CentreConfig:
        return self.store.config

    # ------------------------------------------------------------ pieces
    def status_url(self, ticket: dict) -> str:
        return f"{self.config.centre.public_url.rstrip('/')}/t/{ticket['token']}"

    def counter_label(self, counter_id: str | None) -> dict | None:
        if counter_id is None:
            return None
        try:
            c = self.config.counter(counter_id)
        except KeyError:
            return {"id": counter_id, "number": None, "name": counter_id}
        return {"id": c.id, "number": c.number, "name": c.name or f"Quầy {c.number}"}

    def ticket_public(self, t: dict, *, with_position: bool = True) -> dict:
        """What anyone holding the slip may see of a ticket."""
        services = self.config.services()
        dept, svc = services.get(t["service_id"], (None, None))
        out = {
            "id": t["id"], "code": t["code"], "number": t["number"], "status": t["status"], "priority": t["priority"],
            "service": t["service_id"], "service_name": svc.name if svc else t["service_id"],
            "service_name_en": (svc.name_en if svc else "") or "",
            "department": dept.id if dept else None, "department_name": dept.name if dept else None,
            "department_name_en": (dept.name_en if dept else "") or "",
            "counter": self.counter_label(t["counter_id"] or t["target_counter_id"]),
            "issued_at": iso_local(t["issued_ms"], self.config), "called_at": iso_local(t["called_ms"], self.config),
            "finished_at": iso_local(t["finished_ms"], self.config), "recall_count": t["recall_count"],
            "day": t["day"],
        }
        if with_position:
            wait = self.wait_of(t)
            out["waiting_ahead"] = wait["ahead"] if wait["ahead"] is not None else self.store.position(t)
            out["serving_counters"] = self.serving_counters(t["service_id"])
            out["wait"] = wait
        return out

    def ticket_staff(self, t: dict) -> dict:
        """A ticket as the counter terminal and supervisors see it (times in ms for timers)."""
        out = self.ticket_public(t, with_position=False)
        out.update({"issued_ms": t["issued_ms"], "called_ms": t["called_ms"], "started_ms": t["started_ms"],
                    "transfer_count": t["transfer_count"], "source": t["source"], "priority_group": t["priority_group"]})
        return out

    def serving_counters(self, service_id: str, counters: list[dict] | None = None) -> list[dict]:
        """Open counters serving the service (`counters`: store.counters() already read, for a loop)."""
        if counters is None:  # read only the open counters whose service list names this service
            known = self.config.counter_ids()
            return [self.counter_label(cid) for cid in self.store.open_counters_serving(service_id) if cid in known]
        return [self.counter_label(c["id"]) for c in counters if service_id in c["services"] and c["state"] == "open"]

    def issued(self, result, wait: dict | None) -> dict:
        """The answer to issuing a ticket (kiosk or staff): includes the status link with its secret token.
        `wait`: the new ticket's estimate, the "one ticket more" of its service on the board made before the
        write (wait_for_new); the board is not made again inside the write's request."""
        t = result.ticket
        out = self.ticket_public(t, with_position=False)
        if wait is None:
            wait = self._not_waiting()
        else:
            self._issued[t["id"]] = wait  # its status shows the same until the next board counts it
        ahead = wait["ahead"] if wait["ahead"] is not None else result.waiting_ahead
        out.update({"waiting_ahead": ahead, "status_url": self.status_url(t), "token": t["token"],
                    "estimated_wait_minutes": wait["minutes"], "wait": wait})
        return out

    # ------------------------------------------------------------ the wait estimate (core/estimate.py)
    def wait_board(self) -> dict:
        """The estimate of every waiting ticket ("t", by id) and of one ticket more of each service, plain ("s")
        and priority ("p"), from one replay of the calling order: as the push tick last made it
        (refresh_board). Made here only when there is none yet or the config was reloaded, so a write's request
        never replays the queue."""
        if self._board is None or self._board[0][0] != id(self.config):
            self.refresh_board()
        return self._board[1]

    def refresh_board(self) -> bool:
        """Make the board again when the queue changed or BOARD_SECONDS passed. Called by the push tick (off any
        request, at most once a tick). Returns whether it was made."""
        now = self.store.now_ms()
        key = (id(self.config), self.store.last_seq(), now // (BOARD_SECONDS * 1000))
        if self._board is not None and self._board[0] == key:
            return False
        board = self._make_board(now)
        self._board, self._issued = (key, board), {}
        self.board_builds += 1
        return True

    def wait_for_new(self, service_id: str, priority: bool = False) -> dict | None:
        """What a ticket of the service issued now is told: the board's "one ticket more" (its marker stands at
        the end of the service's line, exactly where the new ticket goes). None for an unknown service."""
        return self.wait_board()["p" if priority else "s"].get(service_id)

    def _make_board(self, now: int) -> dict:
        services = self.config.services()
        recent = queue_reads.recent_service_times(self.store, estimate.RECENT_TICKETS)
        times = {sid: estimate.service_time(recent.get(sid, []), svc.avg_service_minutes)
                 for sid, (_, svc) in services.items()}
        waiting, counters, at_counter = queue_reads.estimate_inputs(self.store)
        busy = {}
        for c in counters:
            cur = at_counter.get(c.id)
            busy[c.id] = estimate.busy_until(cur, times.get(cur.service_id) if cur else None, now)
        plain = [estimate.marker(sid, now, i) for i, sid in enumerate(services)]
        priority = [estimate.marker(sid, now, len(plain) + i, priority=True) for i, sid in enumerate(services)]
        places = estimate.replay(waiting, counters, busy, {sid: t.mean for sid, t in times.items()}, now,
                                 self.config.priority.max_consecutive, markers=plain + priority,
                                 walk_ins_per_booked=self.config.queue.walk_ins_per_booked)
        statuses = self.store.service_statuses()

        serving: dict[tuple, tuple[int, int]] = {}  # (service, counter sent to) -> counters open, on a break

        def judge(ticket, place):
            key = (ticket.service_id, ticket.target_counter_id)
            if key not in serving:
                mine = [c.state for c in counters if estimate.serves(c, ticket)]
                serving[key] = (mine.count("open"), mine.count("break"))
            open_serving, on_break = serving[key]
            st = statuses.get(ticket.service_id)
            opens_at = st.opens_at if st is not None and not st.open else None
            day_over = st is not None and not st.open and (opens_at is None or len(opens_at) > 5)
            sigma = times[ticket.service_id].sigma if ticket.service_id in times else estimate.PRIOR_SIGMA
            e = estimate.judge(place, open_serving=open_serving, on_break=on_break, sigma=sigma,
                               opens_at=opens_at, day_over=day_over)
            return {**e.as_dict(), "text": {"vi": estimate.wait_text(e, "vi"), "en": estimate.wait_text(e, "en")},
                    "short": {"vi": estimate.wait_short(e, "vi"), "en": estimate.wait_short(e, "en")}}

        return {"t": {t.id: judge(t, places.get(t.id)) for t in waiting},
                "s": {m.service_id: judge(m, places.get(m.id)) for m in plain},
                "p": {m.service_id: judge(m, places.get(m.id)) for m in priority}}

    def wait_of(self, ticket: dict) -> dict:
        """The estimate of one ticket (state, people ahead, median and range, the sentence in vi and en)."""
        found = None
        if ticket["status"] == "waiting":
            found = self.wait_board()["t"].get(ticket["id"]) or self._issued.get(ticket["id"])
        return self._not_waiting() if found is None else found

    @staticmethod
    def _not_waiting() -> dict:
        e = estimate.Estimate("not_waiting")
        return {**e.as_dict(), "text": {"vi": "", "en": ""}, "short": {"vi": "", "en": ""}}

    def position_of(self, ticket_id: int, status: str, in_service: int | None) -> dict:
        """A phone's live place: the people ahead and the wait from the estimate (`in_service`, the place in
        its own service's line, when the estimate has none)."""
        found = None
        if status == "waiting":
            found = self.wait_board()["t"].get(ticket_id) or self._issued.get(ticket_id)
        if found is None:
            return {"waiting_ahead": in_service, "wait": None}
        return {"waiting_ahead": found["ahead"] if found["ahead"] is not None else in_service, "wait": found}

    def wait_for_service(self, service_id: str) -> dict | None:
        """The estimate of one ticket more of a service: what the kiosk shows before issuing."""
        return self.wait_board()["s"].get(service_id)

    def estimated_wait(self, service_id: str, ahead: int | None, counters: list[dict] | None = None) -> int | None:
        """The former formula (a baseline): `ahead` × the median of recent service times ÷ open counters."""
        if ahead is None:
            return None
        per_ticket = estimate.minutes_per_ticket(self.store.recent_service_ms(service_id, estimate.RECENT_TICKETS),
                                                 self.config.service(service_id).avg_service_minutes)
        return estimate.wait_minutes(ahead, per_ticket, len(self.serving_counters(service_id, counters)))

    def counter_state(self, c: dict, current=UNSET) -> dict:
        """A counter as staff and supervisors see it. `current`: its current ticket's staff view, when the
        caller has it (push.views.Built); else it is read."""
        cfg = self.config.counter(c["id"])
        if current is UNSET:
            t = self.store.ticket(c["current_ticket_id"]) if c["current_ticket_id"] else None
            current = self.ticket_staff(t) if t else None
        return {**c, "name": cfg.name or f"Quầy {cfg.number}", "department": cfg.department, "zone": cfg.zone,
                "staff_name": self.store_staff_name(c["staff_id"]), "current": current}

    def store_staff_name(self, staff_id: int | None) -> str:
        return self.store.staff_name(staff_id) if staff_id is not None else ""

    # ------------------------------------------------------------ what a public display shows
    def ticket_on_display(self, t: dict, *, status: str, service_id: str, counter_id: str | None,
                          extras=frozenset()) -> dict:
        """A ticket on a public screen: its number, service, department and counter. Built from what never
        changes in a ticket and from the event, so a replay shows what was shown live. The priority group
        only where the display's show_extra asks for it."""
        dept, svc = self.config.services().get(service_id, (None, None))
        out = {"id": t["id"], "code": t["code"], "number": t["number"], "status": status, "service": service_id,
               "service_name": svc.name if svc else service_id, "service_name_en": (svc.name_en if svc else "") or "",
               "department": dept.id if dept else None, "department_name": dept.name if dept else None,
               "department_name_en": (dept.name_en if dept else "") or "", "counter": self.counter_label(counter_id)}
        if "priority_group" in extras:
            out.update(priority=bool(t["priority"]), priority_group=t["priority_group"])
        return out

    def counter_on_display(self, counter_id: str, state: str, *, staff_id: int | None = None, extras=frozenset(),
                           current=UNSET) -> dict:
        """A counter on a public screen: number, name, department, zone, state (and its current ticket in a
        snapshot; live, tickets come with ticket.called and ticket.updated). Staff names only where asked."""
        cfg = self.config.counter(counter_id)
        out = {"id": counter_id, "number": cfg.number, "name": cfg.name or f"Quầy {cfg.number}",
               "department": cfg.department, "zone": cfg.zone, "state": state}
        if current is not UNSET:
            out["current"] = current
        if "staff_name" in extras:
            out["staff_name"] = self.store_staff_name(staff_id)
        return out

    def services(self) -> list[dict]:
        statuses = self.store.service_statuses()
        waiting = self.store.waiting_counts()
        out = []
        for d in self.config.departments:
            for s in d.services:
                st = statuses[s.id]
                out.append({"id": s.id, "name": s.name, "name_en": s.name_en, "department": d.id,
                            "department_name": d.name, "department_name_en": d.name_en, "zone": d.zone,
                            "waiting": waiting[s.id], "state": "open" if st.open else ("full" if st.reason == "full" else "closed"),
                            "reason": st.reason, "opens_at": st.opens_at, "daily_cap": st.cap, "issued_today": st.issued_today,
                            "booked_to_come": st.reserved,
                            "target_wait_minutes": s.target_wait_minutes,
                            "estimated_wait_minutes": (self.wait_for_service(s.id) or {}).get("minutes"),
                            "wait": self.wait_for_service(s.id)})
        return out

    def departments(self) -> list[dict]:
        return [{"id": d.id, "name": d.name, "name_en": d.name_en, "short_name": d.short_name, "zone": d.zone,
                 "services": [s.id for s in d.services]} for d in self.config.departments]

    def recent_calls(self, departments: set[str] | None, limit: int) -> list[dict]:
        """The last calls of today for these departments (None: all), newest first, as displays show them."""
        svc_dept = {sid: d.id for sid, (d, _) in self.config.services().items()}
        out = []
        for r in self.store.recent_call_rows(limit * 20 if departments else limit):
            if departments is not None and svc_dept.get(r["service_id"]) not in departments:
                continue
            out.append(self.call_view(r["seq"], r["ts_ms"], r["code"], r["counter_id"], r["service_id"], r["recall"]))
            if len(out) >= limit:
                break
        return out

    def call_view(self, seq: int, ts_ms: int, code: str, counter_id: str, service_id: str, recall: bool,
                  voice: bool = True) -> dict:
        """A call. `voice`: with the clips to play (display rooms only: nobody else plays them)."""
        dept, svc = self.config.services()[service_id]
        counter = self.counter_label(counter_id)
        out = {"seq": seq, "code": code, "counter": counter, "service": service_id,
               "service_name": svc.name, "department": dept.id, "department_name": dept.name, "recall": recall,
               "announce_en": svc.announce_en, "at": iso_local(ts_ms, self.config)}
        if voice:
            out["voice"] = self.voice_of(code, counter, svc.announce_en)
        return out

    def voice_of(self, code: str, counter: dict | None, announce_en: bool) -> dict | None:
        """The announcement of a call: clip names to play and the sentence (displays/voice.py, docs/voice.md)."""
        from queue_server.core.voice import announcement

        spoken_counter = counter["number"] if counter and counter["number"] is not None else (counter or {}).get("id", "")
        try:
            return announcement(code, spoken_counter, self.config.voice, announce_en=announce_en)
        except ValueError:  # a code or counter that cannot be read aloud: shown, not announced
            return None

    def queue_state(self, service_ids) -> dict:
        """Waiting counts, the next few numbers and the estimate for one ticket more of some services (for
        queue.updated: the counter terminal shows the estimate beside each of its services)."""
        waiting = self.store.waiting_counts()
        out = {}
        for sid in service_ids:
            st = self.store.service_status(sid)
            w = self.wait_for_service(sid) or {}
            out[sid] = {"waiting": waiting[sid], "next": self.store.waiting_heads(sid, 5),
                        "state": "open" if st.open else ("full" if st.reason == "full" else "closed"), "reason": st.reason,
                        "wait": {k: w.get(k) for k in ("state", "minutes", "low", "high", "short")}}
        return out

    def hello(self, room_kind: str) -> dict:
        return {"version": __version__, "config_hash": self.config.config_hash(), "centre": self.config.centre.name,
                "server_time": iso_local(self.store.now_ms(), self.config), "room": room_kind}
