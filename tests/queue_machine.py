"""The state machine's moves over a real store: every queue operation, run on the store and on the model
(queue_model.py) at once, with the database compared to the model after every step. The scenarios, the
days and the profiles are in test_store_machine.py.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter as Tally
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from queue_model import UNSET, QueueModel, Refused
from queue_server.config import load_config
from queue_server.core.errors import DomainError
from queue_server.store import Store
from storecheck import check_invariants, config_variant, dump

FIXTURE = Path(__file__).parent / "fixtures" / "centre.yaml"
START = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)  # Wednesday 09:00 local
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
