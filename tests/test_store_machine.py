"""Random sequences of every queue operation over a real store, checked against a model after each step.

A hypothesis RuleBasedStateMachine drives a Store on a fresh SQLite file: issuing (normal and priority) into
every service, counters opening, pausing and closing, calls by next (with and without the client naming the
ticket it believes current, pressed several times in a row) and by number, recall, no-show, start, finish,
transfers (to a service, a counter, the back of the queue), park/resume, cancel, supervisors reassigning a
counter's services and opening, closing or capping a service, the clock moving (also to the edges of the
issuing windows), the end-of-day close (by a supervisor, and the scheduled one at hours.close_day_at) and new
local days with the start-up sweep.

Each operation runs on the model (queue_model.py) too. Both must refuse with the same code (and the refused
operation must leave the database exactly as it was) or both succeed with the same answer: the ticket a
"next" calls (queue order, priority bound, policies), whether a press is a repeat, the code a ticket gets.
After every step the database is read with plain SQL (storecheck.check_invariants) and compared with the
model, ticket by ticket and counter by counter. Each machine's run also asserts that every operation
succeeded at least sometimes and that the refusals worth reaching were reached.

Profiles: CI runs a fixed (derandomized) set of sequences; QMS_HYPOTHESIS_PROFILE=long (`make test-long`)
runs many more, with random seeds (QMS_HYPOTHESIS_RANDOM=1 still gives random seeds at CI's size).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter as Tally
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, invariant, precondition, rule,
                                 run_state_machine_as_test)

from queue_model import UNSET, QueueModel, Refused, next_working_day
from queue_server.config import load_config
from queue_server.core.errors import DomainError
from queue_server.store import Store
from storecheck import check_invariants, config_variant, dump

FIXTURE = Path(__file__).parent / "fixtures" / "centre.yaml"
START = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)  # Wednesday 09:00 local
PROFILE = os.environ.get("QMS_HYPOTHESIS_PROFILE", "ci")
RANDOM = PROFILE == "long" or bool(os.environ.get("QMS_HYPOTHESIS_RANDOM"))
EXAMPLES = {"ci": 60, "long": 600}[PROFILE]

SHRINK = os.environ.get("QMS_HYPOTHESIS_SHRINK", "1") != "0"  # tests/mutants.py turns shrinking off
SETTINGS = settings(max_examples=EXAMPLES, stateful_step_count=50, deadline=None, derandomize=not RANDOM,
                    database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
                    print_blob=True, phases=[p for p in Phase if SHRINK or p not in (Phase.shrink, Phase.explain)])

SERVICES = ["cccd", "passport", "civil", "records", "land"]
COUNTERS = ["1", "2", "3", "4", "5"]
# Local times an operation may land on exactly: the edges of the issuing windows (records: 08:00-10:00).
EDGES = [time(7, 29, 59), time(7, 30), time(8, 0), time(9, 59, 59), time(10, 0), time(11, 14, 59), time(11, 15),
         time(13, 15), time(16, 29, 59), time(16, 30)]
picks = st.integers(min_value=0, max_value=10_000)
# how a ticket operation picks its ticket and counter: a ticket in a fitting status at its own counter (mostly),
# a fitting ticket at some counter, or any ticket at some counter
hows = st.sampled_from(["own", "own", "own", "other", "any"])
# Operations that can succeed, and that must have succeeded at least once in a machine's run.
MUST_SUCCEED = {"issue", "open", "counter_break", "counter_closed", "call_next", "call_code", "recall", "no_show",
                "start", "finish", "park", "resume", "transfer", "cancel", "assign", "set_service", "close_day",
                "close_stale_days"}


class Clock:
    def __init__(self):
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class QueueMachine(RuleBasedStateMachine):
    """The queue under random operations. Subclasses choose the config and the refusals they must reach."""

    tally: Tally = Tally()  # outcomes over every example of a run (see run_machine)
    must_refuse = {"service_full", "service_closed", "range_exhausted", "counter_not_open", "nothing_waiting"}

    def make_config(self):
        return load_config(FIXTURE)

    def __init__(self):
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="qms-machine-")
        self.clock = Clock()
        self.config = self.make_config()
        self.store = Store(Path(self.dir) / "qms.sqlite3", self.config, clock=self.clock)
        self.conn = self.store.conn
        self.model = QueueModel(self.config)
        self.steps_today = 0
        self.closed_today = False

    def teardown(self):
        try:
            self.store.close()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    # ------------------------------------------------------------ helpers
    def now_ms(self) -> int:
        return int(self.clock.now.timestamp() * 1000)

    def _both(self, name: str, model_op, store_op, *args, **kw):
        """Run one operation a second later on the model and on the store: (store result, model answer), or
        (None, None) when both refused with the same code. A refusal must change nothing."""
        self.clock.now += timedelta(seconds=1)
        self.steps_today += 1
        try:
            want, want_code = model_op(self.now_ms(), *args, **kw), None
        except Refused as r:
            want, want_code = None, r.code
        before = dump(self.conn)
        try:
            got, got_code = store_op(*args, **kw), None
        except DomainError as e:
            got, got_code = None, e.code
            assert dump(self.conn) == before, f"{name} refused ({e.code}) but changed the database"
        assert got_code == want_code, (f"{name}{args}{kw}: the store says {got_code or 'ok'}, "
                                       f"the model {want_code or 'ok'}")
        self.tally[f"{name}:{got_code or 'ok'}"] += 1
        return got, want

    def _tickets(self, *statuses: str) -> list[dict]:
        q = "SELECT * FROM tickets"
        if statuses:
            q += f" WHERE status IN ({','.join('?' * len(statuses))})"
        return [dict(r) for r in self.conn.execute(q + " ORDER BY id", statuses)]

    def _pick_ticket(self, pick: int, relevant: bool, *statuses: str) -> dict | None:
        pool = self._tickets(*statuses) if relevant else self._tickets()
        return pool[pick % len(pool)] if pool else None

    def _target(self, t: dict, how: str, counter_pick: int) -> str:
        """The counter an operation on `t` is made at: its own, or another one."""
        if how == "own" and t["counter_id"] is not None:
            return t["counter_id"]
        return COUNTERS[counter_pick % len(COUNTERS)]

    def _same_ticket(self, got: dict, want: dict) -> None:
        assert got["id"] == want["id"], f"the store answered ticket {got['code']}, the model {want['code']}"

    # ------------------------------------------------------------ rules: issuing
    @initialize(closed=st.lists(st.sampled_from(COUNTERS), unique=True, max_size=2),
                services=st.lists(st.sampled_from(SERVICES), min_size=2, max_size=10))
    def start_the_day(self, closed, services):
        for c in COUNTERS:
            if c not in closed:
                self.counter_state(c, "open")
        for service in services:
            self.issue([service], "walk_in")

    @rule(services=st.lists(st.sampled_from(SERVICES), min_size=1, max_size=4),
          kind=st.sampled_from(["walk_in", "priority", "walk_in", "elderly", "staff", "bad_group"]))
    def issue(self, services, kind):
        kw = {"walk_in": {}, "priority": {"priority": True}, "elderly": {"priority_group": "elderly"},
              "staff": {"source": "staff", "staff_id": 3}, "bad_group": {"priority_group": "nobody"}}[kind]
        model_kw = {k: v for k, v in kw.items() if k in ("priority", "priority_group")}
        for service in services:
            got, want = self._both("issue", lambda now, s, **_: self.model.issue(now, s, **model_kw),
                                   self.store.issue, service, **kw)
            if got is not None:
                t = got.ticket
                assert (t["id"], t["code"], t["priority"]) == (want["id"], want["code"], want["priority"])

    @rule(service=st.sampled_from(["land", "records", "civil"]), n=st.integers(min_value=2, max_value=5))
    def queue_builds_up(self, service, n):
        """Several citizens take a number of one service in a row (small ranges run out, caps fill)."""
        self.issue([service] * n, "walk_in")

    @rule(services=st.lists(st.sampled_from(SERVICES), min_size=1, max_size=3), counter_pick=picks)
    def priority_then_next(self, services, counter_pick):
        """Priority tickets arrive and a free counter calls: priority streaks build up."""
        self.issue(services, "priority")
        self._call_first(counter_pick)

    @rule(service=st.sampled_from(SERVICES), manual=st.sampled_from([None, "auto", "open", "closed"]),
          cap=st.sampled_from(["keep", "keep", None, 1, 2, 3]))
    def set_service(self, service, manual, cap):
        """A supervisor opens or closes a service by hand, or changes its cap for today."""
        if manual == "closed" and cap == "keep" and self.steps_today % 3:  # keep services mostly open
            manual = "auto"
        self._both("set_service", self.model.set_service_state, self.store.set_service_state, service,
                   manual=manual, cap_override=cap)

    # ------------------------------------------------------------ rules: counters
    @rule(counter_pick=picks, how=hows, state=st.sampled_from(["open", "open", "break", "closed", "closed"]))
    def change_counter_state(self, counter_pick, how, state):
        """An officer opens, pauses or closes a counter: mostly one that is open (and may have a priority
        streak running), sometimes any."""
        open_ = [c for c in COUNTERS if self.model.counters[c]["state"] == "open"]
        pool = open_ if how != "any" and open_ and state != "open" else COUNTERS
        self.counter_state(pool[counter_pick % len(pool)], state)

    def counter_state(self, counter, state):
        self._both("open" if state == "open" else "counter_" + state, self.model.set_counter_state,
                   self.store.set_counter_state, counter, state)

    @rule(counter=st.sampled_from(COUNTERS),
          services=st.one_of(st.none(), st.just([]), st.lists(st.sampled_from(SERVICES), min_size=1, max_size=3,
                                                                unique=True)))
    def assign(self, counter, services):
        """A supervisor reassigns the services a counter serves (None or []: back to config.yaml)."""
        got, _ = self._both("assign", self.model.assign_services, self.store.assign_services, counter, services)
        if got is not None:
            assert got.counters[0]["services"] == self.model.services_of(counter)

    # ------------------------------------------------------------ rules: calling
    @rule(counter_pick=picks, how=hows, expect=st.sampled_from(["unset", "unset", "current", "stale"]),
          times=st.integers(min_value=1, max_value=4), between=st.sampled_from(["nothing", "start", "finish"]))
    def call_next(self, counter_pick, how, expect, times=1, between="nothing"):
        """`times` presses of "next" at one counter a second apart, as staff work through the queue (or a
        double tap); the officer may finish or start the ticket in between."""
        open_ = [r[0] for r in self.conn.execute("SELECT id FROM counters WHERE state = 'open' ORDER BY id")]
        pool = COUNTERS if how == "any" or not open_ else open_
        counter = pool[counter_pick % len(pool)]
        for i in range(times):
            current = self.model.counters[counter]["current"]
            if i and between != "nothing" and current is not None:
                self._both(between, getattr(self.model, between), getattr(self.store, between), current, counter)
            self._call_next(counter, expect)

    @rule(counter_pick=picks)
    def late_repeat_after_start(self, counter_pick):
        """At a free counter: "next", "start", and a copy of the first press arriving late (a retried request)."""
        free = [c for c in COUNTERS if self.model.counters[c]["state"] == "open" and self.model.counters[c]["current"] is None]
        if not free:
            return
        counter = free[counter_pick % len(free)]
        self._call_next(counter, "unset")
        current = self.model.counters[counter]["current"]
        if current is not None:
            self._both("start", self.model.start, self.store.start, current, counter)
            self._call_next(counter, "unset")

    def _busy_open_counter(self, counter_pick: int) -> str | None:
        """An open counter with a ticket at it (calling one first if none has)."""
        busy = [c for c in COUNTERS if self.model.counters[c]["state"] == "open" and self.model.counters[c]["current"]]
        if not busy:
            self._call_first(counter_pick)
            busy = [c for c in COUNTERS if self.model.counters[c]["state"] == "open" and self.model.counters[c]["current"]]
        return busy[counter_pick % len(busy)] if busy else None

    @rule(counter_pick=picks, to_pick=picks, back=st.booleans())
    def send_on_and_call_next(self, counter_pick, to_pick, back):
        """The citizen at a counter is not ready (sent to the back of the queue) or belongs to a colleague (sent
        to another counter by name); the officer calls the next one at once."""
        counter = self._busy_open_counter(counter_pick)
        if counter is None:
            return
        current = self.model.counters[counter]["current"]
        kw = ({"service_id": self.model.tickets[current]["service_id"], "go_last": True} if back
              else {"to_counter": [c for c in COUNTERS if c != counter][to_pick % (len(COUNTERS) - 1)]})
        self._both("transfer", self.model.transfer, self.store.transfer, current, counter, **kw)
        self._call_next(counter, "current")

    @rule(pick=picks, counter_pick=picks, other=picks)
    def sent_back_then_elsewhere(self, pick, counter_pick, other):
        """A citizen once sent to the back of the queue comes forward, is called by number, and is sent on to
        another service: there they queue by their issue time again."""
        back = [t for t in self.model.tickets.values() if t["status"] == "waiting" and t["queued_ms"] != t["issued_ms"]
                and t["day"] == self.store.today()]
        if not back:
            return
        t = back[pick % len(back)]
        serving = [c for c in COUNTERS if self.model.counters[c]["state"] == "open"
                   and (t["target_counter_id"] == c or (t["target_counter_id"] is None
                                                        and t["service_id"] in self.model.services_of(c)))]
        if not serving:
            return
        counter = serving[counter_pick % len(serving)]
        got, _ = self._both("call_code", self.model.call_code, self.store.call_code, counter, t["code"],
                            service_id=t["service_id"])
        if got is not None:
            others = [s for s in SERVICES if s != t["service_id"]]
            self._both("transfer", self.model.transfer, self.store.transfer, t["id"], counter,
                       service_id=others[other % len(others)])

    def _call_next(self, counter: str, expect: str) -> None:
        current = self.model.counters[counter]["current"]
        if expect == "unset":
            exp = UNSET
        elif expect == "current":
            exp = current
        else:  # a client that missed the last call: it believes another ticket (or none) is current
            exp = None if current is not None else max(self.model.tickets, default=0)
        kw = {} if exp is UNSET else {"expect_current": exp}
        before = dump(self.conn)
        got, want = self._both("call_next", lambda now, c, **k: self.model.call_next(now, c, k.get("expect_current", UNSET)),
                               self.store.call_next, counter, **kw)
        if got is None:
            return
        ticket, repeated = want
        assert got.repeated == repeated, f"counter {counter}: the store says repeat={got.repeated}, the model {repeated}"
        self._same_ticket(got.ticket, ticket)
        if repeated:
            self.tally["call_next:repeat"] += 1
            assert dump(self.conn) == before, "a repeated press changed the database"

    @rule(pick=picks, how=hows, counter_pick=picks)
    def call_code(self, pick, how, counter_pick):
        t = self._pick_ticket(pick, how != "any", "waiting", "parked")
        if t is None:
            return
        if how == "own" and t["counter_id"] is None:  # a counter that serves the ticket's service
            serving = [c for c in COUNTERS if t["service_id"] in self.model.services_of(c)] or COUNTERS
            counter = serving[counter_pick % len(serving)]
        else:
            counter = self._target(t, how, counter_pick)
        got, want = self._both("call_code", self.model.call_code, self.store.call_code, counter, t["code"],
                               service_id=t["service_id"])
        if got is not None:
            self._same_ticket(got.ticket, want[0])
            assert got.events[-1]["type"] == ("ticket.resumed" if want[1] else "ticket.called")

    def _call_first(self, counter_pick: int) -> None:
        """Nothing at a counter yet: call someone first, at an open counter that is free."""
        free = [c for c in COUNTERS if self.model.counters[c]["state"] == "open" and self.model.counters[c]["current"] is None]
        if free:
            self._call_next(free[counter_pick % len(free)], "current")

    def _at_counter_op(self, name, statuses, pick, how, counter_pick):
        if how == "own" and not self._tickets(*statuses) and set(statuses) & {"called", "serving"}:
            self._call_first(counter_pick)
        t = self._pick_ticket(pick, how != "any", *statuses)
        if t is None:
            return
        got, want = self._both(name, getattr(self.model, name), getattr(self.store, name), t["id"],
                               self._target(t, how, counter_pick))
        if got is not None:
            self._same_ticket(got.tickets[-1], want)

    @rule(pick=picks, how=hows, counter_pick=picks)
    def recall(self, pick, how, counter_pick):
        self._at_counter_op("recall", ("called",), pick, how, counter_pick)

    @rule(pick=picks, how=hows, counter_pick=picks)
    def no_show(self, pick, how, counter_pick):
        self._at_counter_op("no_show", ("called",), pick, how, counter_pick)

    @rule(pick=picks, how=hows, counter_pick=picks)
    def start(self, pick, how, counter_pick):
        self._at_counter_op("start", ("called",), pick, how, counter_pick)

    @rule(pick=picks, how=hows, counter_pick=picks)
    def finish(self, pick, how, counter_pick):
        self._at_counter_op("finish", ("called", "serving"), pick, how, counter_pick)

    @rule(pick=picks, how=hows, counter_pick=picks)
    def park(self, pick, how, counter_pick):
        self._at_counter_op("park", ("called", "serving"), pick, how, counter_pick)

    @rule(pick=picks, how=hows, counter_pick=picks)
    def resume(self, pick, how, counter_pick):
        if how == "own" and not self._tickets("parked"):
            self.park(pick, "own", counter_pick)  # nothing parked yet: park someone first
        self._at_counter_op("resume", ("parked",), pick, how, counter_pick)

    @rule(pick=picks, how=hows, counter_pick=picks,
          mode=st.sampled_from(["service", "counter", "go_last", "go_last_other", "counter_service", "same_service",
                                "self_counter", "nothing"]),
          other=picks, to_pick=picks)
    def transfer(self, pick, how, counter_pick, mode, other, to_pick):
        if how == "own" and not self._tickets("called", "serving", "parked"):
            self._call_first(counter_pick)
        t = self._pick_ticket(pick, how != "any", "called", "serving", "parked")
        if t is None:
            return
        at = self._target(t, how, counter_pick)
        others = [s for s in SERVICES if s != t["service_id"]]
        service, any_service = others[other % len(others)], SERVICES[other % len(SERVICES)]
        elsewhere = [c for c in COUNTERS if c != at]
        to, any_counter = elsewhere[to_pick % len(elsewhere)], COUNTERS[to_pick % len(COUNTERS)]
        kw = {"service": {"service_id": service}, "counter": {"to_counter": to},
              "go_last": {"service_id": t["service_id"], "go_last": True},
              "go_last_other": {"service_id": any_service, "go_last": True},
              "counter_service": {"to_counter": any_counter, "service_id": any_service},
              "same_service": {"service_id": t["service_id"]}, "self_counter": {"to_counter": at},
              "nothing": {}}[mode]
        got, want = self._both("transfer", self.model.transfer, self.store.transfer, t["id"], at, **kw)
        if got is not None:
            self._same_ticket(got.ticket, want)

    @rule(pick=picks, how=hows)
    def cancel(self, pick, how):
        t = self._pick_ticket(pick, how != "any", "waiting")
        if t is not None:
            got, want = self._both("cancel", self.model.cancel, self.store.cancel, t["id"])

    @precondition(lambda self: self.steps_today % 7 == 3)
    @rule()
    def unknown_names(self):
        """Unknown services, counters, tickets and codes are refused and change nothing."""
        s, m = self.store, self.model
        for name, model_op, store_op, args, kw in [
            ("issue", m.issue, s.issue, ("nope",), {}),
            ("open", m.set_counter_state, s.set_counter_state, ("99", "open"), {}),
            ("call_next", m.call_next, s.call_next, ("99",), {}),
            ("call_code", lambda now, c, code: m.call_code(now, c, code, "cccd"), s.call_code, ("1", "9999"), {}),
            ("finish", m.finish, s.finish, (10_000, "1"), {}),
            ("transfer_service", m.transfer, s.transfer, (1, "1"), {"service_id": "nope"}),
            ("transfer_counter", m.transfer, s.transfer, (1, "1"), {"to_counter": "99"}),
            ("cancel", m.cancel, s.cancel, (10_000,), {}),
            ("assign", m.assign_services, s.assign_services, ("99", ["civil"]), {}),
            ("assign_service", m.assign_services, s.assign_services, ("1", ["nope"]), {}),
            ("set_service", m.set_service_state, s.set_service_state, ("nope",), {"manual": "open"}),
        ]:
            got, _ = self._both("unknown_" + name, model_op, store_op, *args, **kw)
            assert got is None, f"unknown_{name} succeeded"

    # ------------------------------------------------------------ rules: time and days
    @rule(seconds=st.integers(min_value=1, max_value=600))
    def wait(self, seconds):
        self.clock.now += timedelta(seconds=seconds)

    @rule(edge=st.sampled_from(EDGES), service=st.sampled_from(["records", "civil", "cccd"]))
    def skip_to(self, edge, service):
        """Move on to a window's edge (if that is still ahead today), where a citizen takes a number exactly."""
        local = self.clock.now.astimezone(self.config.tz)
        target = datetime.combine(local.date(), edge, tzinfo=local.tzinfo) - timedelta(seconds=1)
        if target > local:
            self.clock.now = target.astimezone(timezone.utc)
            self.issue([service], "walk_in")

    @precondition(lambda self: self.steps_today >= 20 and not self.closed_today)
    @rule(scheduled=st.booleans())
    def close_day(self, scheduled):
        """The end of the day: by a supervisor now, or by the schedule at hours.close_day_at."""
        if scheduled:
            local = self.clock.now.astimezone(self.config.tz)
            at = datetime.combine(local.date(), self.config.hours.close_day_at, tzinfo=local.tzinfo)
            if at > local:
                self.clock.now = (at - timedelta(seconds=1)).astimezone(timezone.utc)
        self._both("close_day", lambda now: self.model.close_day(now),
                   lambda: self.store.close_day(actor="schedule" if scheduled else "supervisor"))
        last = json.loads(self.conn.execute("SELECT value FROM meta WHERE key = 'last_close'").fetchone()[0])
        assert last["day"] == self.store.today()
        self.closed_today = True

    @precondition(lambda self: self.steps_today >= 25 or self.closed_today)
    @rule(when=st.sampled_from(["working_day", "working_day", "tomorrow", "holiday"]),
          at=st.sampled_from([time(0, 0, 30), time(7, 0), time(8, 30)]),
          opening=st.lists(st.sampled_from(COUNTERS), unique=True, min_size=1, max_size=4))
    def new_day(self, when, at, opening):
        """A new local day (the next working day, the next calendar day, or the holiday if still ahead); the
        start-up sweep closes what earlier days left open."""
        local = self.clock.now.astimezone(self.config.tz)
        if when == "working_day":
            day = next_working_day(local, self.config).date()
        elif when == "holiday" and any(h > local.date() for h in self.config.hours.holidays):
            day = min(h for h in self.config.hours.holidays if h > local.date())
        else:
            day = local.date() + timedelta(days=1)
        self.clock.now = datetime.combine(day, at, tzinfo=local.tzinfo).astimezone(timezone.utc) - timedelta(seconds=1)
        self.steps_today, self.closed_today = 0, False
        self._both("close_stale_days", lambda now: self.model.close_stale_days(now), self.store.close_stale_days)
        for c in opening:  # the officers arrive
            self.counter_state(c, "open")

    # ------------------------------------------------------------ invariants
    @invariant()
    def database_invariants(self):
        check_invariants(self.conn, self.config)

    @invariant()
    def the_store_agrees_with_the_model(self):
        keys = [k for k in next(iter(self.model.tickets.values()), {}) if k not in ("seq_key",)]
        rows = {r["id"]: dict(r) for r in self.conn.execute("SELECT * FROM tickets")}
        assert set(rows) == set(self.model.tickets), "the tickets table differs from every ticket ever issued"
        for tid, want in self.model.tickets.items():
            got = {k: (bool(rows[tid][k]) if k == "priority" else rows[tid][k]) for k in keys}
            diff = {k: (got[k], want[k]) for k in keys if got[k] != want[k]}
            assert not diff, f"ticket {want['code']} ({tid}): (store, model) differ in {diff}"
        for r in self.conn.execute("SELECT * FROM counters"):
            want = self.model.counters[r["id"]]
            got = {"state": r["state"], "current": r["current_ticket_id"], "streak": r["priority_streak"],
                   "override": json.loads(r["services_override"]) if r["services_override"] else None}
            assert got == want, f"counter {r['id']}: the store has {got}, the model {want}"

    @invariant()
    def integrity(self):
        assert self.conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"


class VariantMachine(QueueMachine):
    """Refuse-mode counters, wrapping ranges, a repeat-press window and a priority bound of 1."""

    must_refuse = QueueMachine.must_refuse | {"counter_busy", "repeat"}

    def make_config(self):
        return config_variant(queue={"next_with_open_ticket": "refuse", "on_range_exhausted": "wrap",
                                     "repeat_press_seconds": 3}, priority={"max_consecutive": 1})


def run_machine(machine) -> Tally:
    machine.tally = Tally()
    run_state_machine_as_test(machine, settings=SETTINGS)
    tally = machine.tally
    never = sorted(op for op in MUST_SUCCEED if not tally[f"{op}:ok"])
    assert not never, f"these operations never succeeded in {EXAMPLES} examples: {never}"
    reached = {k.split(":", 1)[1] for k in tally}
    missing = sorted(machine.must_refuse - reached)
    assert not missing, f"these outcomes were never reached: {missing}"
    return tally


def test_queue_machine():
    run_machine(QueueMachine)


def test_variant_machine():
    run_machine(VariantMachine)
