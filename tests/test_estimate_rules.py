"""The wait estimate's rules (core/estimate.py), as tables: the calling order replayed with the queue's own
rule, the service time with its prior, the range and the honest states."""
from __future__ import annotations

import math

import pytest

from queue_server.core import estimate as E
from queue_server.core.rules import Counter, CounterState, Ticket

MIN = 60_000
NOW = 1_000 * MIN


def tk(i, service, *, at=0, priority=False, to=None, called=None):
    return Ticket(id=i, day="d", service_id=service, seq_key="k", seq_index=i, number=i, code=f"{service}{i}",
                  priority=priority, issued_ms=NOW - 100 * MIN + at * MIN, queued_ms=NOW - 100 * MIN + at * MIN,
                  target_counter_id=to, called_ms=called)


def ctr(cid, services, policy="fifo", state="open", weights=(), streak=0):
    return Counter(id=cid, number=int(cid), services=tuple(services), policy=policy, weights=weights,
                   state=CounterState(state), priority_streak=streak)


def places(waiting, counters, minutes, markers=(), busy=None, max_prio=3):
    return E.replay(waiting, counters, busy or {}, minutes, NOW, max_prio, markers=markers)


# ---------------------------------------------------------------- who is called first
@pytest.mark.parametrize("name, waiting, counters, minutes, who, ahead, wait_min", [
    ("fifo, one counter", [tk(1, "a", at=0), tk(2, "a", at=1), tk(3, "a", at=2)], [ctr("1", ["a"])],
     {"a": 10}, 3, 2, 20),
    ("two counters share the line", [tk(1, "a", at=0), tk(2, "a", at=1), tk(3, "a", at=2)],
     [ctr("1", ["a"]), ctr("2", ["a"])], {"a": 10}, 3, 2, 10),
    ("order policy: TKQ first, though the other came first",
     [tk(1, "b", at=0), tk(2, "tkq", at=1), tk(3, "tkq", at=2), tk(4, "tkq", at=3)],
     [ctr("1", ["tkq", "b"], policy="order")], {"tkq": 5, "b": 5}, 1, 3, 15),
    ("fifo at the same counter: it is next", [tk(1, "b", at=0), tk(2, "tkq", at=1)],
     [ctr("1", ["tkq", "b"])], {"tkq": 5, "b": 5}, 1, 0, 0),
    ("priority goes first", [tk(1, "a", at=0), tk(2, "a", at=5, priority=True)], [ctr("1", ["a"])],
     {"a": 10}, 1, 1, 10),
    ("priority streak: a normal ticket after max_consecutive priority calls",
     [tk(1, "a", at=0), tk(2, "a", at=1, priority=True), tk(3, "a", at=2, priority=True)],
     [ctr("1", ["a"], streak=1)], {"a": 10}, 1, 0, 0),
    ("sent to this counter by name: before the line", [tk(1, "a", at=0), tk(2, "a", at=9, to="1")],
     [ctr("1", ["a"])], {"a": 10}, 1, 1, 10),
    ("sent to another counter: not in this line", [tk(1, "a", at=5), tk(2, "a", at=0, to="2")],
     [ctr("1", ["a"]), ctr("2", ["a"], state="closed")], {"a": 10}, 1, 0, 0),
    ("weighted: a heavy service's old ticket first",
     [tk(1, "civil", at=10), tk(2, "records", at=0)], [ctr("3", ["civil", "records"], policy="weighted",
                                                            weights=(("records", 3.0),))],
     {"civil": 10, "records": 10}, 1, 1, 10),
    ("another counter calls the other service away", [tk(1, "b", at=0), tk(2, "tkq", at=1), tk(3, "tkq", at=2)],
     [ctr("1", ["tkq", "b"], policy="order"), ctr("2", ["tkq"])], {"tkq": 10, "b": 10}, 1, 1, 10),
    ("a closed counter calls no one", [tk(1, "a", at=0), tk(2, "a", at=1)],
     [ctr("1", ["a"]), ctr("2", ["a"], state="closed")], {"a": 10}, 2, 1, 10),
    ("a counter on a break comes back", [tk(1, "a", at=0)], [ctr("1", ["a"], state="break")],
     {"a": 10}, 1, 0, E.BREAK_RETURN_MINUTES),
])
def test_replay_follows_the_calling_order(name, waiting, counters, minutes, who, ahead, wait_min, max_prio=1):
    got = places(waiting, counters, minutes, max_prio=1)[who]
    assert (got.ahead, got.wait_ms) == (ahead, wait_min * MIN), name


def test_a_busy_counter_starts_when_its_ticket_is_likely_done():
    current = tk(9, "a", called=NOW - 4 * MIN)
    t = E.ServiceTime(10, 0, 5)
    busy = {"1": E.busy_until(current, t, NOW)}
    assert busy["1"] == NOW + 6 * MIN
    assert places([tk(1, "a")], [ctr("1", ["a"])], {"a": 10}, busy=busy)[1].wait_ms == 6 * MIN
    late = tk(9, "a", called=NOW - 30 * MIN)  # already longer than usual: a fifth of the time more
    assert E.busy_until(late, t, NOW) == NOW + 2 * MIN


def test_a_marker_is_one_ticket_more_and_delays_nobody():
    waiting = [tk(1, "a", at=0), tk(2, "b", at=1)]
    counters = [ctr("1", ["a", "b"])]
    marks = [E.marker("a", NOW, 0), E.marker("b", NOW, 1)]
    got = places(waiting, counters, {"a": 10, "b": 4}, markers=marks)
    assert got[2].wait_ms == 10 * MIN, "the marker of a took no time"
    # one counter in arrival order: both real tickets come before either marker, and a marker adds nothing
    assert (got[marks[0].id].ahead, got[marks[0].id].wait_ms) == (2, 14 * MIN)
    assert (got[marks[1].id].ahead, got[marks[1].id].wait_ms) == (2, 14 * MIN)


# ---------------------------------------------------------------- time per ticket
@pytest.mark.parametrize("recent_min, configured, median, served", [
    ([], 10, 10, 0),
    ([5, 5, 5, 5, 5], 10, math.sqrt(50), 5),  # five tickets weigh as much as the configured figure
    ([5] * 15, 10, 5 * 2 ** 0.25, 15),
    ([5, 5, 5, 5, 5, 5, 5, 5, 5, 600], 10, None, 10),  # one ticket left open all morning moves nothing much
])
def test_service_time_draws_towards_the_configured_figure(recent_min, configured, median, served):
    st = E.service_time([m * MIN for m in recent_min], configured)
    assert st.served == served
    if median is not None:
        assert st.median == pytest.approx(median, rel=1e-6)
    else:
        assert 5 < st.median < 7 and st.sigma < 0.3


def test_the_mean_of_a_row_is_above_the_median():
    assert E.ServiceTime(10, 0.5, 0).mean == pytest.approx(10 * math.exp(0.125))


# ---------------------------------------------------------------- the answer and its honest states
@pytest.mark.parametrize("place, kw, state, ahead, opens_at", [
    (None, dict(open_serving=0, on_break=0), "no_counter", None, None),
    (None, dict(open_serving=0, on_break=0, opens_at="13:15"), "no_counter", None, "13:15"),
    (None, dict(open_serving=0, on_break=0, opens_at="2026-11-26 07:30", day_over=True), "closed_today", None,
     "2026-11-26 07:30"),
    (E.Place(0, 0, 0, "1"), dict(open_serving=1, on_break=0), "next", 0, None),
    (E.Place(20 * MIN, 4, 2, "1"), dict(open_serving=2, on_break=0), "estimate", 4, None),
    (E.Place(20 * MIN, 1, 1, "1"), dict(open_serving=0, on_break=1), "estimate", 1, None),
])
def test_judge_states(place, kw, state, ahead, opens_at):
    e = E.judge(place, sigma=0.4, **kw)
    assert (e.state, e.ahead, e.opens_at) == (state, ahead, opens_at)
    if state in ("estimate", "next"):
        assert e.low <= e.minutes <= e.high


def test_the_range_widens_with_the_spread_and_narrows_with_more_tickets():
    one = E.judge(E.Place(40 * MIN, 4, 1, "1"), open_serving=1, on_break=0, sigma=0.6)
    many = E.judge(E.Place(40 * MIN, 4, 8, "1"), open_serving=1, on_break=0, sigma=0.6)
    assert one.high - one.low > many.high - many.low >= 5
    assert many.low % 5 == 0 and many.high % 5 == 0


@pytest.mark.parametrize("median, sigma, shown", [(20, 0.3, (10, 30)), (4, 0.3, (2, 6)), (0, 0.3, (0, 1)),
                                                   (15, 0.01, (10, 20)), (10, 0.6, (4, 25))])
def test_wait_range(median, sigma, shown):
    assert E.wait_range(median, sigma) == shown


@pytest.mark.parametrize("e, lang, text", [
    (E.Estimate("estimate", 3, 20, 15, 25), "vi", "Thời gian chờ dự kiến: khoảng 15–25 phút"),
    (E.Estimate("estimate", 3, 20, 15, 25), "en", "Estimated wait: about 15–25 min"),
    (E.Estimate("next", 0, 0, 0, 1), "vi", "Số tiếp theo được gọi là của công dân"),
    (E.Estimate("next", 0, 4, 2, 6), "en", "You are next (about 6 min)"),
    (E.Estimate("no_counter"), "vi", "Chưa có quầy nào mở cho dịch vụ này"),
    (E.Estimate("no_counter", opens_at="13:15"), "vi", "Chưa có quầy nào mở cho dịch vụ này — dự kiến mở lúc 13:15"),
    (E.Estimate("closed_today"), "vi", "Đã hết giờ phục vụ hôm nay"),
    (E.Estimate("estimate", 1, 20, 15, 25, on_break=1), "vi",
     "Thời gian chờ dự kiến: khoảng 15–25 phút (quầy đang nghỉ giải lao)"),
    (E.Estimate("not_waiting"), "vi", ""),
])
def test_wait_text(e, lang, text):
    assert E.wait_text(e, lang) == text


@pytest.mark.parametrize("e, vi, en", [
    (E.Estimate("estimate", 3, 20, 15, 25), "Chờ khoảng 15–25 phút", "About 15–25 min wait"),
    (E.Estimate("next", 0, 0, 0, 1), "Gần như không phải chờ", "Almost no wait"),
    (E.Estimate("next", 0, 5, 3, 8), "Chờ khoảng 3–8 phút", "About 3–8 min wait"),
    (E.Estimate("no_counter", opens_at="13:15"), "Quầy mở lúc 13:15", "Counter opens at 13:15"),
    (E.Estimate("no_counter"), "Chưa có quầy nào mở", "No counter open now"),
    (E.Estimate("not_waiting"), "", ""),
])
def test_wait_short(e, vi, en):
    assert (E.wait_short(e, "vi"), E.wait_short(e, "en")) == (vi, en)
