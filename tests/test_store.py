"""The store against a real SQLite file: every operation, every domain error, numbering, the event log.

Each refused operation is checked to change nothing (a dump of the tables before and after). After every
test using the `store` fixture (or `make_store`) the invariant checker of storecheck.py runs on the database.
The fixture clock starts on Wednesday 2026-11-25 09:00 local (UTC+7), inside every issuing window.
"""
from __future__ import annotations

import json
import sqlite3

import pytest

from queue_server.core.errors import DomainError
from queue_server.store import Store
from storecheck import check_invariants, config_variant, dump

WRAP = {"queue": {"on_range_exhausted": "wrap"}}
REFUSE = {"queue": {"next_with_open_ticket": "refuse"}}
ALWAYS = {"queue": {"always_open": True}}


@pytest.fixture(autouse=True)
def _check_store(request):
    """Set up `store` first (so it is torn down after this check), then check its invariants."""
    s = request.getfixturevalue("store") if "store" in request.fixturenames else None
    yield
    if s is not None:
        check_invariants(s.conn, s.config)


@pytest.fixture
def make_store(tmp_path, clock):
    """Stores on variants of the test centre: make_store(queue={...}); invariants checked at teardown."""
    made: list[Store] = []

    def make(**overrides) -> Store:
        s = Store(tmp_path / f"variant{len(made)}.sqlite3", config_variant(**overrides), clock=clock)
        made.append(s)
        return s

    yield make
    for s in made:
        check_invariants(s.conn, s.config)
        s.close()


def refused(store: Store, code: str, fn, *args, **kw) -> DomainError:
    """`fn` raises the domain error `code` and the database is exactly as before."""
    before = dump(store.conn)
    with pytest.raises(DomainError) as e:
        fn(*args, **kw)
    assert e.value.code == code, f"expected {code}, got {e.value.code}: {e.value}"
    assert dump(store.conn) == before, f"refused operation ({code}) changed the database"
    assert e.value.message("vi") and e.value.message("en")
    return e.value


def nxt(store: Store, clock, counter: str, **kw) -> dict:
    """Call next at `counter` a little later (a second press within the repeat window is the same press)."""
    clock.advance(10)
    r = store.call_next(counter, **kw)
    assert not r.repeated
    return r.ticket


def issue(store: Store, service: str, **kw) -> dict:
    return store.issue(service, **kw).ticket


def events_of(store: Store, ticket_id: int | None = None) -> list[str]:
    q = "SELECT type FROM events" + (" WHERE ticket_id = ?" if ticket_id is not None else "") + " ORDER BY id"
    return [r[0] for r in store.conn.execute(q, (ticket_id,) if ticket_id is not None else ())]


def db_ticket(store: Store, ticket_id: int) -> dict:
    return store.ticket(ticket_id)


# ================================================================== issuing and numbering
@pytest.mark.parametrize("services, codes", [
    (["cccd", "passport", "cccd"], ["1001", "1002", "1003"]),  # one department range, shared by its services
    (["civil", "civil", "records"], ["A001", "A002", "B001"]),  # a prefix range per service
    (["land", "cccd", "land", "civil"], ["2001", "1001", "2002", "A001"]),  # ranges are independent
    (["records"] * 4, ["B001", "B002", "B003", "B004"]),
])
def test_issue_numbering(store, services, codes):
    got = [issue(store, s) for s in services]
    assert [t["code"] for t in got] == codes
    for t in got:
        key, numbering = store.config.numbering_of(t["service_id"])
        assert t["seq_key"] == key and t["number"] == numbering.start + t["seq_index"]
        assert t["status"] == "waiting" and t["day"] == "2026-11-25" and t["token"]
        assert db_ticket(store, t["id"]) == t


@pytest.mark.parametrize("kw, expect", [
    ({}, (False, None, "walk_in", None)),
    ({"priority": True}, (True, None, "walk_in", None)),
    ({"priority_group": "elderly"}, (True, "elderly", "walk_in", None)),  # a group implies priority
    ({"priority_group": "disabled", "source": "staff", "staff_id": 7}, (True, "disabled", "staff", 7)),
    ({"source": "online"}, (False, None, "online", None)),
    ({"priority": True, "source": "priority"}, (True, None, "priority", None)),
])
def test_issue_fields(store, kw, expect):
    r = store.issue("cccd", **kw)
    t = r.ticket
    assert (t["priority"], t["priority_group"], t["source"], t["staff_id"]) == expect
    assert [e["type"] for e in r.events] == ["ticket.issued"]
    ev = store.conn.execute("SELECT * FROM events WHERE ticket_id = ?", (t["id"],)).fetchone()
    assert (ev["type"], ev["service_id"], ev["staff_id"], ev["day"]) == ("ticket.issued", "cccd", kw.get("staff_id"), "2026-11-25")
    assert json.loads(ev["data"]) == {"ticket": t["id"], "code": "1001", "priority": expect[0], "source": expect[2]}
    assert r.events[0]["seq"] == ev["id"] == store.last_seq()


# setup steps run at the fixture time (Wed 09:00): ("issue", service) or ("service", service, kwargs)
FILL_RECORDS = [("issue", "records")] * 4
ISSUE_REFUSED = [
    ("unknown service", "2026-11-25 09:00", "nope", {}, [], "service_unknown", None),
    ("unknown priority group", "2026-11-25 09:00", "cccd", {"priority_group": "veteran"}, [], "priority_group_unknown", None),
    ("before the morning window", "2026-11-25 07:29", "cccd", {}, [], "service_closed", "outside_hours"),
    ("lunch break", "2026-11-25 11:15", "cccd", {}, [], "service_closed", "outside_hours"),
    ("after the afternoon window", "2026-11-25 16:30", "cccd", {}, [], "service_closed", "outside_hours"),
    ("night, priority too", "2026-11-25 22:00", "cccd", {"priority": True}, [], "service_closed", "outside_hours"),
    ("service window: before", "2026-11-25 07:59", "records", {}, [], "service_closed", "outside_hours"),
    ("service window: at its end", "2026-11-25 10:00", "records", {}, [], "service_closed", "outside_hours"),
    ("service window: afternoon", "2026-11-25 14:00", "records", {}, [], "service_closed", "outside_hours"),
    ("saturday", "2026-11-28 09:00", "cccd", {}, [], "service_closed", "closed_today"),
    ("sunday", "2026-11-29 09:00", "civil", {}, [], "service_closed", "closed_today"),
    ("holiday", "2026-12-31 09:00", "cccd", {}, [], "service_closed", "closed_today"),
    ("closed by a supervisor", "2026-11-25 09:00", "cccd", {}, [("service", "cccd", {"manual": "closed"})],
     "service_closed", "closed_manually"),
    ("closed by a supervisor, other service open", "2026-11-25 09:00", "passport", {},
     [("service", "passport", {"manual": "closed"}), ("issue", "cccd")], "service_closed", "closed_manually"),
    ("daily cap", "2026-11-25 09:00", "records", {}, FILL_RECORDS, "service_full", None),
    ("daily cap, priority too", "2026-11-25 09:00", "records", {"priority": True}, FILL_RECORDS, "service_full", None),
    ("lowered cap", "2026-11-25 09:00", "records", {},
     [("service", "records", {"cap_override": 2}), ("issue", "records"), ("issue", "records")], "service_full", None),
    ("cap on a service without one", "2026-11-25 09:00", "civil", {},
     [("service", "civil", {"cap_override": 1}), ("issue", "civil")], "service_full", None),
    ("range used up", "2026-11-25 09:00", "land", {}, [("issue", "land")] * 3, "range_exhausted", None),
    ("raised cap beyond the range", "2026-11-25 09:00", "records", {},
     [("service", "records", {"cap_override": 9})] + [("issue", "records")] * 5, "range_exhausted", None),
]


def _setup(store, steps):
    for step in steps:
        if step[0] == "issue":
            store.issue(step[1])
        else:
            store.set_service_state(step[1], **step[2])


@pytest.mark.parametrize("local, service, kw, steps, code, reason",
                         [c[1:] for c in ISSUE_REFUSED], ids=[c[0] for c in ISSUE_REFUSED])
def test_issue_refused(store, clock, local, service, kw, steps, code, reason):
    _setup(store, steps)
    clock.set_local(local)
    err = refused(store, code, store.issue, service, **kw)
    if reason is not None:
        assert err.params["reason"] == reason
    if code == "service_full":
        assert err.params["cap"] == store.service_statuses()[service].cap


ISSUE_ALLOWED = [
    ("window opens", "2026-11-25 07:30", "cccd", [], "1001"),
    ("last minute of the morning", "2026-11-25 11:14", "cccd", [], "1001"),
    ("afternoon window", "2026-11-25 13:15", "passport", [], "1001"),
    ("service window opens", "2026-11-25 08:00", "records", [], "B001"),
    ("service window last minute", "2026-11-25 09:59", "records", [], "B001"),
    ("friday", "2026-11-27 16:29", "civil", [], "A001"),
    ("opened by a supervisor on saturday", "2026-11-28 09:00", "cccd", [("service", "cccd", {"manual": "open"})], "1001"),
    ("opened by a supervisor on a holiday night", "2026-12-31 22:00", "land", [("service", "land", {"manual": "open"})], "2001"),
    ("back to auto", "2026-11-25 09:00", "cccd",
     [("service", "cccd", {"manual": "closed"}), ("service", "cccd", {"manual": "auto"})], "1001"),
    ("raised cap", "2026-11-25 09:00", "records", [("service", "records", {"cap_override": 5})] + FILL_RECORDS, "B005"),
    ("cap override removed", "2026-11-25 09:00", "records",
     [("service", "records", {"cap_override": 1}), ("issue", "records"), ("service", "records", {"cap_override": None})],
     "B002"),
    ("other service of a full one", "2026-11-25 09:00", "civil", FILL_RECORDS, "A001"),
]


@pytest.mark.parametrize("local, service, steps, code", [c[1:] for c in ISSUE_ALLOWED], ids=[c[0] for c in ISSUE_ALLOWED])
def test_issue_allowed(store, clock, local, service, steps, code):
    _setup(store, steps)
    clock.set_local(local)
    assert issue(store, service)["code"] == code


def test_service_statuses_report_why(store, clock):
    _setup(store, FILL_RECORDS)
    st = store.service_statuses()
    assert (st["records"].open, st["records"].reason, st["records"].cap, st["records"].issued_today) == (False, "full", 4, 4)
    assert st["cccd"].open and st["cccd"].issued_today == 0
    clock.set_local("2026-11-25 12:00")
    st = store.service_statuses()
    assert (st["cccd"].open, st["cccd"].reason, st["cccd"].opens_at) == (False, "outside_hours", "13:15")


def test_always_open_issues_at_any_hour(make_store, clock):
    s = make_store(**ALWAYS)
    clock.set_local("2026-11-29 03:00")  # a Sunday night
    assert issue(s, "cccd")["code"] == "1001"
    _setup(s, FILL_RECORDS)
    refused(s, "service_full", s.issue, "records")  # caps still hold


@pytest.mark.parametrize("utc_before, utc_after", [
    ("2026-11-25T16:59:59+00:00", "2026-11-25T17:00:00+00:00"),  # local midnight is 17:00 UTC
    ("2026-11-25T16:59:59.999+00:00", "2026-11-25T17:00:00.001+00:00"),
])
def test_numbering_restarts_at_local_midnight(make_store, clock, utc_before, utc_after):
    from datetime import datetime

    s = make_store(**ALWAYS)
    clock.now = datetime.fromisoformat(utc_before)
    a, b = issue(s, "cccd"), issue(s, "civil")
    c = issue(s, "passport")
    assert [(t["day"], t["code"]) for t in (a, b, c)] == [("2026-11-25", "1001"), ("2026-11-25", "A001"), ("2026-11-25", "1002")]
    clock.now = datetime.fromisoformat(utc_after)
    d, e = issue(s, "passport"), issue(s, "civil")
    assert [(t["day"], t["code"], t["seq_index"]) for t in (d, e)] == [("2026-11-26", "1001", 0), ("2026-11-26", "A001", 0)]
    # yesterday's tickets keep their numbers; both days are in the table
    assert [t["code"] for t in s.tickets(day="2026-11-25")] == ["1001", "A001", "1002"]


def test_caps_and_ranges_restart_each_day(store, clock):
    _setup(store, FILL_RECORDS + [("issue", "land")] * 3)
    refused(store, "service_full", store.issue, "records")
    refused(store, "range_exhausted", store.issue, "land")
    clock.set_local("2026-11-26 09:00")
    assert [issue(store, "records")["code"] for _ in range(4)] == ["B001", "B002", "B003", "B004"]
    assert [issue(store, "land")["code"] for _ in range(3)] == ["2001", "2002", "2003"]
    refused(store, "service_full", store.issue, "records")


def test_cap_counts_issued_tickets_not_transfers(open_store, clock):
    """A ticket transferred out of a capped service does not give the machine a new slip to print."""
    s = open_store
    _setup(s, FILL_RECORDS)
    t = nxt(s, clock, "3")
    assert t["service_id"] == "records"
    s.transfer(t["id"], "3", service_id="civil")
    refused(s, "service_full", s.issue, "records")
    assert s.service_statuses()["records"].issued_today == 4
    # and a ticket transferred into a service is not counted as issued there
    s.set_service_state("civil", cap_override=1)
    assert issue(s, "civil")["code"] == "A001"


def test_wrap_mode(make_store, clock):
    s = make_store(**WRAP)
    for c in s.config.counters:
        s.set_counter_state(c.id, "open")
    a, b, c = (issue(s, "land") for _ in range(3))
    assert [t["code"] for t in (a, b, c)] == ["2001", "2002", "2003"]
    # 2001 is still waiting: wrapping onto it would show one number twice
    refused(s, "range_exhausted", s.issue, "land")
    t = nxt(s, clock, "4")
    assert t["id"] == a["id"]
    refused(s, "range_exhausted", s.issue, "land")  # called is still active
    s.finish(a["id"], "4")
    d = issue(s, "land")
    assert (d["code"], d["number"], d["seq_index"]) == ("2001", 2001, 3)
    refused(s, "range_exhausted", s.issue, "land")  # 2002 is waiting: refuse, never skip a number
    s.cancel(b["id"])
    e = issue(s, "land")
    assert (e["code"], e["seq_index"]) == ("2002", 4)
    # the active ticket wins a code lookup; calling by code reaches the new one
    assert s.find_code("2001").id == d["id"]
    r = s.call_code("4", "2001")
    assert r.ticket["id"] == d["id"]
    assert s.ticket(a["id"])["status"] == "done"


def test_refuse_mode_is_the_default(store):
    _setup(store, [("issue", "land")] * 3)
    for _ in range(2):
        refused(store, "range_exhausted", store.issue, "land")


# ================================================================== calling the next ticket
# Steps: a service issues a ticket ("cccd!" = priority), an int moves the clock by that many seconds.
# The counter then calls next (10 s apart) and finishes each ticket until nothing waits.
CALL_ORDER = [
    ("fifo across services", "1", ["cccd", "passport", "cccd"], ["1001", "1002", "1003"]),
    ("strict order policy", "2", ["passport", "cccd", "passport", "cccd"], ["1002", "1004", "1001", "1003"]),
    ("priority first", "1", ["cccd", "cccd", "passport!"], ["1003", "1001", "1002"]),
    ("priority bound of 2", "1", ["cccd", "cccd!", "cccd!", "passport!", "cccd!"], ["1002", "1003", "1001", "1004", "1005"]),
    ("bound with no normal waiting", "1", ["cccd!", "cccd!", "cccd!"], ["1001", "1002", "1003"]),
    ("priority within the order policy", "2", ["passport", "cccd", "passport!"], ["1003", "1002", "1001"]),
    ("other services are not called", "4", ["cccd", "land", "civil", "land"], ["2001", "2002"]),
    ("weighted: a heavier service waits less", "3", ["civil", 10, "records"], ["B001", "A001"]),
    ("weighted: a long wait wins", "3", ["civil", 60, "records"], ["A001", "B001"]),
    ("two counters share a service", "5", ["civil", "records", "civil"], ["A001", "A002"]),
]


@pytest.mark.parametrize("counter, steps, codes", [c[1:] for c in CALL_ORDER], ids=[c[0] for c in CALL_ORDER])
def test_call_order(open_store, clock, counter, steps, codes):
    s = open_store
    for step in steps:
        if isinstance(step, int):
            clock.advance(step)
        else:
            issue(s, step.rstrip("!"), priority=step.endswith("!"))
            clock.advance(1)
    got = []
    while True:
        clock.advance(10)
        try:
            t = s.call_next(counter).ticket
        except DomainError as e:
            assert e.code == "nothing_waiting"
            break
        assert t["status"] == "called" and t["counter_id"] == counter
        got.append(t["code"])
        s.finish(t["id"], counter)
    assert got == codes


def test_call_next_result_and_events(open_store, clock):
    s = open_store
    a = issue(s, "cccd")
    clock.advance(5)
    r = s.call_next("1", staff_id=3, actor="canbo1")
    t = r.ticket
    assert (t["id"], t["status"], t["counter_id"], t["called_ms"], t["staff_id"]) == (a["id"], "called", "1", s.now_ms(), 3)
    assert r.counters == [s.counter("1")] and s.counter("1")["current_ticket_id"] == a["id"]
    assert [e["type"] for e in r.events] == ["ticket.called"]
    row = s.conn.execute("SELECT * FROM events WHERE id = ?", (r.events[0]["seq"],)).fetchone()
    assert (row["counter_id"], row["staff_id"], row["actor"]) == ("1", 3, "canbo1")
    assert json.loads(row["data"]) == {"ticket": a["id"], "counter": "1", "recall": False}


def test_call_next_finishes_the_open_ticket(open_store, clock):
    s = open_store
    a, b = issue(s, "cccd"), issue(s, "cccd")
    nxt(s, clock, "1")
    s.start(a["id"], "1")
    r = s.call_next("1")
    assert [(t["id"], t["status"]) for t in r.tickets] == [(a["id"], "done"), (b["id"], "called")]
    assert [e["type"] for e in r.events] == ["ticket.finished", "ticket.called"]
    assert r.events[0]["data"]["auto"] is True
    assert s.counter("1")["current_ticket_id"] == b["id"]


def test_call_next_refuse_mode(make_store, clock):
    s = make_store(**REFUSE)
    s.set_counter_state("1", "open")
    a, _ = issue(s, "cccd"), issue(s, "cccd")
    nxt(s, clock, "1")
    clock.advance(30)
    refused(s, "counter_busy", s.call_next, "1")
    refused(s, "counter_busy", s.call_code, "1", "1002")
    refused(s, "counter_busy", s.set_counter_state, "1", "break")
    refused(s, "counter_busy", s.set_counter_state, "1", "closed")
    s.finish(a["id"], "1")
    assert nxt(s, clock, "1")["code"] == "1002"


def test_repeated_press_calls_once(make_store, clock):
    s = make_store(queue={"repeat_press_seconds": 2})
    s.set_counter_state("1", "open")
    a, b = issue(s, "cccd"), issue(s, "cccd")
    first = s.call_next("1").ticket
    before = dump(s.conn)
    clock.advance(1)  # a double tap within the repeat window
    again = s.call_next("1")
    assert again.repeated and again.ticket["id"] == first["id"] == a["id"]
    assert dump(s.conn) == before
    # a press made for the ticket already replaced is the same press, whenever it arrives
    clock.advance(60)
    stale = s.call_next("1", expect_current=None)
    assert stale.repeated and stale.ticket["id"] == a["id"]
    assert dump(s.conn) == before
    # a press that knows the current ticket calls the next one at once
    r = s.call_next("1", expect_current=a["id"])
    assert not r.repeated and r.ticket["id"] == b["id"]


CALL_NEXT_REFUSED = [
    ("unknown counter", "99", [], "counter_unknown"),
    ("closed counter", "1", [("issue", "cccd")], "counter_not_open"),
    ("counter on break", "1", [("issue", "cccd"), ("state", "1", "open"), ("state", "1", "break")], "counter_not_open"),
    ("nothing waiting", "1", [("state", "1", "open")], "nothing_waiting"),
    ("only other services waiting", "1", [("state", "1", "open"), ("issue", "civil"), ("issue", "land")], "nothing_waiting"),
    ("only cancelled tickets", "1", [("state", "1", "open"), ("issue", "cccd"), ("cancel", 1)], "nothing_waiting"),
]


@pytest.mark.parametrize("counter, steps, code", [c[1:] for c in CALL_NEXT_REFUSED], ids=[c[0] for c in CALL_NEXT_REFUSED])
def test_call_next_refused(store, counter, steps, code):
    for step in steps:
        if step[0] == "issue":
            store.issue(step[1])
        elif step[0] == "state":
            store.set_counter_state(step[1], step[2])
        elif step[0] == "cancel":
            store.cancel(step[1])
    refused(store, code, store.call_next, counter)


def test_yesterdays_tickets_are_not_called_today(open_store, clock):
    s = open_store
    issue(s, "cccd")
    clock.set_local("2026-11-26 09:00")
    s.set_counter_state("1", "open")
    refused(s, "nothing_waiting", s.call_next, "1")
    refused(s, "ticket_unknown", s.call_code, "1", "1001")


# ================================================================== calling a given number
def test_call_code_out_of_turn(open_store, clock):
    s = open_store
    a, b, c = (issue(s, "cccd") for _ in range(3))
    r = s.call_code("1", " 1003 ")
    assert r.ticket["id"] == c["id"] and r.ticket["status"] == "called"
    assert [e["type"] for e in r.events] == ["ticket.called"]
    assert nxt(s, clock, "1")["id"] == a["id"]  # the queue order is untouched
    assert s.ticket(c["id"])["status"] == "done"  # the open ticket was finished first (mode finish)


@pytest.mark.parametrize("code, service, expect", [("a001", None, "A001"), ("A001", "civil", "A001"), ("b002", "records", "B002")])
def test_call_code_normalises(open_store, code, service, expect):
    s = open_store
    _setup(s, [("issue", "civil"), ("issue", "records"), ("issue", "records")])
    assert s.call_code("3", code, service_id=service).ticket["code"] == expect


# (id, steps building the state, counter, code, error). Tickets: 1001 (cccd), A001 (civil).
CALL_CODE_REFUSED = [
    ("unknown number", [], "1", "9999", None, "ticket_unknown"),
    ("number of another service filter", [], "1", "1001", "passport", "ticket_unknown"),
    ("other department's counter", [], "4", "1001", None, "not_for_counter"),
    ("service not served here", [], "1", "A001", None, "not_for_counter"),
    ("already called elsewhere", [("next", "2")], "1", "1001", None, "not_waiting"),
    ("already done", [("next", "1"), ("finish", "1")], "1", "1001", None, "not_waiting"),
    ("cancelled", [("cancel",)], "1", "1001", None, "not_waiting"),
    ("sent to another counter", [("next", "1"), ("transfer", "1", {"to_counter": "2"})], "1", "1001", None, "not_for_counter"),
    ("parked at another counter", [("next", "2"), ("park", "2")], "1", "1001", None, "wrong_counter"),
    ("counter closed", [("state", "1", "closed")], "1", "1001", None, "counter_not_open"),
    ("counter on break", [("state", "1", "break")], "1", "1001", None, "counter_not_open"),
    ("unknown counter", [], "99", "1001", None, "counter_unknown"),
]


@pytest.mark.parametrize("steps, counter, code, service, error",
                         [c[1:] for c in CALL_CODE_REFUSED], ids=[c[0] for c in CALL_CODE_REFUSED])
def test_call_code_refused(open_store, clock, steps, counter, code, service, error):
    s = open_store
    t = issue(s, "cccd")
    issue(s, "civil")
    for step in steps:
        clock.advance(10)
        if step[0] == "next":
            s.call_next(step[1])
        elif step[0] == "finish":
            s.finish(t["id"], step[1])
        elif step[0] == "park":
            s.park(t["id"], step[1])
        elif step[0] == "cancel":
            s.cancel(t["id"])
        elif step[0] == "transfer":
            s.transfer(t["id"], step[1], **step[2])
        elif step[0] == "state":
            s.set_counter_state(step[1], step[2])
    refused(s, error, s.call_code, counter, code, service_id=service)


def test_call_code_resumes_a_parked_ticket(open_store, clock):
    s = open_store
    a, b = issue(s, "cccd"), issue(s, "cccd")
    nxt(s, clock, "1")
    s.park(a["id"], "1")
    nxt(s, clock, "1")  # b
    r = s.call_code("1", "1001")
    assert [e["type"] for e in r.events] == ["ticket.finished", "ticket.resumed"]
    assert s.ticket(b["id"])["status"] == "done" and s.ticket(a["id"])["status"] == "called"


# ================================================================== ticket operations at a counter
def _make(s: Store, clock, state: str) -> dict:
    """A cccd ticket in `state`, at counter 1 ("elsewhere": called at counter 2)."""
    t = issue(s, "cccd")
    if state in ("waiting", "cancelled"):
        if state == "cancelled":
            s.cancel(t["id"])
        return s.ticket(t["id"])
    counter = "2" if state == "elsewhere" else "1"
    assert nxt(s, clock, counter)["id"] == t["id"]
    if state in ("serving", "done_served", "parked_serving"):
        s.start(t["id"], counter)
    if state in ("parked", "parked_serving"):
        s.park(t["id"], counter)
    if state in ("done", "done_served"):
        s.finish(t["id"], counter)
    if state == "no_show":
        s.no_show(t["id"], counter)
    return s.ticket(t["id"])


# (op, state of the ticket, result status or error code, events logged, the counter's current ticket after)
TICKET_OPS = [
    ("recall", "called", "called", ["ticket.called"], "same"),
    ("recall", "serving", "not_called_here", None, None),
    ("recall", "waiting", "not_called_here", None, None),
    ("recall", "elsewhere", "not_called_here", None, None),
    ("recall", "parked", "not_called_here", None, None),
    ("recall", "done", "not_called_here", None, None),
    ("no_show", "called", "no_show", ["ticket.no_show"], None),
    ("no_show", "serving", "not_called_here", None, None),
    ("no_show", "waiting", "not_called_here", None, None),
    ("no_show", "elsewhere", "not_called_here", None, None),
    ("no_show", "no_show", "not_called_here", None, None),
    ("start", "called", "serving", ["ticket.started"], "same"),
    ("start", "waiting", "not_called_here", None, None),  # starting a ticket that was not called
    ("start", "serving", "not_called_here", None, None),
    ("start", "elsewhere", "not_called_here", None, None),
    ("start", "parked", "not_called_here", None, None),
    ("start", "done", "not_called_here", None, None),
    ("finish", "serving", "done", ["ticket.finished"], None),
    ("finish", "called", "done", ["ticket.finished"], None),  # staff skipped "start"
    ("finish", "elsewhere", "not_at_counter", None, None),  # finishing a ticket of another counter
    ("finish", "waiting", "not_at_counter", None, None),
    ("finish", "parked", "not_at_counter", None, None),
    ("finish", "done", "not_at_counter", None, None),
    ("finish", "cancelled", "not_at_counter", None, None),
    ("park", "called", "parked", ["ticket.parked"], None),
    ("park", "serving", "parked", ["ticket.parked"], None),
    ("park", "waiting", "not_at_counter", None, None),
    ("park", "elsewhere", "not_at_counter", None, None),
    ("park", "parked", "not_at_counter", None, None),
    ("resume", "parked", "called", ["ticket.resumed"], "same"),
    ("resume", "parked_serving", "called", ["ticket.resumed"], "same"),
    ("resume", "waiting", "not_parked", None, None),
    ("resume", "called", "not_parked", None, None),
    ("resume", "done", "not_parked", None, None),
]


@pytest.mark.parametrize("op, state, expect, events, current", TICKET_OPS)
def test_ticket_operation(open_store, clock, op, state, expect, events, current):
    s = open_store
    t = _make(s, clock, state)
    clock.advance(5)
    fn = getattr(s, op)
    if events is None:
        refused(s, expect, fn, t["id"], "1")
        return
    r = fn(t["id"], "1", staff_id=4, actor="canbo1")
    after = s.ticket(t["id"])
    assert after["status"] == expect and r.ticket == after
    assert [e["type"] for e in r.events] == events
    assert events_of(s, t["id"])[-len(events):] == events
    assert s.counter("1")["current_ticket_id"] == (t["id"] if current == "same" else None)
    if op == "recall":
        assert after["recall_count"] == 1 and r.events[0]["data"]["recall"] is True
    if op in ("no_show", "finish"):
        assert after["finished_ms"] == s.now_ms()
    if op == "finish":
        assert after["started_ms"] == (t["started_ms"] if state == "serving" else t["called_ms"])
    if op == "start":
        assert after["started_ms"] == s.now_ms()


@pytest.mark.parametrize("op", ["recall", "no_show", "start", "finish", "park", "resume"])
def test_ticket_operation_unknowns(open_store, clock, op):
    s = open_store
    t = _make(s, clock, "called")
    refused(s, "ticket_unknown", getattr(s, op), 9999, "1")
    refused(s, "counter_unknown", getattr(s, op), t["id"], "99")


@pytest.mark.parametrize("op, counter_state, error", [
    ("recall", "break", "counter_not_open"),  # the break finished the ticket first
    ("resume", "break", "counter_not_open"),
    ("resume", "closed", "counter_not_open"),
])
def test_operations_need_an_open_counter(open_store, clock, op, counter_state, error):
    s = open_store
    t = _make(s, clock, "parked" if op == "resume" else "called")
    s.set_counter_state("1", counter_state)
    refused(s, error, getattr(s, op), t["id"], "1")


def test_resume_at_another_counter_refused(open_store, clock):
    s = open_store
    t = _make(s, clock, "parked")
    refused(s, "wrong_counter", s.resume, t["id"], "2")


def test_park_frees_the_counter_and_resume_keeps_the_priority_streak(open_store, clock):
    s = open_store
    p1, p2, n = issue(s, "cccd", priority=True), issue(s, "cccd", priority=True), issue(s, "cccd")
    nxt(s, clock, "1")
    s.park(p1["id"], "1")
    assert nxt(s, clock, "1")["id"] == p2["id"]  # the counter is free again
    assert s.counter("1")["priority_streak"] == 2
    r = s.resume(p1["id"], "1")
    assert [e["type"] for e in r.events] == ["ticket.finished", "ticket.resumed"]
    assert s.counter("1")["priority_streak"] == 2  # a resume is not a new priority call
    s.finish(p1["id"], "1")
    assert nxt(s, clock, "1")["id"] == n["id"]


# ================================================================== cancel
@pytest.mark.parametrize("state, error", [
    ("waiting", None), ("called", "not_waiting"), ("serving", "not_waiting"), ("parked", "not_waiting"),
    ("done", "not_waiting"), ("no_show", "not_waiting"), ("cancelled", "not_waiting"),
])
def test_cancel(open_store, clock, state, error):
    s = open_store
    t = _make(s, clock, state)
    if error:
        refused(s, error, s.cancel, t["id"])
        return
    r = s.cancel(t["id"], staff_id=2, actor="super")
    assert r.ticket["status"] == "cancelled" and [e["type"] for e in r.events] == ["ticket.cancelled"]
    refused(s, "nothing_waiting", s.call_next, "1")


def test_cancel_unknown(store):
    refused(store, "ticket_unknown", store.cancel, 12345)


# ================================================================== transfer
# The ticket 1001 (cccd) is serving at counter 1; 1002 (cccd) and 1003 (passport) wait behind it.
TRANSFERS = [
    ("to another service, keeps its place", {"service_id": "passport"}, ("passport", None, "issued"), "1", "1001"),
    ("to another department", {"service_id": "civil"}, ("civil", None, "issued"), "3", "1001"),
    ("to a counter by name", {"to_counter": "2"}, ("cccd", None, "issued"), "2", "1001"),
    ("to a counter of other services", {"to_counter": "4"}, ("land", "4", "issued"), "4", "1001"),
    ("to a counter and a service", {"to_counter": "3", "service_id": "records"}, ("records", "3", "issued"), "3", "1001"),
    ("to the back of its queue", {"service_id": "cccd", "go_last": True}, ("cccd", None, "now"), "1", "1002"),
    ("to another service, last", {"service_id": "passport", "go_last": True}, ("passport", None, "now"), "1", "1002"),
]


@pytest.mark.parametrize("kw, expect, caller, first", [c[1:] for c in TRANSFERS], ids=[c[0] for c in TRANSFERS])
def test_transfer(open_store, clock, kw, expect, caller, first):
    s = open_store
    t = issue(s, "cccd")
    clock.advance(1)
    issue(s, "cccd"), issue(s, "passport")
    nxt(s, clock, "1")
    s.start(t["id"], "1")
    clock.advance(30)
    r = s.transfer(t["id"], "1", staff_id=4, **kw)
    after = s.ticket(t["id"])
    service, _, queued = expect
    target = kw.get("to_counter")
    assert (after["status"], after["service_id"], after["counter_id"], after["target_counter_id"]) == ("waiting", service, None, target)
    assert after["queued_ms"] == (t["issued_ms"] if queued == "issued" else s.now_ms())
    assert (after["code"], after["number"], after["transfer_count"]) == ("1001", 1001, 1)
    assert s.counter("1")["current_ticket_id"] is None
    assert [e["type"] for e in r.events] == ["ticket.transferred"]
    assert r.events[0]["data"] == {"ticket": t["id"], "from_service": "cccd", "to_service": service,
                                   "to_counter": target, "go_last": kw.get("go_last", False)}
    assert nxt(s, clock, caller)["code"] == first


def test_transfer_to_a_counter_goes_first_there_only(open_store, clock):
    s = open_store
    t = issue(s, "cccd")
    other = issue(s, "cccd")
    nxt(s, clock, "1")
    s.transfer(t["id"], "1", to_counter="2")
    assert nxt(s, clock, "1")["id"] == other["id"]  # counter 1 does not take it back
    refused(s, "nothing_waiting", s.call_next, "1")
    assert nxt(s, clock, "2")["id"] == t["id"]


def test_transfer_of_a_parked_ticket(open_store, clock):
    s = open_store
    t = _make(s, clock, "parked")
    u = issue(s, "cccd")
    nxt(s, clock, "1")  # the counter holds u
    s.transfer(t["id"], "1", service_id="passport")
    assert s.counter("1")["current_ticket_id"] == u["id"]  # the open ticket stays
    assert s.ticket(t["id"])["status"] == "waiting"


TRANSFER_REFUSED = [
    ("to itself", "called", "1", {"to_counter": "1"}, "transfer_to_self"),
    ("no target", "called", "1", {}, "transfer_needs_target"),
    ("same service, not last", "called", "1", {"service_id": "cccd"}, "transfer_to_self_service"),
    ("service not served by the target", "called", "1", {"service_id": "passport", "to_counter": "4"}, "not_for_counter"),
    ("unknown service", "called", "1", {"service_id": "nope"}, "service_unknown"),
    ("unknown target counter", "called", "1", {"to_counter": "99"}, "counter_unknown"),
    ("unknown counter", "called", "99", {"service_id": "passport"}, "counter_unknown"),
    ("a waiting ticket", "waiting", "1", {"service_id": "passport"}, "not_at_counter"),
    ("a ticket of another counter", "elsewhere", "1", {"service_id": "passport"}, "not_at_counter"),
    ("a finished ticket", "done", "1", {"service_id": "passport"}, "not_at_counter"),
    ("a no-show", "no_show", "1", {"service_id": "passport"}, "not_at_counter"),
]


@pytest.mark.parametrize("state, counter, kw, error", [c[1:] for c in TRANSFER_REFUSED], ids=[c[0] for c in TRANSFER_REFUSED])
def test_transfer_refused(open_store, clock, state, counter, kw, error):
    s = open_store
    t = _make(s, clock, state)
    refused(s, error, s.transfer, t["id"], counter, **kw)


def test_transfer_unknown_ticket(open_store):
    refused(open_store, "ticket_unknown", open_store.transfer, 777, "1", service_id="passport")


# ================================================================== counter states
COUNTER_STATES = [
    # (id, ticket state at counter 1 before, new state, ticket status after, events)
    ("open a closed counter", None, "open", None, ["counter.state"]),
    ("break, nothing open", "none_open", "break", None, ["counter.state"]),
    ("close, nothing open", "none_open", "closed", None, ["counter.state"]),
    ("break finishes the called ticket", "called", "break", "done", ["ticket.finished", "counter.state"]),
    ("close finishes the serving ticket", "serving", "closed", "done", ["ticket.finished", "counter.state"]),
    ("a parked ticket stays parked", "parked", "closed", "parked", ["counter.state"]),
    ("reopen keeps the open ticket", "called", "open", "called", ["counter.state"]),
]


@pytest.mark.parametrize("before, state, status, events", [c[1:] for c in COUNTER_STATES], ids=[c[0] for c in COUNTER_STATES])
def test_set_counter_state(store, clock, before, state, status, events):
    s = store
    t = None
    if before is not None:
        s.set_counter_state("1", "open", staff_id=9)
        if before != "none_open":
            t = _make(s, clock, before)
    old = s.counter("1")["state"]
    clock.advance(5)
    r = s.set_counter_state("1", state, staff_id=9, actor="canbo1")
    c = s.counter("1")
    assert c["state"] == state and r.counters[-1] == c
    assert [e["type"] for e in r.events] == events
    assert r.events[-1]["data"] == {"counter": "1", "from": old, "to": state}
    assert c["staff_id"] == (9 if state != "closed" else None)
    if t is not None:
        after = s.ticket(t["id"])
        assert after["status"] == status
        if status == "done":
            assert r.events[0]["data"] == {"ticket": t["id"], "auto": True} and after["finished_ms"] == s.now_ms()
        assert c["current_ticket_id"] == (t["id"] if status == "called" else None)


def test_closing_resets_the_priority_streak_and_a_break_keeps_it(open_store, clock):
    s = open_store
    for _ in range(4):
        issue(s, "cccd", priority=True)
    issue(s, "cccd")
    nxt(s, clock, "1"), nxt(s, clock, "1")
    assert s.counter("1")["priority_streak"] == 2
    s.set_counter_state("1", "break")
    s.set_counter_state("1", "open")
    assert s.counter("1")["priority_streak"] == 2
    assert not nxt(s, clock, "1")["priority"]  # the bound still holds after the break
    nxt(s, clock, "1")
    s.set_counter_state("1", "closed")
    assert s.counter("1")["priority_streak"] == 0


def test_counter_state_unknown_counter(store):
    refused(store, "counter_unknown", store.set_counter_state, "42", "open")


def test_parked_ticket_resumed_after_reopening(open_store, clock):
    s = open_store
    t = _make(s, clock, "parked")
    s.set_counter_state("1", "closed")
    s.set_counter_state("1", "open")
    assert s.resume(t["id"], "1").ticket["status"] == "called"


# ================================================================== end of day
def _busy_day(s: Store, clock) -> dict[str, dict]:
    """One ticket in each status, spread over counters 1 and 2."""
    made = {}
    made["done"] = _make(s, clock, "done")
    made["no_show"] = _make(s, clock, "no_show")
    made["cancelled"] = _make(s, clock, "cancelled")
    made["parked"] = _make(s, clock, "parked")
    made["serving"] = _make(s, clock, "serving")
    made["called"] = _make(s, clock, "elsewhere")
    made["waiting"] = _make(s, clock, "waiting")
    made["priority"] = issue(s, "civil", priority=True)
    return made


def test_close_day(open_store, clock):
    s = open_store
    made = _busy_day(s, clock)
    clock.set_local("2026-11-25 17:30")
    r = s.close_day()
    unserved = {"parked", "serving", "called", "waiting", "priority"}
    for name, t in made.items():
        assert s.ticket(t["id"])["status"] == ("unserved" if name in unserved else name)
    assert sorted(e["ticket_id"] for e in r.events if e["type"] == "ticket.unserved") == sorted(made[n]["id"] for n in unserved)
    assert all(c["state"] == "closed" and c["current_ticket_id"] is None and c["staff_id"] is None for c in s.counters())
    assert sum(e["type"] == "counter.state" for e in r.events) == len(s.config.counters)
    last = json.loads(s.conn.execute("SELECT value FROM meta WHERE key = 'last_close'").fetchone()[0])
    assert last == {"ts_ms": s.now_ms(), "day": "2026-11-25"}
    # the history stays: every ticket and every event is still there
    assert len(s.tickets()) == len(made)
    assert s.event_counts()["ticket.issued"] == len(made)


def test_close_stale_days(open_store, clock):
    s = open_store
    made = _busy_day(s, clock)
    s.set_counter_state("5", "closed")
    clock.set_local("2026-11-26 07:45")
    assert s.today() == "2026-11-26"
    s.set_counter_state("5", "open")  # a counter opened today is left alone
    new = issue(s, "civil")
    assert new["code"] == "A001" and new["day"] == "2026-11-26"  # numbering restarted
    r = s.close_stale_days()
    unserved = {"parked", "serving", "called", "waiting", "priority"}
    for name, t in made.items():
        assert s.ticket(t["id"])["status"] == ("unserved" if name in unserved else name)
    assert s.ticket(new["id"])["status"] == "waiting"
    states = {c["id"]: c["state"] for c in s.counters()}
    assert states == {"1": "closed", "2": "closed", "3": "closed", "4": "closed", "5": "open"}
    assert {e["ticket_id"] for e in r.events if e["type"] == "ticket.unserved"} == {made[n]["id"] for n in unserved}
    # once is enough: a second run finds nothing and writes nothing
    before = dump(s.conn)
    r2 = s.close_stale_days()
    assert r2.events == [] and dump(s.conn) == before
    s.set_counter_state("5", "open")
    assert nxt(s, clock, "5")["id"] == new["id"]


def test_close_stale_days_on_the_same_day_does_nothing(open_store, clock):
    s = open_store
    _busy_day(s, clock)
    before = dump(s.conn)
    assert s.close_stale_days().events == []
    assert dump(s.conn) == before


# ================================================================== supervision
def test_set_service_state_logs(store):
    r = store.set_service_state("cccd", manual="closed", staff_id=2, actor="super")
    assert [e["type"] for e in r.events] == ["service.updated"]
    assert r.events[0]["data"] == {"service": "cccd", "manual": "closed"} and r.events[0]["service_id"] == "cccd"
    r = store.set_service_state("records", cap_override=2)
    assert r.events[0]["data"] == {"service": "records", "manual": None, "cap_override": 2}
    row = store.conn.execute("SELECT manual, cap_override FROM service_state WHERE service_id = 'records'").fetchone()
    assert tuple(row) == ("auto", 2)
    assert store.service_statuses()["records"].cap == 2


def test_set_service_state_unknown(store):
    refused(store, "service_unknown", store.set_service_state, "nope", manual="closed")


def test_assign_services(open_store, clock):
    s = open_store
    civil, land = issue(s, "civil"), issue(s, "land")
    r = s.assign_services("5", ["land"], staff_id=2)
    assert r.counters[0]["services"] == ["land"] and [e["type"] for e in r.events] == ["counter.services"]
    assert nxt(s, clock, "5")["id"] == land["id"]
    s.finish(land["id"], "5")
    refused(s, "nothing_waiting", s.call_next, "5")  # civil is no longer served here
    s.assign_services("5", None)
    assert s.counter("5")["services"] == ["civil"]
    assert nxt(s, clock, "5")["id"] == civil["id"]


@pytest.mark.parametrize("counter, services, error", [
    ("5", ["nope"], "service_unknown"), ("5", ["civil", "nope"], "service_unknown"), ("99", ["civil"], "counter_unknown"),
])
def test_assign_services_refused(store, counter, services, error):
    refused(store, error, store.assign_services, counter, services)


# ================================================================== the event log
OPS_LOG = [
    # (id, the operation on a prepared store, the event types it logs)
    ("issue", lambda s, t: s.issue("cccd"), ["ticket.issued"]),
    ("call next", lambda s, t: s.call_next("2"), ["ticket.called"]),
    ("call code", lambda s, t: s.call_code("2", t["waiting"]["code"]), ["ticket.called"]),
    ("recall", lambda s, t: s.recall(t["called"]["id"], "1"), ["ticket.called"]),
    ("start", lambda s, t: s.start(t["called"]["id"], "1"), ["ticket.started"]),
    ("finish", lambda s, t: s.finish(t["called"]["id"], "1"), ["ticket.finished"]),
    ("no show", lambda s, t: s.no_show(t["called"]["id"], "1"), ["ticket.no_show"]),
    ("park", lambda s, t: s.park(t["called"]["id"], "1"), ["ticket.parked"]),
    ("transfer", lambda s, t: s.transfer(t["called"]["id"], "1", service_id="passport"), ["ticket.transferred"]),
    ("cancel", lambda s, t: s.cancel(t["waiting"]["id"]), ["ticket.cancelled"]),
    ("counter break", lambda s, t: s.set_counter_state("1", "break"), ["ticket.finished", "counter.state"]),
    ("counter open", lambda s, t: s.set_counter_state("4", "open"), ["counter.state"]),
    ("close day", lambda s, t: s.close_day(), ["ticket.unserved"] * 2 + ["counter.state"] * 5 + ["day.closed"]),
    ("service state", lambda s, t: s.set_service_state("cccd", manual="open"), ["service.updated"]),
    ("assign services", lambda s, t: s.assign_services("5", ["land"]), ["counter.services"]),
]


@pytest.mark.parametrize("op, types", [c[1:] for c in OPS_LOG], ids=[c[0] for c in OPS_LOG])
def test_every_operation_logs(store, clock, op, types):
    s = store
    s.set_counter_state("1", "open")
    s.set_counter_state("2", "open")
    prepared = {"called": _make(s, clock, "called"), "waiting": issue(s, "cccd")}
    seq = s.last_seq()
    clock.advance(5)
    r = op(s, prepared)
    assert [e["type"] for e in r.events] == types
    logged = s.events_since(seq)
    assert [(e["seq"], e["type"], e["ticket_id"], e["data"]) for e in logged] == \
           [(e["seq"], e["type"], e["ticket_id"], e["data"]) for e in r.events]
    assert all(e["ts_ms"] == s.now_ms() for e in logged)
    assert [e["seq"] for e in logged] == sorted(e["seq"] for e in logged)


@pytest.mark.parametrize("sql", [
    "UPDATE events SET type = 'ticket.cancelled' WHERE id = 1",
    "UPDATE events SET data = '{}'",
    "DELETE FROM events WHERE id = 1",
    "DELETE FROM events",
    "DELETE FROM tickets WHERE id = 1",
    "DELETE FROM tickets",
])
def test_history_cannot_be_rewritten(store, tmp_path, sql):
    issue(store, "cccd")
    store.cancel(1)
    before = dump(store.conn)
    raw = sqlite3.connect(tmp_path / "qms.sqlite3", isolation_level=None)
    try:
        with pytest.raises(sqlite3.DatabaseError) as e:  # IntegrityError from RAISE(ABORT)
            raw.execute(sql)
        assert isinstance(e.value, sqlite3.IntegrityError)
        assert "append-only" in str(e.value) or "never deleted" in str(e.value)
    finally:
        raw.close()
    assert dump(store.conn) == before


def test_updates_of_tickets_are_allowed_but_logged(open_store, clock):
    """Tickets change status (that is the queue); every change has its event."""
    s = open_store
    t = _make(s, clock, "done")
    assert events_of(s, t["id"]) == ["ticket.issued", "ticket.called", "ticket.finished"]


# ================================================================== positions
def test_waiting_ahead_and_position(open_store, clock):
    s = open_store
    plan = [("n1", False), ("n2", False), ("p1", True), ("n3", False), ("p2", True)]
    made, ahead = {}, {}
    for name, prio in plan:
        r = s.issue("cccd", priority=prio)
        made[name], ahead[name] = r.ticket, r.waiting_ahead
        clock.advance(1)
    assert ahead == {"n1": 0, "n2": 1, "p1": 0, "n3": 3, "p2": 1}
    pos = {k: s.position(s.ticket(t["id"])) for k, t in made.items()}
    assert pos == {"n1": 2, "n2": 3, "p1": 0, "n3": 4, "p2": 1}
    other = issue(s, "passport")  # another service of the same range has its own queue
    assert s.position(other) == 0
    assert nxt(s, clock, "1")["id"] == made["p1"]["id"]
    pos = {k: s.position(s.ticket(t["id"])) for k, t in made.items()}
    assert pos == {"n1": 1, "n2": 2, "p1": None, "n3": 3, "p2": 0}
    s.cancel(made["n2"]["id"])
    assert s.position(s.ticket(made["n3"]["id"])) == 2
    assert s.position(s.ticket(made["n2"]["id"])) is None


def test_position_after_transfer_keeps_the_place(open_store, clock):
    s = open_store
    t = issue(s, "cccd")
    clock.advance(60)
    later = issue(s, "passport")
    nxt(s, clock, "1")
    s.transfer(t["id"], "1", service_id="passport")
    assert s.position(s.ticket(t["id"])) == 0 and s.position(s.ticket(later["id"])) == 1
    nxt(s, clock, "2")
    s.transfer(t["id"], "2", service_id="passport", go_last=True)
    assert s.position(s.ticket(t["id"])) == 1 and s.position(s.ticket(later["id"])) == 0


def test_waiting_counts(open_store, clock):
    s = open_store
    _setup(s, [("issue", "cccd"), ("issue", "cccd"), ("issue", "civil")])
    nxt(s, clock, "1")
    assert s.waiting_counts() == {"cccd": 1, "passport": 0, "civil": 1, "records": 0, "land": 0}


def test_reopening_the_store_keeps_everything(tmp_path, config, clock, open_store):
    s = open_store
    _busy_day(s, clock)
    before = dump(s.conn)
    again = Store(tmp_path / "qms.sqlite3", config, clock=clock)
    try:
        assert again.migrated == []
        assert dump(again.conn) == before
        assert again.issue("cccd").ticket["seq_index"] == 7
    finally:
        again.close()
