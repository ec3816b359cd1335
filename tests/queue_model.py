"""A model of the queue, written from the rules (docs/rules.md), not from the engine.

It holds every ticket and counter as plain dicts and performs each operation of the store on them: an
operation either raises `Refused(code)` and changes nothing, or changes the model and returns what the store
should return. The state machine (test_store_machine.py) runs each operation on the model and on the real
store, and checks that both refuse with the same code or both succeed with the same answer, and that the
whole state agrees after every step. Every refusal code the store gives is thereby justified by a rule below.

Only the centre's configuration is read from the config objects (services, ranges, hours, counters);
no queue rule of queue_server is used here.
"""
from __future__ import annotations

from datetime import datetime, timedelta

ACTIVE = ("waiting", "called", "serving", "parked")
AT_COUNTER = ("called", "serving")
WEEKDAY = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
UNSET = object()


class Refused(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class QueueModel:
    def __init__(self, config):
        self.config = config
        self.tz = config.tz
        q = config.queue
        self.mode = q.next_with_open_ticket
        self.wrap = q.on_range_exhausted == "wrap"
        self.always_open = q.always_open
        self.window_ms = int(q.repeat_press_seconds * 1000)
        self.max_prio = config.priority.max_consecutive
        self.groups = {g.id for g in config.priority.groups}
        self.services = config.services()
        self.tickets: dict[int, dict] = {}
        self.next_id = 1
        self.counters = {c.id: {"state": "closed", "current": None, "streak": 0, "override": None}
                         for c in config.counters}
        self.service_state = {sid: {"manual": "auto", "cap_override": None} for sid in self.services}
        self.issued: dict[tuple[str, str], int] = {}  # (day, service) -> slips issued
        self.seq_count: dict[tuple[str, str], int] = {}  # (day, range key) -> tickets numbered

    # ------------------------------------------------------------ time and config
    def local(self, now_ms: int) -> datetime:
        return datetime.fromtimestamp(now_ms / 1000, self.tz)

    def day(self, now_ms: int) -> str:
        return self.local(now_ms).date().isoformat()

    def services_of(self, counter_id: str) -> list[str]:
        return self.counters[counter_id]["override"] or list(self.config.counter(counter_id).services)

    def _counter(self, counter_id: str) -> dict:
        if counter_id not in self.counters:
            raise Refused("counter_unknown")
        return self.counters[counter_id]

    def _ticket(self, ticket_id: int) -> dict:
        if ticket_id not in self.tickets:
            raise Refused("ticket_unknown")
        return self.tickets[ticket_id]

    # ------------------------------------------------------------ issuing
    def is_open(self, service_id: str, now_ms: int, booked: bool = False) -> str | None:
        """None when the service may issue now, else the refusal: service_closed or service_full. `booked`: a
        booking's check-in, whose place the daily cap kept (docs/booking.md): the cap does not refuse it."""
        state = self.service_state[service_id]
        svc = self.services[service_id][1]
        cap = state["cap_override"] if state["cap_override"] is not None else svc.daily_cap
        if state["manual"] == "closed":
            return "service_closed"
        if cap is not None and not booked and self.issued.get((self.day(now_ms), service_id), 0) >= cap:
            return "service_full"
        if state["manual"] == "open" or self.always_open:
            return None
        local = self.local(now_ms)
        hours = self.config.hours
        if WEEKDAY_NAME[local.weekday()] not in hours.weekdays or local.date() in hours.holidays:
            return "service_closed"
        windows = svc.windows if svc.windows is not None else hours.windows
        t = local.time()
        if any(w.start <= t < w.end for w in windows):
            return None
        return "service_closed"

    def issue(self, now_ms: int, service_id: str, priority: bool = False, priority_group: str | None = None) -> dict:
        if service_id not in self.services:
            raise Refused("service_unknown")
        if priority_group is not None:
            if priority_group not in self.groups:
                raise Refused("priority_group_unknown")
            priority = True
        refusal = self.is_open(service_id, now_ms)
        if refusal:
            raise Refused(refusal)
        day = self.day(now_ms)
        key, rng = self.config.numbering_of(service_id)
        index = self.seq_count.get((day, key), 0)
        size = rng.end - rng.start + 1
        number = rng.start + index % size
        if index >= size:
            held = {t["number"] for t in self.tickets.values()
                    if t["day"] == day and t["seq_key"] == key and t["status"] in ACTIVE}
            if not self.wrap or number in held:
                raise Refused("range_exhausted")
        t = {"id": self.next_id, "day": day, "service_id": service_id, "seq_key": key, "number": number,
             "code": f"{rng.prefix}{number:0{rng.width}d}", "status": "waiting", "priority": priority,
             "issued_ms": now_ms, "queued_ms": now_ms, "counter_id": None, "target_counter_id": None,
             "called_ms": None, "started_ms": None, "finished_ms": None, "recall_count": 0, "transfer_count": 0}
        self.tickets[t["id"]] = t
        self.next_id += 1
        self.seq_count[(day, key)] = index + 1
        self.issued[(day, service_id)] = self.issued.get((day, service_id), 0) + 1
        return t

    # ------------------------------------------------------------ choosing
    def candidates(self, counter_id: str, now_ms: int) -> list[dict]:
        services = self.services_of(counter_id)
        today = self.day(now_ms)
        return [t for t in self.tickets.values() if t["status"] == "waiting" and t["day"] == today
                and (t["target_counter_id"] == counter_id
                     or (t["target_counter_id"] is None and t["service_id"] in services))]

    def expected_next(self, counter_id: str, now_ms: int) -> dict | None:
        """Sent here by name first; priority before normal until the bound; then the counter's policy."""
        cands = self.candidates(counter_id, now_ms)
        if not cands:
            return None
        prio = [t for t in cands if t["priority"]]
        normal = [t for t in cands if not t["priority"]]
        pool = prio if prio and (not normal or self.counters[counter_id]["streak"] < self.max_prio) else normal
        rank = lambda t: (t["queued_ms"], t["id"])  # noqa: E731
        direct = [t for t in pool if t["target_counter_id"] == counter_id]
        if direct:
            return min(direct, key=rank)
        conf = self.config.counter(counter_id)
        if conf.policy == "order":
            for sid in self.services_of(counter_id):
                same = [t for t in pool if t["service_id"] == sid]
                if same:
                    return min(same, key=rank)
        if conf.policy == "weighted":
            heads = {}
            for t in sorted(pool, key=rank):
                heads.setdefault(t["service_id"], t)
            weight = lambda t: conf.weights.get(t["service_id"], 1.0)  # noqa: E731
            return max(heads.values(), key=lambda t: ((now_ms - t["queued_ms"] + 1) * weight(t), -t["queued_ms"], -t["id"]))
        return min(pool, key=rank)

    # ------------------------------------------------------------ calling
    def _free_counter(self, counter_id: str, now_ms: int) -> None:
        """Before a new call or leaving the desk: the open ticket is finished (finish) or the action refused."""
        cur = self.counters[counter_id]["current"]
        if cur is None:
            return
        if self.mode == "refuse":
            raise Refused("counter_busy")

    def _finish_current(self, counter_id: str, now_ms: int) -> None:
        cur = self.counters[counter_id]["current"]
        if cur is not None:
            t = self.tickets[cur]
            t.update(status="done", finished_ms=now_ms,
                     started_ms=t["started_ms"] if t["started_ms"] is not None else t["called_ms"])
            self.counters[counter_id]["current"] = None

    def _call(self, counter_id: str, t: dict, now_ms: int, resuming: bool) -> dict:
        c = self.counters[counter_id]
        self._finish_current(counter_id, now_ms)
        t.update(status="called", counter_id=counter_id, target_counter_id=None, called_ms=now_ms, started_ms=None)
        if not resuming:
            c["streak"] = c["streak"] + 1 if t["priority"] else 0
        c["current"] = t["id"]
        return t

    def is_repeat(self, counter_id: str, expect, now_ms: int) -> bool:
        cur = self.counters[counter_id]["current"]
        if cur is None:
            return False
        t = self.tickets[cur]
        if expect is not UNSET:
            return expect != cur
        return t["status"] == "called" and now_ms - t["called_ms"] < self.window_ms

    def call_next(self, now_ms: int, counter_id: str, expect=UNSET) -> tuple[dict, bool]:
        """(the ticket, whether the press was a repeat of one already served)."""
        c = self._counter(counter_id)
        if c["state"] != "open":
            raise Refused("counter_not_open")
        if self.is_repeat(counter_id, expect, now_ms):
            return self.tickets[c["current"]], True
        self._free_counter(counter_id, now_ms)
        chosen = self.expected_next(counter_id, now_ms)
        if chosen is None:
            raise Refused("nothing_waiting")
        return self._call(counter_id, chosen, now_ms, resuming=False), False

    def find_code(self, code: str, service_id: str, now_ms: int) -> dict:
        today = self.day(now_ms)
        rows = sorted((t for t in self.tickets.values() if t["day"] == today and t["code"] == code
                       and t["service_id"] == service_id), key=lambda t: -t["id"])
        if not rows:
            raise Refused("ticket_unknown")
        active = [t for t in rows if t["status"] in ACTIVE]
        if len(active) > 1:
            raise Refused("code_ambiguous")
        return active[0] if active else rows[0]

    def call_code(self, now_ms: int, counter_id: str, code: str, service_id: str) -> tuple[dict, bool]:
        """(the ticket, whether it was a resume)."""
        t = self.find_code(code, service_id, now_ms)
        c = self._counter(counter_id)
        if c["state"] != "open":
            raise Refused("counter_not_open")
        if t["status"] == "parked":
            if t["counter_id"] != counter_id:
                raise Refused("wrong_counter")
        elif t["status"] != "waiting":
            raise Refused("not_waiting")
        elif not (t["target_counter_id"] == counter_id
                  or (t["target_counter_id"] is None and t["service_id"] in self.services_of(counter_id))):
            raise Refused("not_for_counter")
        self._free_counter(counter_id, now_ms)
        resuming = t["status"] == "parked"
        return self._call(counter_id, t, now_ms, resuming), resuming

    def resume(self, now_ms: int, ticket_id: int, counter_id: str) -> dict:
        c = self._counter(counter_id)
        t = self._ticket(ticket_id)
        if t["status"] != "parked":
            raise Refused("not_parked")
        if c["state"] != "open":
            raise Refused("counter_not_open")
        if t["counter_id"] != counter_id:
            raise Refused("wrong_counter")
        self._free_counter(counter_id, now_ms)
        return self._call(counter_id, t, now_ms, resuming=True)

    # ------------------------------------------------------------ at the counter
    def _here(self, ticket_id: int, counter_id: str, statuses, code: str, need_open: bool = False) -> tuple[dict, dict]:
        c = self._counter(counter_id)
        t = self._ticket(ticket_id)
        if need_open and c["state"] != "open":
            raise Refused("counter_not_open")
        if t["status"] not in statuses or t["counter_id"] != counter_id:
            raise Refused(code)
        return c, t

    def recall(self, now_ms: int, ticket_id: int, counter_id: str) -> dict:
        _, t = self._here(ticket_id, counter_id, ("called",), "not_called_here", need_open=True)
        t["recall_count"] += 1
        return t

    def no_show(self, now_ms: int, ticket_id: int, counter_id: str) -> dict:
        c, t = self._here(ticket_id, counter_id, ("called",), "not_called_here")
        t.update(status="no_show", finished_ms=now_ms)
        c["current"] = None
        return t

    def start(self, now_ms: int, ticket_id: int, counter_id: str) -> dict:
        _, t = self._here(ticket_id, counter_id, ("called",), "not_called_here")
        t.update(status="serving", started_ms=now_ms)
        return t

    def finish(self, now_ms: int, ticket_id: int, counter_id: str) -> dict:
        self._here(ticket_id, counter_id, AT_COUNTER, "not_at_counter")
        self._finish_current(counter_id, now_ms)
        return self.tickets[ticket_id]

    def park(self, now_ms: int, ticket_id: int, counter_id: str) -> dict:
        c, t = self._here(ticket_id, counter_id, AT_COUNTER, "not_at_counter")
        t["status"] = "parked"
        c["current"] = None
        return t

    def transfer(self, now_ms: int, ticket_id: int, counter_id: str, service_id: str | None = None,
                 to_counter: str | None = None, go_last: bool = False) -> dict:
        if service_id is not None and service_id not in self.services:
            raise Refused("service_unknown")
        c = self._counter(counter_id)
        t = self._ticket(ticket_id)
        if to_counter is not None:
            self._counter(to_counter)
        if t["status"] not in (*AT_COUNTER, "parked") or t["counter_id"] != counter_id:
            raise Refused("not_at_counter")
        if to_counter == counter_id:
            raise Refused("transfer_to_self")
        new_service = service_id or t["service_id"]
        if to_counter is not None and new_service not in self.services_of(to_counter):
            if service_id is not None:
                raise Refused("not_for_counter")
            new_service = self.services_of(to_counter)[0]
        if to_counter is None and service_id is None:
            raise Refused("transfer_needs_target")
        if to_counter is None and new_service == t["service_id"] and not go_last:
            raise Refused("transfer_to_self_service")
        # It keeps its number and its place by issue time, unless sent to the back of the queue.
        t.update(status="waiting", service_id=new_service, counter_id=None, target_counter_id=to_counter,
                 called_ms=None, started_ms=None, queued_ms=now_ms if go_last else t["issued_ms"],
                 transfer_count=t["transfer_count"] + 1)
        if c["current"] == ticket_id:
            c["current"] = None
        return t

    def cancel(self, now_ms: int, ticket_id: int) -> dict:
        t = self._ticket(ticket_id)
        if t["status"] != "waiting":
            raise Refused("not_waiting")
        t.update(status="cancelled", finished_ms=now_ms)
        return t

    # ------------------------------------------------------------ counters, services, days
    def set_counter_state(self, now_ms: int, counter_id: str, state: str) -> dict:
        c = self._counter(counter_id)
        if state != "open":
            self._free_counter(counter_id, now_ms)
            self._finish_current(counter_id, now_ms)
        c["state"] = state
        if state == "closed":
            c["streak"] = 0
        return c

    def assign_services(self, now_ms: int, counter_id: str, services: list[str] | None) -> dict:
        for s in services or []:
            if s not in self.services:
                raise Refused("service_unknown")
        c = self._counter(counter_id)
        c["override"] = list(services) if services else None
        return c

    def set_service_state(self, now_ms: int, service_id: str, manual: str | None = None, cap_override="keep") -> dict:
        if service_id not in self.services:
            raise Refused("service_unknown")
        st = self.service_state[service_id]
        if manual is not None:
            st["manual"] = manual
        if cap_override != "keep":
            st["cap_override"] = cap_override
        return st

    def _close(self, now_ms: int, tickets, counters) -> None:
        for t in tickets:
            t.update(status="unserved", finished_ms=now_ms)
        for c in counters:
            c.update(state="closed", current=None, streak=0)

    def close_day(self, now_ms: int) -> None:
        """The end of the day (scheduled, or by a supervisor): every active ticket unserved, counters closed."""
        self._close(now_ms, [t for t in self.tickets.values() if t["status"] in ACTIVE], self.counters.values())

    def close_stale_days(self, now_ms: int) -> None:
        """First thing on a new local day: leftovers of earlier days unserved; counters still open from an
        earlier day closed (every counter not closed was last changed on an earlier day)."""
        today = self.day(now_ms)
        stale = [t for t in self.tickets.values() if t["status"] in ACTIVE and t["day"] < today]
        self._close(now_ms, stale, [c for c in self.counters.values() if c["state"] != "closed"])


WEEKDAY_NAME = {v: k for k, v in WEEKDAY.items()}


def next_working_day(local: datetime, config) -> datetime:
    day = local.date() + timedelta(days=1)
    while WEEKDAY_NAME[day.weekday()] not in config.hours.weekdays or day in config.hours.holidays:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=local.tzinfo)
