"""Report figures against hand-computed expectations, on a small fixed day built through the real store.

The scenario (Wednesday 2026-11-25, local times) is a table of steps; every expected figure below was worked
out by hand from that table (the arithmetic is in the comments). Definitions: docs/reports.md.
Targets: cccd 10 min, passport 20 min, civil 15 min, records 30 min, land 30 min.
"""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import FIXTURES, Clock
from queue_server import reports as R
from queue_server.accounts import Accounts
from queue_server.config import parse_config
from queue_server.core.errors import DomainError
from queue_server.store import Store

ROOT = Path(__file__).parent.parent
DAY = "2026-11-25"

# Who opens which counter (staff ids after seeding: admin 1, super 2, canbo1 3, canbo3 4).
OPENED = {"1": 3, "2": 2, "3": 4}

# (local time, operation, ticket name, arguments)
STEPS = [
    ("09:00", "open", None, {}),
    ("09:00", "issue", "T1", {"service": "cccd"}),
    ("09:00", "issue", "T7", {"service": "civil"}),
    ("09:01", "issue", "T6", {"service": "passport"}),
    ("09:02", "issue", "T2", {"service": "cccd"}),
    ("09:02", "call", "T6", {"counter": "2"}),
    ("09:03", "start", "T6", {"counter": "2"}),
    ("09:03", "issue", "T8", {"service": "civil"}),
    ("09:04", "park", "T6", {"counter": "2"}),
    ("09:04", "issue", "T3", {"service": "cccd", "priority_group": "elderly"}),
    ("09:05", "call", "T1", {"counter": "1"}),
    ("09:05", "issue", "T9", {"service": "records"}),
    ("09:06", "start", "T1", {"counter": "1"}),
    ("09:06", "call", "T3", {"counter": "2"}),
    ("09:07", "start", "T3", {"counter": "2"}),
    ("09:08", "issue", "T4", {"service": "cccd"}),
    ("09:10", "transfer", "T3", {"counter": "2", "service": "passport"}),
    ("09:10", "issue", "T5", {"service": "cccd"}),
    ("09:12", "call", "T3", {"counter": "2"}),
    ("09:16", "finish", "T1", {"counter": "1"}),
    ("09:16", "call", "T2", {"counter": "1"}),
    ("09:18", "no_show", "T2", {"counter": "1"}),
    ("09:20", "finish", "T3", {"counter": "2"}),  # finished without start: serving counts from the call
    ("09:20", "call", "T7", {"counter": "3"}),
    ("09:20:30", "recall", "T7", {"counter": "3"}),
    ("09:21", "start", "T7", {"counter": "3"}),
    ("09:21", "resume", "T6", {"counter": "2"}),
    ("09:22", "start", "T6", {"counter": "2"}),
    ("09:30", "finish", "T6", {"counter": "2"}),
    ("09:30", "cancel", "T4", {}),
    ("09:41", "finish", "T7", {"counter": "3"}),
    ("09:41", "call", "T8", {"counter": "3"}),
    ("09:43", "no_show", "T8", {"counter": "3"}),
    ("09:43", "call", "T9", {"counter": "3"}),
    ("09:44", "start", "T9", {"counter": "3"}),
    ("09:50", "finish", "T9", {"counter": "3"}),
    ("10:30", "issue", "T11", {"service": "land"}),
    ("10:40", "cancel", "T11", {}),
    ("17:30", "close_day", None, {}),  # T5 is still waiting: unserved
]

# Ratings pressed after service: (ticket or None, counter, level, status, flags, local time)
RATINGS = [
    ("T1", "1", 3, "attributed", [], "09:16:20"),
    ("T1", "1", 1, "repeat", [], "09:16:40"),  # a second press for T1: shown apart
    ("T6", "2", 2, "attributed", [], "09:30:10"),
    ("T3", "2", 3, "attributed", [], "09:20:10"),
    ("T7", "3", 1, "attributed", [], "09:41:10"),
    ("T9", "3", 3, "attributed", ["burst"], "09:50:05"),  # flagged: shown apart
    (None, "1", 3, "unattributed", [], "11:00:00"),  # nobody at the counter: shown apart
]

M = 60.0  # seconds in a minute


def scenario_config():
    data = yaml.safe_load((FIXTURES / "centre.yaml").read_text(encoding="utf-8"))
    targets = {"cccd": 10, "passport": 20, "civil": 15, "records": 30, "land": 30}
    for d in data["departments"]:
        for s in d["services"]:
            s["target_wait_minutes"] = targets[s["id"]]
    return parse_config(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "scenario.yaml")


def insert_ratings(store: Store, clock: Clock, tickets: dict) -> None:
    """The ratings rows of the scenario, in the ratings table of migration 0003_ratings (feedback_buttons),
    written as its recorder writes them: the officer and service of the ticket, none for an unattributed press."""
    cfg = store.config
    with store.writer.transaction() as c:
        for i, (name, counter, level, status, flags, at) in enumerate(RATINGS):
            clock.set_local(f"{DAY} {at}")
            t = store.ticket(tickets[name]) if name else None
            c.execute("""INSERT INTO ratings (id, day, ticket_id, counter_id, staff_id, service_id, department_id, level,
                         button, source, pressed_ms, received_ms, status, flags, reason, actor)
                         VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
                      (f"scenario-{i}", store.day_of_ms(store.now_ms()), t["id"] if t else None, counter,
                       OPENED[counter] if t else None, t["service_id"] if t else None,
                       cfg.department_of(t["service_id"]).id if t else None, level, str(level), "keypad",
                       store.now_ms(), store.now_ms(), status, json.dumps(flags), None, "test"))


def run_scenario(store: Store, clock: Clock) -> dict:
    accounts = Accounts(store, store.config)
    accounts.seed_from_config()
    tickets: dict[str, int] = {}
    for at, op, name, args in STEPS:
        clock.set_local(f"{DAY} {at}")
        if op == "open":
            for counter, staff in OPENED.items():
                store.set_counter_state(counter, "open", staff_id=staff, actor="test")
        elif op == "issue":
            r = store.issue(args["service"], priority_group=args.get("priority_group"))
            tickets[name] = r.ticket["id"]
        elif op == "call":
            code = store.ticket(tickets[name])["code"]
            store.call_code(args["counter"], code, staff_id=OPENED[args["counter"]])
        elif op == "transfer":
            store.transfer(tickets[name], args["counter"], service_id=args["service"])
        elif op == "resume":
            store.resume(tickets[name], args["counter"])
        elif op == "cancel":
            store.cancel(tickets[name])
        elif op == "close_day":
            store.close_day(actor="test")
        else:
            getattr(store, op)(tickets[name], args["counter"])
    insert_ratings(store, clock, tickets)
    return tickets


@pytest.fixture
def day_store(tmp_path, clock):
    s = Store(tmp_path / "reports.sqlite3", scenario_config(), clock=clock)
    tickets = run_scenario(s, clock)
    clock.set_local("2026-11-26 08:00")  # the next morning: the scenario's day is finished
    yield s, tickets
    s.close()


def names(store):
    accounts = Accounts(store, store.config)
    return accounts.staff_name


def report(store, group_by, **kw):
    return R.build_report(store, DAY, DAY, group_by, staff_names=names(store), **kw)


def by_key(rep):
    return {r["key"]: r for r in rep["rows"]}


def pick(row, *keys):
    return {k: row[k] for k in keys}


COUNTS = ("tickets", "issued", "transferred_in", "called", "served", "no_show", "transferred", "cancelled",
          "unserved", "abandoned", "active")
WAITS = ("wait_avg_s", "wait_median_s", "wait_p90_s", "within_target")
SERVES = ("serve_avg_s", "serve_median_s", "serve_p90_s")


# ------------------------------------------------------------------ the legs themselves
def test_legs_of_the_scenario(day_store):
    s, t = day_store
    R.ensure_legs(s, DAY, DAY)
    legs = {(r["ticket_id"], r["leg"]): dict(r) for r in s.conn.execute("SELECT * FROM report_legs")}
    assert len(legs) == 11  # ten tickets, T3 has two legs
    t3a, t3b = legs[(t["T3"], 1)], legs[(t["T3"], 2)]
    assert (t3a["service_id"], t3a["outcome"], t3a["wait_ms"], t3a["serve_ms"]) == ("cccd", "transferred", 2 * 60_000, None)
    assert (t3b["service_id"], t3b["started_by"], t3b["wait_ms"], t3b["serve_ms"]) == ("passport", "transferred", 2 * 60_000, 8 * 60_000)
    t6 = legs[(t["T6"], 1)]
    assert (t6["wait_ms"], t6["serve_ms"], t6["outcome"]) == (60_000, 9 * 60_000, "done")  # 1 min + 8 min, park left out
    t7 = legs[(t["T7"], 1)]
    assert (t7["recalls"], t7["wait_ms"], t7["serve_ms"], t7["staff_id"]) == (1, 20 * 60_000, 20 * 60_000, 4)
    t5 = legs[(t["T5"], 1)]
    assert (t5["outcome"], t5["called_ms"], t5["counter_id"]) == ("unserved", None, None)
    assert legs[(t["T11"], 1)]["hour"] == 10 and legs[(t["T1"], 1)]["weekday"] == 2
    day = s.conn.execute("SELECT final, legs FROM report_days WHERE day = ?", (DAY,)).fetchone()
    assert tuple(day) == (1, 11)


# ------------------------------------------------------------------ hand-computed figures per grouping
SERVICE_EXPECTED = {
    # cccd: T1 done, T2 no-show, T3 transferred out, T4 cancelled, T5 unserved.
    # waits T1 5 min, T2 14, T3 2 -> sorted 120 300 840 s: avg 420, median 300, p90 300 + 0.8*540 = 732.
    # within 10 min: T1, T3 = 2; base = 3 called + T4 (left after 22 min) + T5 (never called) = 5 -> 0.4.
    "cccd": {"counts": (5, 5, 0, 3, 1, 1, 1, 1, 1, 3, 0), "waits": (420, 300, 732, 0.4), "serves": (600, 600, 600)},
    # passport: T6 (wait 1, serving 1 + 8 = 9 min), T3's second leg (wait 2, serving 8 from the call).
    # waits 60 120: avg 90, median 90, p90 60 + 0.9*60 = 114; serves 480 540: avg 510, p90 480 + 0.9*60 = 534.
    "passport": {"counts": (2, 1, 1, 2, 2, 0, 0, 0, 0, 0, 0), "waits": (90, 90, 114, 1.0), "serves": (510, 510, 534)},
    # civil: T7 wait 20 (over 15), served 20; T8 wait 38, no-show. p90 1200 + 0.9*1080 = 2172.
    "civil": {"counts": (2, 2, 0, 2, 1, 1, 0, 0, 0, 1, 0), "waits": (1740, 1740, 2172, 0.0), "serves": (1200, 1200, 1200)},
    # records: T9 wait 38 > 30, served 6.
    "records": {"counts": (1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0), "waits": (2280, 2280, 2280, 0.0), "serves": (360, 360, 360)},
    # land: T11 cancelled after 10 min, under its 30-minute target: not in the within-target base.
    "land": {"counts": (1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0), "waits": (None, None, None, None), "serves": (None, None, None)},
}


def check(row, expected):
    assert tuple(row[k] for k in COUNTS) == expected["counts"], row["key"]
    assert tuple(row[k] for k in WAITS) == pytest.approx(expected["waits"]), row["key"]
    assert tuple(row[k] for k in SERVES) == pytest.approx(expected["serves"]), row["key"]


def test_by_service(day_store):
    s, _ = day_store
    rep = report(s, "service")
    rows = by_key(rep)
    assert list(rows) == ["cccd", "passport", "civil", "records", "land", R.NO_GROUP]  # last: the unattributed press
    for key, expected in SERVICE_EXPECTED.items():
        check(rows[key], expected)
    assert rows["cccd"]["label"] == "Cấp đổi căn cước"


def test_total(day_store):
    s, _ = day_store
    total = report(s, "total")["total"]
    # 11 legs; waits 60 120 120 300 840 1200 2280 2280: avg 7200/8 = 900, median (300+840)/2 = 570, p90 2280.
    # within: cccd 2 + passport 2 = 4 of base 5 + 2 + 2 + 1 = 10.
    # serving 360 480 540 600 1200: avg 636, median 540, p90 600 + 0.6*600 = 960.
    check(total, {"counts": (11, 10, 1, 8, 5, 2, 1, 2, 1, 5, 0), "waits": (900, 570, 2280, 0.4), "serves": (636, 540, 960)})
    assert (total["within_target_count"], total["within_target_base"]) == (4, 10)
    rep = report(s, "total")
    assert len(rep["rows"]) == 1 and {**rep["rows"][0], "key": "all"} == rep["total"]
    for g in R.GROUPINGS:  # every grouping adds up to the same whole centre
        assert report(s, g)["total"] == total, g


def test_by_department(day_store):
    s, _ = day_store
    rows = by_key(report(s, "department"))
    assert list(rows) == ["police", "justice", "land", R.NO_GROUP]
    # police = cccd + passport: waits 60 120 120 300 840: avg 288, median 120, p90 300 + 0.6*540 = 624;
    # within 4 of 7; serving 480 540 600: avg 540, median 540, p90 540 + 0.8*60 = 588.
    check(rows["police"], {"counts": (7, 6, 1, 5, 3, 1, 1, 1, 1, 3, 0), "waits": (288, 120, 624, 0.5714),
                           "serves": (540, 540, 588)})
    # justice = civil + records: waits 1200 2280 2280: avg 1920, median 2280, p90 2280; within 0 of 3;
    # serving 360 1200: avg 780, median 780, p90 360 + 0.9*840 = 1116.
    check(rows["justice"], {"counts": (3, 3, 0, 3, 2, 1, 0, 0, 0, 1, 0), "waits": (1920, 2280, 2280, 0.0),
                            "serves": (780, 780, 1116)})
    check(rows["land"], SERVICE_EXPECTED["land"])
    assert rows["police"]["label"] == "Công an tỉnh"


def test_by_counter_and_officer(day_store):
    s, _ = day_store
    rows = by_key(report(s, "counter"))
    assert list(rows) == ["1", "2", "3", R.NOT_CALLED]
    # counter 1: T1 (wait 5, served 10), T2 (wait 14, no-show). p90 300 + 0.9*540 = 786.
    check(rows["1"], {"counts": (2, 2, 0, 2, 1, 1, 0, 0, 0, 1, 0), "waits": (570, 570, 786, 0.5), "serves": (600, 600, 600)})
    # counter 2: T6 (1 min), T3 leg 1 (2, transferred), T3 leg 2 (2): waits 60 120 120: avg 100, median 120, p90 120.
    check(rows["2"], {"counts": (3, 2, 1, 3, 2, 0, 1, 0, 0, 0, 0), "waits": (100, 120, 120, 1.0), "serves": (510, 510, 534)})
    check(rows["3"], {"counts": (3, 3, 0, 3, 2, 1, 0, 0, 0, 1, 0), "waits": (1920, 2280, 2280, 0.0), "serves": (780, 780, 1116)})
    # never called: T4 and T11 cancelled, T5 unserved; base for within target: T4 and T5.
    nc = rows[R.NOT_CALLED]
    assert pick(nc, "tickets", "cancelled", "unserved", "called", "within_target") == \
        {"tickets": 3, "cancelled": 2, "unserved": 1, "called": 0, "within_target": 0.0}
    assert nc["label"] == "(chưa được gọi)" and rows["1"]["label"] == "Quầy 1"
    officers = by_key(report(s, "officer"))
    assert {k: officers[k]["called"] for k in officers} == {3: 2, 2: 3, 4: 3, R.NOT_CALLED: 0, R.NO_GROUP: 0}
    assert officers[3]["label"] == "Nguyễn Văn An" and officers[4]["label"] == "Trần Thị Bình"
    assert officers[4]["wait_avg_s"] == 1920 and officers[2]["served"] == 2


def test_by_hour_and_heatmap(day_store):
    s, _ = day_store
    rep = report(s, "hour")
    rows = by_key(rep)
    assert list(rows) == [9, 10, 11]  # 11: the unattributed press at 11:00 (ratings go by the hour pressed)
    assert pick(rows[9], "tickets", "issued", "transferred_in") == {"tickets": 10, "issued": 9, "transferred_in": 1}
    assert pick(rows[10], "tickets", "issued", "cancelled") == {"tickets": 1, "issued": 1, "cancelled": 1}
    assert rows[9]["label"] == "09:00–10:00"
    heat = rep["heatmap"]
    assert heat["counts"][2][9] == 9 and heat["counts"][2][10] == 1 and sum(map(sum, heat["counts"])) == 10
    assert heat["busiest"][0] == {"weekday": 2, "hour": 9, "issued": 9} and heat["hours"] == [9, 10]
    day = by_key(report(s, "day"))
    assert list(day) == [DAY] and day[DAY]["label"] == "25/11/2026 (Thứ Tư)" and day[DAY]["tickets"] == 11


# ------------------------------------------------------------------ satisfaction
def test_satisfaction(day_store):
    s, _ = day_store
    total = report(s, "total")["total"]
    # counted: T1 3, T6 2, T3 3, T7 1 (levels 3 and 2 are positive) -> 3 of 4 = 0.75; T9's press is flagged,
    # T1's second press is a repeat, the 11:00 press at counter 1 is unattributed: all three shown apart.
    assert total["rating_levels"] == {"3": 2, "2": 1, "1": 1}
    assert pick(total, "ratings_counted", "rated_tickets", "satisfaction_rate", "ratings_repeat", "ratings_flagged",
                "ratings_unattributed") == {"ratings_counted": 4, "rated_tickets": 4, "satisfaction_rate": 0.75,
                                            "ratings_repeat": 1, "ratings_flagged": 1, "ratings_unattributed": 1}
    services = by_key(report(s, "service"))
    assert services["passport"]["rating_levels"] == {"3": 1, "2": 1, "1": 0}  # T3 was served in passport
    assert services["passport"]["satisfaction_rate"] == 1.0
    assert services["civil"]["satisfaction_rate"] == 0.0 and services["records"]["ratings_flagged"] == 1
    assert services["records"]["satisfaction_rate"] is None
    assert services[R.NO_GROUP]["ratings_unattributed"] == 1 and services[R.NO_GROUP]["label"] == "(không xác định)"
    counters = by_key(report(s, "counter"))
    assert pick(counters["1"], "ratings_counted", "ratings_repeat", "ratings_unattributed", "satisfaction_rate") == \
        {"ratings_counted": 1, "ratings_repeat": 1, "ratings_unattributed": 1, "satisfaction_rate": 1.0}
    officers = by_key(report(s, "officer"))
    assert officers[4]["rating_levels"] == {"3": 0, "2": 0, "1": 1} and officers[4]["ratings_flagged"] == 1
    hours = by_key(report(s, "hour"))
    assert hours[11]["ratings_unattributed"] == 1 and hours[11]["tickets"] == 0
    assert hours[9]["ratings_counted"] == 4


def test_reports_without_a_ratings_table(day_store):
    s, _ = day_store
    with s.writer.transaction() as c:
        c.execute("DROP TABLE ratings")
    rep = report(s, "service")
    assert rep["ratings_available"] is False
    assert all(r["ratings_counted"] == 0 and r["satisfaction_rate"] is None for r in rep["rows"])
    check(by_key(rep)["cccd"], SERVICE_EXPECTED["cccd"])


# ------------------------------------------------------------------ ranges, caching, the open day
def test_ranges_and_the_open_day(tmp_path, clock):
    s = Store(tmp_path / "open.sqlite3", scenario_config(), clock=clock)
    try:
        s.set_counter_state("1", "open", staff_id=3)
        a = s.issue("cccd").ticket
        clock.advance(minutes=12)
        rep = R.build_report(s, DAY, DAY, "total")
        # still waiting after 12 min, past its 10-minute target: active, and already out of the target
        assert pick(rep["total"], "tickets", "active", "called", "within_target") == \
            {"tickets": 1, "active": 1, "called": 0, "within_target": 0.0}
        assert s.conn.execute("SELECT final FROM report_days").fetchone()[0] == 0  # today is never final
        s.call_next("1", staff_id=3)
        rep = R.build_report(s, DAY, DAY, "total")  # the open day is derived again
        assert pick(rep["total"], "active", "called", "wait_avg_s") == {"active": 1, "called": 1, "wait_avg_s": 720}
        s.finish(a["id"], "1")
        week = R.build_report(s, *R.period("week", DAY), "day")
        assert week["from"] == "2026-11-23" and week["to"] == "2026-11-29" and [r["key"] for r in week["rows"]] == [DAY]
        empty = R.build_report(s, "2026-10-01", "2026-10-31", "service")
        assert empty["rows"] == [] and empty["total"]["tickets"] == 0 and empty["total"]["wait_avg_s"] is None
    finally:
        s.close()


@pytest.mark.parametrize("kind,on,expected", [
    ("day", "2026-11-25", ("2026-11-25", "2026-11-25")),
    ("week", "2026-11-25", ("2026-11-23", "2026-11-29")),
    ("week", "2026-11-23", ("2026-11-23", "2026-11-29")),
    ("week", "2027-01-01", ("2026-12-28", "2027-01-03")),
    ("month", "2026-02-10", ("2026-02-01", "2026-02-28")),
    ("month", "2028-02-10", ("2028-02-01", "2028-02-29")),
    ("month", "2026-12-31", ("2026-12-01", "2026-12-31")),
])
def test_period(kind, on, expected):
    assert R.period(kind, on) == expected


@pytest.mark.parametrize("values,q,expected", [
    ([], 50, None),
    ([5], 90, 5),
    ([1, 2], 50, 1.5),
    ([120, 300, 840], 50, 300),
    ([120, 300, 840], 90, 732),
    ([60, 120, 120, 300, 840, 1200, 2280, 2280], 50, 570),
    ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9.1),
    ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 100, 10),
    ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0, 1),
])
def test_percentile(values, q, expected):
    got = R.percentile(values, q)
    assert got == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize("args,message", [
    (("2026-11-30", "2026-11-01", "service"), "ends"),
    (("2026-11-01", "30/11/2026", "service"), "YYYY-MM-DD"),
    (("2020-01-01", "2026-01-01", "service"), "three years"),
    (("2026-11-01", "2026-11-30", "zone"), "group by one of"),
])
def test_bad_requests(store, args, message):
    with pytest.raises(R.ReportError, match=message):
        R.build_report(store, *args)


def _ev(type_, minute, **kw):
    return {"type": type_, "ts_ms": minute * 60_000, "counter_id": kw.pop("counter", "1"), "service_id": kw.pop("service", "s"),
            "staff_id": kw.pop("staff", 7), "data": kw}


TICKET = {"id": 1, "day": DAY, "service_id": "s", "priority": 0, "staff_id": 7, "issued_ms": 0}


@pytest.mark.parametrize("events,expected", [
    # issued, called, finished without start: serving from the call
    ([_ev("ticket.issued", 0), _ev("ticket.called", 4), _ev("ticket.finished", 9)],
     [("s", "issued", 4, 5, "done", 0)]),
    # a recall changes neither wait nor serving; started counts from the start
    ([_ev("ticket.issued", 0), _ev("ticket.called", 4), _ev("ticket.called", 5, recall=True),
      _ev("ticket.started", 6), _ev("ticket.finished", 10)],
     [("s", "issued", 4, 4, "done", 1)]),
    # parked without start: call to park counts, resume to finish counts
    ([_ev("ticket.issued", 0), _ev("ticket.called", 2), _ev("ticket.parked", 3), _ev("ticket.resumed", 13),
      _ev("ticket.finished", 15)],
     [("s", "issued", 2, 3, "done", 0)]),
    # transferred twice, then no-show
    ([_ev("ticket.issued", 0), _ev("ticket.called", 1), _ev("ticket.transferred", 3, from_service="s", to_service="t"),
      _ev("ticket.called", 7, service="t"), _ev("ticket.transferred", 8, from_service="t", to_service="u"),
      _ev("ticket.called", 20, service="u"), _ev("ticket.no_show", 22, service="u")],
     [("s", "issued", 1, None, "transferred", 0), ("t", "transferred", 4, None, "transferred", 0),
      ("u", "transferred", 12, None, "no_show", 0)]),
    # waiting, then cancelled; and still waiting
    ([_ev("ticket.issued", 0), _ev("ticket.cancelled", 30)], [("s", "issued", None, None, "cancelled", 0)]),
    ([_ev("ticket.issued", 0)], [("s", "issued", None, None, "waiting", 0)]),
    # at the counter at the end of the day: unserved, no serving time
    ([_ev("ticket.issued", 0), _ev("ticket.called", 5), _ev("ticket.started", 6), _ev("ticket.unserved", 60)],
     [("s", "issued", 5, None, "unserved", 0)]),
])
def test_derive_legs(events, expected):
    from zoneinfo import ZoneInfo

    legs = R.derive_legs(TICKET, events, ZoneInfo("Asia/Ho_Chi_Minh"))
    got = [(leg.service_id, leg.started_by, None if leg.wait_ms is None else leg.wait_ms // 60_000,
            None if leg.serve_ms is None else leg.serve_ms // 60_000, leg.outcome, leg.recalls) for leg in legs]
    assert got == expected


def test_derive_legs_officer_is_the_one_signed_in():
    from zoneinfo import ZoneInfo

    events = [_ev("ticket.issued", 0), _ev("ticket.called", 4, staff=None)]
    legs = R.derive_legs(TICKET, events, ZoneInfo("Asia/Ho_Chi_Minh"), lambda counter, ms: 42 if counter == "1" else None)
    assert legs[0].staff_id == 42
    legs = R.derive_legs(TICKET, events, ZoneInfo("Asia/Ho_Chi_Minh"), lambda counter, ms: None)
    assert legs[0].staff_id == 7  # nobody signed in: the officer on the ticket row


# ------------------------------------------------------------------ end of day (item 2) with the clock
def test_close_day_then_next_day(tmp_path, clock):
    s = Store(tmp_path / "close.sqlite3", scenario_config(), clock=clock)
    try:
        s.set_counter_state("1", "open", staff_id=3)
        first = s.issue("cccd").ticket
        s.issue("cccd")
        s.call_next("1", staff_id=3)
        s.park(first["id"], "1")
        clock.set_local(f"{DAY} 17:30")
        out = s.close_day(actor="schedule")
        assert sorted(e["type"] for e in out.events).count("ticket.unserved") == 2
        assert {t["status"] for t in s.tickets(day=DAY)} == {"unserved"}  # the parked one too
        assert all(c["state"] == "closed" and c["staff_id"] is None for c in s.counters())
        clock.set_local("2026-11-26 07:40")
        assert s.close_stale_days().events == []  # nothing left over
        nxt = s.issue("cccd").ticket
        assert nxt["code"] == "1001" and nxt["day"] == "2026-11-26"  # numbering restarts the next local day
        rep = R.build_report(s, DAY, "2026-11-26", "day")
        assert {r["key"]: (r["unserved"], r["active"]) for r in rep["rows"]} == {DAY: (2, 0), "2026-11-26": (0, 1)}
        meta = json.loads(s.conn.execute("SELECT value FROM meta WHERE key = 'last_close'").fetchone()[0])
        assert meta["day"] == DAY  # what the day keeper looks at: the 26th is not closed yet
    finally:
        s.close()


def test_stale_close_does_not_count_as_todays_close(tmp_path, clock):
    """A server down at closing time: the leftovers are closed at the next start, and that day still closes."""
    s = Store(tmp_path / "stale.sqlite3", scenario_config(), clock=clock)
    try:
        s.issue("cccd")
        clock.set_local("2026-11-26 07:00")
        assert len([e for e in s.close_stale_days().events if e["type"] == "ticket.unserved"]) == 1
        row = s.conn.execute("SELECT value FROM meta WHERE key = 'last_close'").fetchone()
        assert row is None or json.loads(row[0])["day"] != "2026-11-26"
    finally:
        s.close()


# ------------------------------------------------------------------ the CLI: qms report and qms close-day
def qms(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "queue_server.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def test_cli_report_and_close_day(tmp_path):
    cfg = tmp_path / "scenario.yaml"
    data = yaml.safe_load((FIXTURES / "centre.yaml").read_text(encoding="utf-8"))
    data["queue"]["always_open"] = True
    cfg.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    db = tmp_path / "cli.sqlite3"
    from queue_server.config import load_config

    s = Store(db, load_config(cfg))
    today = s.today()
    s.set_counter_state("1", "open", staff_id=None)
    a = s.issue("cccd").ticket
    s.issue("passport")
    s.call_next("1")
    s.finish(a["id"], "1")
    s.close()
    r = qms("close-day", "--config", str(cfg), "--db", str(db))
    assert r.returncode == 0 and "1 tickets marked unserved" in r.stdout, r.stderr
    r = qms("report", "--config", str(cfg), "--db", str(db), "--from", today, "--to", today, "--group-by", "service")
    assert r.returncode == 0, r.stderr
    assert "Cấp đổi căn cước" in r.stdout and "Hộ chiếu" in r.stdout and "Phục vụ" in r.stdout
    out = tmp_path / "r.csv"
    r = qms("report", "--config", str(cfg), "--db", str(db), "--day", today, "--group-by", "service", "--format", "csv",
            "--out", str(out))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    got = {row["Dịch vụ"]: (row["Số phát"], row["Đã phục vụ"], row["Không được phục vụ"]) for row in rows}
    assert got["Cấp đổi căn cước"] == ("1", "1", "0") and got["Hộ chiếu"] == ("1", "0", "1")
    assert got["Toàn trung tâm"] == ("2", "1", "1")
    from queue_server.cli.commands import main as qms_main  # the semicolon variant, in this process

    semi = tmp_path / "r-semi.csv"
    assert qms_main(["report", "--config", str(cfg), "--db", str(db), "--day", today, "--format", "csv-semicolon",
                     "--out", str(semi)]) == 0
    rows = list(csv.DictReader(semi.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    assert {row["Dịch vụ"]: row["Số phát"] for row in rows}["Toàn trung tâm"] == "2"
    r = qms("report", "--config", str(cfg), "--db", str(db), "--from", "2026-13-01", "--to", today)
    assert r.returncode == 2 and "YYYY-MM-DD" in r.stderr
    r = qms("report", "--config", str(cfg), "--db", str(db), "--day", today, "--format", "xlsx")
    assert r.returncode == 2 and "--out" in r.stderr


@pytest.mark.parametrize("lists", [
    [[120, 300, 840]],
    [[60, 120], [120, 300, 840], [1200, 2280, 2280]],
    [[5], [], [1, 2, 3, 4, 6, 7, 8, 9, 10]],
    [[0, 0, 0], [0]],
    [sorted((i * 7919) % 1000 for i in range(k, k + 37)) for k in range(0, 300, 37)],
])
def test_percentile_of_sorted_lists_equals_merged(lists):
    from queue_server.core.report_math import percentile_of_sorted, summary_of_sorted

    merged = sorted(x for part in lists for x in part)
    for q in (0, 10, 50, 90, 100):
        assert percentile_of_sorted(lists, q) == pytest.approx(R.percentile(merged, q))
    assert summary_of_sorted(lists) == R.summary(merged)
