"""The rest of today, simulated from the queue as it stands (queue_server/simulate/forecast.py): when a queue
empties, waits past target, and what one more counter would change."""
from __future__ import annotations

import time

from queue_server.core.rules import Status, Ticket
from queue_server.simulate import forecast as F
from queue_server.simulate import params as P

NOW = 14 * 60  # 14:00


def one_service(volume=0.0):
    svc = P.ServiceParams(id="a", department="d", daily_volume=volume, median_minutes=5, sigma=0.01, no_show=0,
                          transfer=0, priority=0, windows=((13 * 60 + 15, 16 * 60 + 30),), target_minutes=30)
    plan = P.CounterPlan("1", 1, "d", ("a",), open=((13 * 60 + 15, 16 * 60 + 30),))
    return P.Params(services={"a": svc}, counters=(plan,), hourly=(1.0,) * 24, weekdays=(1.0,) * 7,
                    patience_minutes=1e9, day_end=17 * 60)


def waiting(n, base_ms=0):
    return [Ticket(id=i + 1, day="d", service_id="a", seq_key="a", seq_index=i, number=i, code=str(i),
                   issued_ms=base_ms + (NOW - 30 + i) * 60_000, queued_ms=base_ms + (NOW - 30 + i) * 60_000)
            for i in range(n)]


def test_twenty_tickets_at_one_counter_empty_after_a_hundred_minutes_and_a_second_counter_halves_it():
    current = Ticket(id=99, day="d", service_id="a", seq_key="a", seq_index=99, number=99, code="99",
                     status=Status.SERVING, counter_id="1", called_ms=(NOW - 2) * 60_000)
    got = F.forecast(one_service(), NOW, 0, waiting(20), {"1": current}, runs=3)
    (a,) = got
    # the current ticket's last 3 minutes, then 20 × 5 min: the last call at about 14:00 + 3 + 19 × 5 = 15:38
    assert abs(a.empties_at - (NOW + 3 + 19 * 5)) < 2 and a.unserved == 0
    assert a.over_target and a.p90_wait > 60  # they have waited since 13:30
    assert a.plus_one_from == NOW + 30  # 14:30, the quarter hour after now + 15 min
    # from 14:30 two counters share the rest: 6 served by then, 14 left, 7 each
    assert abs(a.plus_one_empties_at - (NOW + 30 + 6 * 5)) < 6
    text = F.sentences(a, "Đất đai", 30)
    assert text["vi"][0] == f"Hàng đợi Đất đai dự kiến hết lúc {F.hhmm(a.empties_at)}"
    assert text["vi"][2] == f"+1 quầy từ 14:30: hết lúc {F.hhmm(a.plus_one_empties_at)}"


def test_a_queue_that_cannot_empty_today_says_so():
    got = F.forecast(one_service(), 16 * 60, 0, waiting(40), {"1": None}, runs=2, plus_one=False)
    assert got[0].empties_at is None and got[0].unserved > 20
    assert "không hết trong hôm nay" in F.sentences(got[0], "Đất đai", 30)["vi"][0]


def test_forecast_from_the_store_is_cheap(open_store, clock, config):
    clock.set_local("2026-11-25 14:00")
    for _ in range(12):
        open_store.issue("cccd")
    t0 = time.perf_counter()
    got = F.forecast_from_store(open_store, P.from_config(config, 150), runs=3)
    took = time.perf_counter() - t0
    cccd = next(f for f in got if f["service"] == "cccd")
    assert cccd["empties_at"] is not None and "14:00" < cccd["empties_at"] <= "17:00"
    assert cccd["text"]["vi"][0].startswith("Hàng đợi Cấp đổi căn cước dự kiến hết lúc ")
    assert cccd["as_of"] == "14:00"
    assert took < 3, f"the forecast took {took:.2f} s"
