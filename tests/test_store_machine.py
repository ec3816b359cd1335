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
from collections import Counter as Tally
from datetime import datetime, time, timedelta, timezone

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule, run_state_machine_as_test

from queue_machine import COUNTERS, EDGES, MUST_SUCCEED, SERVICES, QueueMachine, picks
from queue_model import next_working_day
from storecheck import config_variant

PROFILE = os.environ.get("QMS_HYPOTHESIS_PROFILE", "ci")
RANDOM = PROFILE == "long" or bool(os.environ.get("QMS_HYPOTHESIS_RANDOM"))
EXAMPLES = {"ci": 60, "long": 600}[PROFILE]
SHRINK = os.environ.get("QMS_HYPOTHESIS_SHRINK", "1") != "0"  # tests/mutants.py turns shrinking off
SETTINGS = settings(max_examples=EXAMPLES, stateful_step_count=50, deadline=None, derandomize=not RANDOM,
                    database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
                    print_blob=True, phases=[p for p in Phase if SHRINK or p not in (Phase.shrink, Phase.explain)])


class CentreDay(QueueMachine):
    """The moves of queue_machine.py, plus what happens in a real day: queues building up, priority streaks,
    citizens sent on, late repeated presses, the clock reaching the windows' edges, the end-of-day close and
    new days."""

    @rule(service=st.sampled_from(["land", "records", "civil"]), n=st.integers(min_value=2, max_value=5))
    def queue_builds_up(self, service, n):
        """Several citizens take a number of one service in a row (small ranges run out, caps fill)."""
        self.issue([service] * n, "walk_in")

    @rule(services=st.lists(st.sampled_from(SERVICES), min_size=1, max_size=3), counter_pick=picks)
    def priority_then_next(self, services, counter_pick):
        """Priority tickets arrive and a free counter calls: priority streaks build up."""
        self.issue(services, "priority")
        self._call_first(counter_pick)

    @rule(counter_pick=picks, start_first=st.booleans())
    def press_again(self, counter_pick, start_first):
        """At a free counter: "next", perhaps "start", and a second press a second later (a double tap, or a
        retried request of the first press arriving late)."""
        free = [c for c in COUNTERS if self.model.counters[c]["state"] == "open" and self.model.counters[c]["current"] is None]
        if not free:
            return
        counter = free[counter_pick % len(free)]
        self._call_next(counter, "unset")
        current = self.model.counters[counter]["current"]
        if current is not None:
            if start_first:
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


class VariantMachine(CentreDay):
    """Refuse-mode counters, wrapping ranges, a repeat-press window and a priority bound of 1."""

    must_refuse = QueueMachine.must_refuse | {"counter_busy", "repeat"}

    def make_config(self):
        return config_variant(queue={"next_with_open_ticket": "refuse", "on_range_exhausted": "wrap",
                                     "repeat_press_seconds": 3}, priority={"max_consecutive": 1})


TALLIES: dict[str, Tally] = {}


def run_machine(machine) -> Tally:
    """Run one machine; its outcomes are kept for test_every_operation_succeeded_sometimes."""
    machine.tally = Tally()
    run_state_machine_as_test(machine, settings=SETTINGS)
    TALLIES[machine.__name__] = machine.tally
    return machine.tally


def test_queue_machine():
    run_machine(CentreDay)


def test_variant_machine():
    run_machine(VariantMachine)


def test_every_operation_succeeded_sometimes():
    """A move that always refuses (a broken `park`) would pass every check above: each operation must have
    succeeded in the runs, and the refusals worth reaching must have been reached."""
    for machine in (CentreDay, VariantMachine):
        if machine.__name__ not in TALLIES:  # run alone
            run_machine(machine)
    both = sum(TALLIES.values(), Tally())
    never = sorted(op for op in MUST_SUCCEED if not both[f"{op}:ok"])
    assert not never, f"these operations never succeeded in {EXAMPLES} examples of each machine: {never}"
    for machine in (CentreDay, VariantMachine):
        reached = {k.split(":", 1)[1] for k in TALLIES[machine.__name__]}
        missing = sorted(machine.must_refuse - reached)
        assert not missing, f"{machine.__name__}: these outcomes were never reached: {missing}"
