"""The state machine of the calling rules (test_store_machine.py) with booked tickets in the queue.

Booked tickets (checked in at the kiosk for a slot that began a while ago, begins now, or begins later) are
issued among walk-ins and priority tickets while every other move of the centre's day runs. The model learns
the booked calling order from docs/rules.md (section 5, "Booked tickets"), not from the engine; the store
must agree with it after every step, the counters' walk-in streaks included. On top, properties that hold
whatever the model says, read from what was called:

- at one counter, a booked ticket that is due never waits behind more than `queue.walk_ins_per_booked`
  walk-in calls by "next";
- at one counter, an eligible walk-in never waits behind more than one booked call by "next" in a row;
- a ticket is called again only after it went back to waiting (a transfer); no ticket is called twice.
"""
from __future__ import annotations

from collections import Counter as Tally
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, rule, run_state_machine_as_test

from queue_machine import COUNTERS, SERVICES, picks
from queue_model import QueueModel
from queue_server.store import Store
from storecheck import config_variant
from test_store_machine import RANDOM, SHRINK, CentreDay

MIN = 60_000
SETTINGS = settings(max_examples=12, stateful_step_count=40, deadline=None, derandomize=not RANDOM, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much], print_blob=True,
                    phases=[p for p in Phase if SHRINK or p not in (Phase.shrink, Phase.explain)])


class BookedModel(QueueModel):
    """The queue model with booked tickets and the counters' walk-in streaks (kept beside the counters, which
    the base machine compares whole)."""

    def __init__(self, config):
        super().__init__(config)
        self.per_booked = config.queue.walk_ins_per_booked
        self.walk = {c: 0 for c in self.counters}
        self._only: set[int] | None = None
        self._booked = False

    def issue(self, now_ms, service_id, priority=False, priority_group=None, slot_start_ms=None):
        self._booked = slot_start_ms is not None
        try:
            t = super().issue(now_ms, service_id, priority, priority_group)
        finally:
            self._booked = False
        t["slot_start_ms"] = slot_start_ms
        return t

    def is_open(self, service_id, now_ms, booked=False):
        return super().is_open(service_id, now_ms, booked=booked or self._booked)

    def candidates(self, counter_id, now_ms):
        found = super().candidates(counter_id, now_ms)
        return found if self._only is None else [t for t in found if t["id"] in self._only]

    def expected_next(self, counter_id, now_ms):
        """Priority and its bound first (the base model); among normal tickets: sent here by name, or the
        interleave off, as before; else the due booked tickets when the streak has reached N or no walk-in
        waits, else the walk-ins, else (only early booked ones wait) those; then the counter's policy."""
        cands = super().candidates(counter_id, now_ms)
        prio = [t for t in cands if t["priority"]]
        normal = [t for t in cands if not t["priority"]]
        if not normal or (prio and self.counters[counter_id]["streak"] < self.max_prio):
            return super().expected_next(counter_id, now_ms)
        pool = normal
        if self.per_booked > 0 and not any(t["target_counter_id"] == counter_id for t in normal):
            due = [t for t in normal if t.get("slot_start_ms") is not None and t["slot_start_ms"] <= now_ms]
            walk = [t for t in normal if t.get("slot_start_ms") is None]
            if due and (not walk or self.walk[counter_id] >= self.per_booked):
                pool = due
            elif walk:
                pool = walk
        self._only = {t["id"] for t in pool}
        try:
            return super().expected_next(counter_id, now_ms)
        finally:
            self._only = None

    def _call(self, counter_id, t, now_ms, resuming):
        counts = not resuming and not t["priority"] and t["target_counter_id"] != counter_id
        booked = t.get("slot_start_ms") is not None
        out = super()._call(counter_id, t, now_ms, resuming)
        if counts:
            self.walk[counter_id] = 0 if booked else self.walk[counter_id] + 1
        return out

    def set_counter_state(self, now_ms, counter_id, state):
        out = super().set_counter_state(now_ms, counter_id, state)
        if state == "closed":
            self.walk[counter_id] = 0
        return out

    def _close(self, now_ms, tickets, counters):
        closing = {id(c) for c in counters}
        super()._close(now_ms, tickets, counters)
        for cid, c in self.counters.items():
            if id(c) in closing:
                self.walk[cid] = 0


class BookedDay(CentreDay):
    """A centre's day with bookings checked in among the walk-ins."""

    must_refuse: set[str] = set()

    def __init__(self):
        super().__init__()
        self.model = BookedModel(self.config)
        self.walk_run = Tally()  # counter -> walk-in calls by "next" while a due booked ticket waited there
        self.booked_run = Tally()  # counter -> booked calls by "next" in a row while a walk-in waited there
        self.booking_ids = 0

    def make_config(self, per_booked: int = 2):
        return config_variant(queue={"walk_ins_per_booked": per_booked, "always_open": True,
                                     "repeat_press_seconds": 0})

    @initialize(closed=st.lists(st.sampled_from(COUNTERS), unique=True, max_size=2),
                services=st.lists(st.sampled_from(SERVICES), min_size=2, max_size=10),
                per_booked=st.sampled_from([2, 1, 3]))
    def start_the_day(self, closed, services, per_booked):
        """The bound N of the day is drawn: the store and the model start again with it."""
        self.store.close()
        self.config = self.make_config(per_booked)
        self.store = Store(Path(self.dir) / f"booked-{per_booked}.sqlite3", self.config, clock=self.clock)
        self.conn = self.store.conn
        self.model = BookedModel(self.config)
        CentreDay.start_the_day(self, closed, services)

    @rule(services=st.lists(st.sampled_from(SERVICES), min_size=1, max_size=3),
          slot=st.sampled_from([-45, -30, -1, 0, 1, 10, 30]))
    def check_in_booked(self, services, slot):
        """Citizens with a booking check in: their slot began `slot` minutes ago (negative), or begins later."""
        for service in services:
            self.booking_ids += 1
            start = self.now_ms() + 1000 + slot * MIN  # the operation lands a second on
            got, want = self._both("issue", lambda now, s, **_: self.model.issue(now, s, slot_start_ms=start),
                                   self.store.issue, service, source="online", booking_id=self.booking_ids,
                                   slot_start_ms=start)
            if got is not None:
                assert (got.ticket["id"], got.ticket["slot_start_ms"]) == (want["id"], start)
                self.tally["booked_checked_in"] += 1

    @rule(booked=st.lists(st.sampled_from(["cccd", "passport", "civil"]), min_size=1, max_size=3),
          walk_ins=st.lists(st.sampled_from(["cccd", "passport", "civil"]), min_size=1, max_size=5),
          slot=st.sampled_from([-30, -1, 0, 20]), counter_pick=picks, presses=st.integers(min_value=1, max_value=6))
    def rush_then_next(self, booked, walk_ins, slot, counter_pick, presses):
        """Booked citizens check in among walk-ins, and free counters press "next" several times."""
        self.check_in_booked(booked, slot)
        self.issue(walk_ins, "walk_in")
        self.counters_work_through(counter_pick, presses)

    @rule(booked=st.lists(st.sampled_from(["cccd", "passport", "civil"]), min_size=1, max_size=3),
          walk_ins=st.lists(st.sampled_from(["cccd", "passport", "civil"]), min_size=1, max_size=5),
          slot=st.sampled_from([-30, -1, 0, 20]), counter_pick=picks, presses=st.integers(min_value=1, max_value=6))
    def another_rush(self, booked, walk_ins, slot, counter_pick, presses):
        """The same again, walk-ins first (the machine picks its moves evenly: this doubles the rushes)."""
        self.issue(walk_ins, "walk_in")
        self.check_in_booked(booked, slot)
        self.counters_work_through(counter_pick, presses)

    @rule(walk_ins=st.lists(st.sampled_from(["cccd", "passport", "civil"]), min_size=1, max_size=4),
          counter_pick=picks, presses=st.integers(min_value=1, max_value=6))
    def walk_ins_then_next(self, walk_ins, counter_pick, presses):
        """More walk-ins arrive while the counters work through the queue."""
        self.issue(walk_ins, "walk_in")
        self.counters_work_through(counter_pick, presses)

    @rule(counter_pick=picks, presses=st.integers(min_value=1, max_value=6))
    def counters_work_through(self, counter_pick, presses):
        """Open counters press "next" one after the other (each press finishes the ticket before)."""
        open_ = [c for c in COUNTERS if self.model.counters[c]["state"] == "open"]
        for i in range(presses if open_ else 0):
            self._call_next(open_[(counter_pick + i) % len(open_)], "current")

    def _call_next(self, counter: str, expect: str) -> None:
        now = self.now_ms() + 1000  # the moment _both runs the press at
        state = self.model.counters[counter]
        before = {t["id"]: dict(t) for t in self.model.candidates(counter, now)} if state["state"] == "open" else {}
        current = state["current"]
        super()._call_next(counter, expect)
        after = self.model.counters[counter]["current"]
        if after is None or after == current or after not in before:
            return  # refused, a repeated press, or nothing new called
        chosen = before[after]
        plain = [t for t in before.values() if not t["priority"] and t["target_counter_id"] != counter]
        if chosen["priority"] or chosen["target_counter_id"] == counter:
            return
        booked = chosen["slot_start_ms"] is not None
        due_waited = any(t["slot_start_ms"] is not None and t["slot_start_ms"] <= now and t["id"] != after for t in plain)
        walk_waited = any(t["slot_start_ms"] is None and t["id"] != after for t in plain)
        if booked:
            self.walk_run[counter] = 0
            self.booked_run[counter] = self.booked_run[counter] + 1 if walk_waited else 0
            self.tally["call_next:booked"] += 1
        else:
            self.booked_run[counter] = 0
            if due_waited:
                self.walk_run[counter] += 1
                self.tally["call_next:walk_in_before_booked"] += 1
        bound = self.config.queue.walk_ins_per_booked
        assert self.walk_run[counter] <= bound, (
            f"counter {counter}: {self.walk_run[counter]} walk-ins called in a row while a booked ticket was due")
        assert self.booked_run[counter] <= 1, (
            f"counter {counter}: {self.booked_run[counter]} booked tickets called in a row while a walk-in waited")

    def counter_state(self, counter, state):
        super().counter_state(counter, state)
        if self.model.counters[counter]["state"] == "closed":
            self.walk_run[counter] = self.booked_run[counter] = 0

    def _both(self, name, model_op, store_op, *args, **kw):
        out = super()._both(name, model_op, store_op, *args, **kw)
        got, want = out
        if name == "call_code" and got is not None and not want[1] and not want[0]["priority"]:
            if want[0]["slot_start_ms"] is not None:  # a booked call by number ends the walk-ins' run
                self.walk_run[args[0]] = 0
            else:
                self.booked_run[args[0]] = 0
        if name in ("close_day", "close_stale_days"):
            for c in COUNTERS:
                if self.model.walk[c] == 0:
                    self.walk_run[c] = self.booked_run[c] = 0
        return out

    @invariant()
    def walk_in_streaks_agree(self):
        got = {r["id"]: r["walk_in_streak"] for r in self.conn.execute("SELECT id, walk_in_streak FROM counters")}
        assert got == self.model.walk, f"walk-in streaks: the store has {got}, the model {self.model.walk}"

    @invariant()
    def no_ticket_called_twice(self):
        """Calls (not recalls, not resumes) of a ticket: at most one, and one more per transfer."""
        for tid, calls, transfers in self.conn.execute(
                """SELECT t.id, COUNT(e.id), t.transfer_count FROM tickets t
                   JOIN events e ON e.ticket_id = t.id AND e.type = 'ticket.called'
                   AND json_extract(e.data, '$.recall') = 0 GROUP BY t.id"""):
            assert calls <= 1 + transfers, f"ticket {tid} was called {calls} times after {transfers} transfers"


def run(machine) -> Tally:
    machine.tally = Tally()
    run_state_machine_as_test(machine, settings=SETTINGS)
    return machine.tally


def test_booked_calling_machine():
    tally = run(BookedDay)
    # the machine reached what it is about: booked calls, and walk-ins called while a booked ticket was due
    assert tally["call_next:booked"] > 15 and tally["call_next:walk_in_before_booked"] > 5, dict(tally)
