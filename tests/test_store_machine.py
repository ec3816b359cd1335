"""Random sequences of every queue operation over a real store, with the invariants checked after each step.

A hypothesis RuleBasedStateMachine drives a Store on a fresh SQLite file: issuing (normal and priority) into
every service, counters opening, pausing and closing, calls by next and by number, recall, no-show, start,
finish, transfers, park/resume, cancel, the clock moving and new local days. A refused operation (DomainError)
is an allowed outcome but must leave the database exactly as it was. After every step the database is read
with plain SQL (storecheck.check_invariants) and against a small model (every ticket ever issued, the priority
bound at each counter).

Runs are derandomized (the same sequences every time) so the suite is deterministic; set QMS_HYPOTHESIS_RANDOM=1
to explore new sequences.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter as Tally
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from queue_server.config import load_config
from queue_server.core.errors import DomainError
from queue_server.store import Store
from storecheck import check_invariants, config_variant, dump

FIXTURE = Path(__file__).parent / "fixtures" / "centre.yaml"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)  # Wednesday 09:00 local
RANDOM = bool(os.environ.get("QMS_HYPOTHESIS_RANDOM"))

SETTINGS = settings(max_examples=40, stateful_step_count=40, deadline=None, derandomize=not RANDOM,
                    database=None if not RANDOM else settings.default.database,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much], print_blob=True)

SERVICES = ["cccd", "passport", "civil", "records", "land"]
COUNTERS = ["1", "2", "3", "4", "5"]
picks = st.integers(min_value=0, max_value=10_000)
# how a ticket operation picks its ticket and counter: a ticket in a fitting status at its own counter (mostly),
# a fitting ticket at some counter, or any ticket at some counter
hows = st.sampled_from(["own", "own", "own", "other", "any"])


class Clock:
    def __init__(self):
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class QueueMachine(RuleBasedStateMachine):
    """The queue under random operations. Subclasses choose the config."""

    def make_config(self):
        return load_config(FIXTURE)

    def __init__(self):
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="qms-machine-")
        self.clock = Clock()
        self.config = self.make_config()
        self.store = Store(Path(self.dir) / "qms.sqlite3", self.config, clock=self.clock)
        self.conn = self.store.conn
        self.max_prio = self.config.priority.max_consecutive
        self.issued: dict[int, tuple[str, str]] = {}  # every ticket ever issued: id -> (day, code)
        self.prio_run = {c: 0 for c in COUNTERS}  # priority calls in a row at each counter (model)
        self.outcomes: Tally = Tally()
        self.steps_today = 0

    def teardown(self):
        try:
            self.store.close()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    # ------------------------------------------------------------ helpers
    def _do(self, name: str, fn, *args, **kw):
        """Run one operation a second later; a refusal must change nothing."""
        self.clock.now += timedelta(seconds=1)
        self.steps_today += 1
        before = dump(self.conn)
        try:
            result = fn(*args, **kw)
        except DomainError as e:
            assert dump(self.conn) == before, f"{name} refused ({e.code}) but changed the database"
            self.outcomes[f"{name}:{e.code}"] += 1
            return None
        self.outcomes[f"{name}:ok"] += 1
        return result

    def _tickets(self, *statuses: str) -> list[dict]:
        q = "SELECT * FROM tickets"
        if statuses:
            q += f" WHERE status IN ({','.join('?' * len(statuses))})"
        return [dict(r) for r in self.conn.execute(q + " ORDER BY id", statuses)]

    def _pick_ticket(self, pick: int, relevant: bool, *statuses: str) -> dict | None:
        pool = self._tickets(*statuses) if relevant else self._tickets()
        if not pool:
            return None
        return pool[pick % len(pool)]

    def _current(self, counter: str):
        row = self.conn.execute("SELECT current_ticket_id FROM counters WHERE id = ?", (counter,)).fetchone()
        return row[0] if row else None

    def _eligible_waiting(self, counter: str) -> list[dict]:
        services = self.config.counter(counter).services
        override = self.conn.execute("SELECT services_override FROM counters WHERE id = ?", (counter,)).fetchone()[0]
        assert override is None
        return [t for t in self._tickets("waiting") if t["day"] == self.store.today()
                and (t["target_counter_id"] == counter or (t["target_counter_id"] is None and t["service_id"] in services))]

    def _called(self, counter: str, ticket: dict, has_normal: bool, has_prio: bool, by_next: bool) -> None:
        """Model the priority bound for a new call (not a resume) of `ticket` at `counter`."""
        if by_next:
            if ticket["priority"] and has_normal:
                assert self.prio_run[counter] < self.max_prio, (
                    f"counter {counter}: priority call number {self.prio_run[counter] + 1} in a row while a "
                    f"normal ticket waits (bound {self.max_prio})")
            if not ticket["priority"] and has_prio:
                assert self.prio_run[counter] >= self.max_prio, (
                    f"counter {counter}: a normal ticket called before a waiting priority ticket "
                    f"with only {self.prio_run[counter]} priority calls in a row")
        self.prio_run[counter] = self.prio_run[counter] + 1 if ticket["priority"] else 0

    # ------------------------------------------------------------ rules
    @initialize(closed=st.lists(st.sampled_from(COUNTERS), unique=True, max_size=2),
                services=st.lists(st.sampled_from(SERVICES), min_size=2, max_size=10))
    def start_the_day(self, closed, services):
        for c in COUNTERS:
            if c not in closed:
                self._do("open", self.store.set_counter_state, c, "open")
        for service in services:
            self.issue([service], "walk_in")

    @rule(services=st.lists(st.sampled_from(SERVICES), min_size=1, max_size=4),
          kind=st.sampled_from(["walk_in", "priority", "walk_in", "elderly", "staff"]))
    def issue(self, services, kind):
        kw = {"walk_in": {}, "priority": {"priority": True}, "elderly": {"priority_group": "elderly"},
              "staff": {"source": "staff", "staff_id": 3}}[kind]
        for service in services:
            r = self._do("issue", self.store.issue, service, **kw)
            if r is not None:
                t = r.ticket
                assert t["id"] not in self.issued and t["service_id"] == service
                assert t["priority"] == (kind in ("priority", "elderly"))
                self.issued[t["id"]] = (t["day"], t["code"])

    @rule(counter=st.sampled_from(COUNTERS), state=st.sampled_from(["open", "open", "open", "break", "closed"]))
    def counter_state(self, counter, state):
        r = self._do("counter_" + state, self.store.set_counter_state, counter, state)
        if r is not None and state == "closed":
            self.prio_run[counter] = 0

    @rule(counter_pick=picks, how=hows, expect=st.booleans(), times=st.integers(min_value=1, max_value=4))
    def call_next(self, counter_pick, how, expect, times=1):
        """`times` presses of "next" at one counter, as staff work through the queue."""
        open_ = [r[0] for r in self.conn.execute("SELECT id FROM counters WHERE state = 'open' ORDER BY id")]
        pool = COUNTERS if how == "any" or not open_ else open_
        counter = pool[counter_pick % len(pool)]
        for i in range(times):
            if i and self.config.queue.next_with_open_ticket == "refuse" and self._current(counter) is not None:
                self._do("finish", self.store.finish, self._current(counter), counter)
            self._call_next(counter, expect)

    def _call_next(self, counter: str, expect: bool) -> None:
        waiting = self._eligible_waiting(counter)
        has_normal = any(not t["priority"] for t in waiting)
        has_prio = any(t["priority"] for t in waiting)
        current = self._current(counter)
        before = dump(self.conn)
        kw = {"expect_current": current} if expect else {}
        r = self._do("call_next", self.store.call_next, counter, **kw)
        if r is None:
            return
        if r.repeated:
            assert not expect and r.ticket["id"] == current and dump(self.conn) == before
            return
        t = r.ticket
        assert t["status"] == "called" and t["counter_id"] == counter
        assert t["id"] in {w["id"] for w in waiting}, "call_next called a ticket that was not eligible"
        self._called(counter, t, has_normal, has_prio, by_next=True)

    @rule(pick=picks, how=hows, counter_pick=picks)
    def call_code(self, pick, how, counter_pick):
        t = self._pick_ticket(pick, how != "any", "waiting", "parked")
        if t is None:
            return
        if how == "own" and t["counter_id"] is None:  # a counter that serves the ticket's service
            serving = [c.id for c in self.config.counters if t["service_id"] in c.services]
            counter = serving[counter_pick % len(serving)]
        else:
            counter = self._target(t, how, counter_pick)
        r = self._do("call_code", self.store.call_code, counter, t["code"], service_id=t["service_id"])
        if r is not None:
            called = r.ticket
            assert called["status"] == "called" and called["counter_id"] == counter and called["code"] == t["code"]
            if r.events[-1]["type"] == "ticket.called":
                self._called(counter, called, False, False, by_next=False)

    def _target(self, t: dict, how: str, counter_pick: int) -> str:
        """The counter an operation on `t` is made at: its own, or another one."""
        if how == "own" and t["counter_id"] is not None:
            return t["counter_id"]
        return COUNTERS[counter_pick % len(COUNTERS)]

    def _at_counter_op(self, name, statuses, pick, how, counter_pick):
        if how == "own" and not self._tickets(*statuses) and set(statuses) & {"called", "serving"}:
            self.call_next(counter_pick, "own", True)  # nothing at a counter yet: call someone first
        t = self._pick_ticket(pick, how != "any", *statuses)
        if t is None:
            return None, None
        return t, self._do(name, getattr(self.store, name), t["id"], self._target(t, how, counter_pick))

    @rule(pick=picks, how=hows, counter_pick=picks)
    def recall(self, pick, how, counter_pick):
        t, r = self._at_counter_op("recall", ("called",), pick, how, counter_pick)
        if r is not None:
            assert r.ticket["recall_count"] == t["recall_count"] + 1

    @rule(pick=picks, how=hows, counter_pick=picks)
    def no_show(self, pick, how, counter_pick):
        _, r = self._at_counter_op("no_show", ("called",), pick, how, counter_pick)
        if r is not None:
            assert r.ticket["status"] == "no_show"

    @rule(pick=picks, how=hows, counter_pick=picks)
    def start(self, pick, how, counter_pick):
        _, r = self._at_counter_op("start", ("called",), pick, how, counter_pick)
        if r is not None:
            assert r.ticket["status"] == "serving"

    @rule(pick=picks, how=hows, counter_pick=picks)
    def finish(self, pick, how, counter_pick):
        _, r = self._at_counter_op("finish", ("called", "serving"), pick, how, counter_pick)
        if r is not None:
            assert r.ticket["status"] == "done"

    @rule(pick=picks, how=hows, counter_pick=picks)
    def park(self, pick, how, counter_pick):
        _, r = self._at_counter_op("park", ("called", "serving"), pick, how, counter_pick)
        if r is not None:
            assert r.ticket["status"] == "parked"

    @rule(pick=picks, how=hows, counter_pick=picks)
    def resume(self, pick, how, counter_pick):
        _, r = self._at_counter_op("resume", ("parked",), pick, how, counter_pick)
        if r is not None:
            assert r.ticket["status"] == "called"

    @rule(pick=picks, how=hows, counter_pick=picks,
          mode=st.sampled_from(["service", "counter", "counter_service", "go_last", "nothing"]),
          service=st.sampled_from(SERVICES), to=st.sampled_from(COUNTERS))
    def transfer(self, pick, how, counter_pick, mode, service, to):
        if how == "own" and not self._tickets("called", "serving", "parked"):
            self.call_next(counter_pick, "own", True)  # nothing at a counter yet: call someone first
        t = self._pick_ticket(pick, how != "any", "called", "serving", "parked")
        if t is None:
            return
        counter = self._target(t, how, counter_pick)
        kw = {"service": {"service_id": service}, "counter": {"to_counter": to},
              "counter_service": {"to_counter": to, "service_id": service},
              "go_last": {"service_id": t["service_id"], "go_last": True}, "nothing": {}}[mode]
        r = self._do("transfer", self.store.transfer, t["id"], counter, **kw)
        if r is not None:
            after = r.ticket
            assert after["status"] == "waiting" and after["code"] == t["code"] and after["counter_id"] is None
            assert after["transfer_count"] == t["transfer_count"] + 1

    @rule(pick=picks, how=hows)
    def cancel(self, pick, how):
        t = self._pick_ticket(pick, how != "any", "waiting")
        if t is not None:
            self._do("cancel", self.store.cancel, t["id"])

    @precondition(lambda self: self.steps_today % 7 == 3)
    @rule()
    def unknown_names(self):
        """Unknown services, counters, tickets and codes are refused and change nothing."""
        s = self.store
        for name, fn, args, kw in [
            ("issue", s.issue, ("nope",), {}),
            ("open", s.set_counter_state, ("99", "open"), {}),
            ("call_next", s.call_next, ("99",), {}),
            ("call_code", s.call_code, ("1", "9999"), {}),
            ("finish", s.finish, (10_000, "1"), {}),
            ("transfer_service", s.transfer, (1, "1"), {"service_id": "nope"}),
            ("transfer_counter", s.transfer, (1, "1"), {"to_counter": "99"}),
            ("cancel", s.cancel, (10_000,), {}),
            ("assign", s.assign_services, ("99", ["civil"]), {}),
        ]:
            assert self._do("unknown_" + name, fn, *args, **kw) is None

    @rule(seconds=st.integers(min_value=1, max_value=600))
    def wait(self, seconds):
        self.clock.now += timedelta(seconds=seconds)

    @precondition(lambda self: self.steps_today >= 25)
    @rule()
    def new_day(self):
        """The next working day, 08:30 local; the start-up sweep closes what the last day left open."""
        local = self.clock.now.astimezone(TZ)
        day = local.date() + timedelta(days=1)
        holidays = {d.isoformat() for d in self.config.hours.holidays}
        while day.weekday() >= 5 or day.isoformat() in holidays:
            day += timedelta(days=1)
        self.clock.now = datetime(day.year, day.month, day.day, 8, 30, tzinfo=TZ).astimezone(timezone.utc)
        self.steps_today = 0
        r = self._do("close_stale_days", self.store.close_stale_days)
        assert r is not None
        for c in r.counters:
            assert c["state"] == "closed" and c["current_ticket_id"] is None
            self.prio_run[c["id"]] = 0
        assert not self._tickets("waiting", "called", "serving", "parked") or all(
            t["day"] == self.store.today() for t in self._tickets("waiting", "called", "serving", "parked"))

    # ------------------------------------------------------------ invariants
    @invariant()
    def database_invariants(self):
        check_invariants(self.conn, self.config)

    @invariant()
    def nothing_lost(self):
        rows = {r["id"]: (r["day"], r["code"]) for r in self.conn.execute("SELECT id, day, code FROM tickets")}
        assert rows == self.issued, "the tickets table differs from every ticket ever issued"

    @invariant()
    def priority_streak_matches_the_model(self):
        streaks = {r["id"]: r["priority_streak"] for r in self.conn.execute("SELECT id, priority_streak FROM counters")}
        assert streaks == self.prio_run

    @invariant()
    def integrity(self):
        assert self.conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"


class VariantMachine(QueueMachine):
    """Refuse-mode counters, wrapping ranges, a repeat-press window and a priority bound of 1."""

    def make_config(self):
        return config_variant(queue={"next_with_open_ticket": "refuse", "on_range_exhausted": "wrap",
                                     "repeat_press_seconds": 2}, priority={"max_consecutive": 1})


QueueMachine.TestCase.settings = SETTINGS
VariantMachine.TestCase.settings = SETTINGS
TestQueueMachine = QueueMachine.TestCase
TestVariantMachine = VariantMachine.TestCase
