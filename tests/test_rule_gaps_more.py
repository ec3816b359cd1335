"""More gaps found by the mutation run (tests/mutants.py): each test fails with its planted bug.

- a rating press before a ticket was called is not that ticket's;
- the ratings-at-finish flag at exactly its share;
- a parked ticket still holds its number when a range wraps;
- a ticket sent to a counter yesterday and never swept is not called today.
"""
from __future__ import annotations

import pytest

from queue_server.core import rating as R
from queue_server.core.errors import DomainError
from queue_server.store import Store
from storecheck import check_invariants, config_variant, dump

W = R.Thresholds(window_ms=60_000)


@pytest.mark.parametrize("status", ["called", "serving"])
def test_a_press_before_the_call_is_not_for_the_ticket_called_after(status):
    late = R.Candidate(2, status, called_ms=100_500, started_ms=100_600 if status == "serving" else None)
    assert R.attribute(100_000, [late], W) == R.Decision(R.UNATTRIBUTED)
    assert R.attribute_to(2, 100_000, [late], W) is None


def _rating(tid, near):
    return {"ticket_id": tid, "counter_id": "3", "status": R.ATTRIBUTED, "level": 3,
            "flags": ["near_finish"] if near else [], "source": "keypad:kp3", "staff_id": 7, "service_id": "civil"}


@pytest.mark.parametrize("near, flagged", [(4, True), (3, False)])
def test_ratings_at_finish_flag_at_exactly_its_share(near, flagged):
    ratings = [_rating(i, i <= near) for i in range(1, 6)]  # 4 of 5 = 0.8, the share itself
    s = R.summarize(ratings, positive_levels={3}, finished={"3": 5}, keypads=[],
                    rules=R.FlagRules(min_ratings=5, near_finish_share=0.8))
    assert (s["counters"][0]["flags"] == ["ratings_at_finish"]) is flagged
    assert any(f["flag"] == "ratings_at_finish" for f in s["flags"]) is flagged


@pytest.fixture
def make_store(tmp_path, clock):
    made = []

    def make(**overrides) -> Store:
        s = Store(tmp_path / f"more{len(made)}.sqlite3", config_variant(**overrides), clock=clock)
        made.append(s)
        return s

    yield make
    for s in made:
        check_invariants(s.conn, s.config)
        s.close()


def refused(store, code, fn, *args, **kw):
    before = dump(store.conn)
    with pytest.raises(DomainError) as e:
        fn(*args, **kw)
    assert e.value.code == code
    assert dump(store.conn) == before


def test_a_parked_ticket_keeps_its_number_when_the_range_wraps(make_store, clock):
    s = make_store(queue={"on_range_exhausted": "wrap"})
    s.set_counter_state("4", "open")
    a, b, c = (s.issue("land").ticket for _ in range(3))
    clock.advance(10)
    s.call_next("4")
    s.park(a["id"], "4")  # 2001 goes to fetch a paper
    clock.advance(10)
    s.call_next("4")
    s.finish(b["id"], "4")
    refused(s, "range_exhausted", s.issue, "land")  # 2001 is parked: still the citizen's number
    s.resume(a["id"], "4")
    s.finish(a["id"], "4")
    assert s.issue("land").ticket["code"] == "2001"


def test_a_ticket_sent_to_a_counter_yesterday_is_not_called_today(make_store, clock):
    """The server ran past midnight and the day keeper has not swept yet: yesterday's leftovers stay put."""
    s = make_store(queue={"always_open": True})
    for c in ("1", "2"):
        s.set_counter_state(c, "open")
    t = s.issue("cccd").ticket
    s.call_next("1")
    s.transfer(t["id"], "1", to_counter="2")
    clock.set_local("2026-11-26 00:00:10")
    refused(s, "nothing_waiting", s.call_next, "2")
    today = s.issue("cccd").ticket
    assert s.call_next("2").ticket["id"] == today["id"]
    assert s.ticket(t["id"])["status"] == "waiting"
