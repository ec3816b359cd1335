"""The forecast of today on the supervisor's side (web/forecasting.py): made by the background refresh from the
queue as it stands, pushed to the supervisors' room only, served by GET /api/v1/forecast and in the dashboard
state, never computed by a request; the simulation yields to the event loop as it goes."""
from __future__ import annotations

from pathlib import Path

import pytest

from inproc import InProcessServer
from queue_server.web import forecasting

FIXTURES = Path(__file__).parent / "fixtures"
KIOSK = {"Authorization": "Bearer test-kiosk-token-1"}


@pytest.fixture
def afternoon(tmp_path, clock):
    """The test centre (its real hours, Hà Nội time) on Wednesday at 14:00: 16 tickets for identity cards and
    2 for passports with only counter 1 open (counter 2, which also serves them, closed), 1 for civil status
    with counter 5 open."""
    clock.set_local("2026-11-25 14:00")
    srv = InProcessServer(FIXTURES / "centre.yaml", tmp_path / "qms.sqlite3", clock)
    try:
        sup = srv.login("super", "test-super")
        assert srv.post("/api/v1/tickets", {"service": "civil"}, KIOSK).status_code == 201
        for service in ["cccd"] * 16 + ["passport"] * 2:
            srv.ctx.store.issue(service)  # as the kiosk would, without printing 18 slips
        for counter in ("1", "5"):
            assert srv.post(f"/api/v1/counters/{counter}/open", None, sup).status_code == 200
        yield srv, sup
    finally:
        srv.close()


def test_the_forecast_is_made_in_the_background_pushed_to_supervisors_and_served(afternoon):
    srv, sup = afternoon
    token = sup["Authorization"].split()[1]
    staff = srv.login("canbo1", "test-staff")
    # before the first refresh: nothing is computed on the request path, the answer says it is coming
    r = srv.get("/api/v1/forecast", sup)
    assert r.status_code == 200 and r.json()["state"] == "pending" and r.json()["services"] == []
    assert srv.get("/api/v1/supervisor/state", sup).json()["forecast"]["state"] == "pending"
    assert srv.get("/api/v1/forecast", staff).status_code == 403
    assert srv.get("/api/v1/forecast").status_code == 401

    watcher = srv.socket({"room": "supervisors", "token": token})
    counter = srv.socket({"room": "counter:1", "token": staff["Authorization"].split()[1]})
    try:
        made = forecasting.of(srv.ctx).refresh()
        (pushed,) = watcher.of("forecast.updated")
        assert counter.of("hello") and counter.of("forecast.updated") == []  # staff rooms are not told
    finally:
        watcher.close()
        counter.close()
    assert pushed["forecast"] == made and pushed["as_of"] == srv.ctx.store.last_seq()
    assert srv.get("/api/v1/forecast", sup).json() == made
    assert srv.get("/api/v1/supervisor/state", sup).json()["forecast"] == made

    assert made["state"] == "ready" and made["at"] == "14:00" and made["refresh_seconds"] == 60
    by_id = {s["service"]: s for s in made["services"]}
    assert {"cccd", "passport", "civil"} <= set(by_id)
    cccd, civil = by_id["cccd"], by_id["civil"]
    # 16 identity cards at one counter (10 min each) cannot all be called in time: worst first, past target,
    # and what a second counter from the quarter hour after 14:15 would change
    assert made["services"][0]["service"] == "cccd"
    assert cccd["over_target"] and cccd["p90_wait"] > 30
    assert cccd["plus_one_from"] == "14:30"
    vi, en = cccd["text"]["vi"], cccd["text"]["en"]
    assert vi[0].startswith("Hàng đợi Cấp đổi căn cước dự kiến")
    assert "Cấp đổi căn cước: thời gian chờ sẽ vượt mục tiêu" in vi[1]
    assert vi[2].startswith("+1 quầy từ 14:30: hết lúc ")
    assert en[0].startswith("The Identity card queue") and en[2].startswith("+1 counter from 14:30: empties at ")
    if cccd["empties_at"] is not None and cccd["plus_one_empties_at"] is not None:
        assert cccd["plus_one_empties_at"] < cccd["empties_at"]
    # one civil status ticket today and a counter open for it: the few later arrivals are called as they come
    assert civil["empties_at"] is not None and "14:00" <= civil["empties_at"] <= "16:45"
    assert civil["p90_wait"] < 30 and civil["unserved"] == 0
    assert civil["text"]["vi"][0] == f"Hàng đợi Hộ tịch dự kiến hết lúc {civil['empties_at']}"
    assert not civil["over_target"] and civil["plus_one_from"] is None

    # Counter 2 serves identity cards too but is closed at 14:00: the forecast kept it closed for the rest of
    # its span (opening it at once would halve the queue the "+1" line speaks of). Opened, it changes the answer.
    alone = cccd
    assert srv.post("/api/v1/counters/2/open", None, sup).status_code == 200
    both = {s["service"]: s for s in forecasting.of(srv.ctx).refresh()["services"]}["cccd"]
    assert alone["unserved"] > both["unserved"] + 3 and alone["p90_wait"] > both["p90_wait"] + 10, (alone, both)


def test_the_simulation_hands_the_event_loop_back_as_it_goes_and_that_changes_nothing(afternoon, monkeypatch):
    """The background refresh runs on the server's event loop: every simulated minute of every run it may
    yield (here on every chance, PAUSE_EVERY_S = 0), and the answer is the one made without yielding."""
    from queue_server.simulate import forecast as F

    srv, _ = afternoon
    f = forecasting.of(srv.ctx)
    queue = F.read_now(srv.ctx.store)
    quiet = F.answer(f.params(), queue, runs=3)
    monkeypatch.setattr(F, "PAUSE_EVERY_S", 0.0)
    pauses = []
    assert F.answer(f.params(), queue, runs=3, pause=lambda: pauses.append(1)) == quiet
    # 3 runs from 14:00 to the day's end at 17:00, and 3 more for each "+1" question: a pause a simulated minute
    plus_one = sum(s["plus_one_from"] is not None for s in quiet)
    assert len(pauses) >= 3 * (1 + plus_one) * 170
    # asked often but allowed once per PAUSE_EVERY_S of wall time, it yields far less
    monkeypatch.setattr(F, "PAUSE_EVERY_S", 3600.0)
    rare = []
    assert F.answer(f.params(), queue, runs=3, pause=lambda: rare.append(1)) == quiet and rare == []


def test_the_rest_of_the_day_is_forecast_from_todays_own_arrivals():
    """A service issued 30 tickets by noon on a day whose arrivals are spread evenly over 08:00-16:00: half its
    day has passed, so about 60 make its day (the parameters' 500 weighing a tenth of a day)."""
    from queue_server.simulate import forecast as F
    from queue_server.simulate import params as P

    svc = P.ServiceParams(id="a", department="d", daily_volume=500, median_minutes=5, windows=((8 * 60, 16 * 60),))
    p = P.Params(services={"a": svc}, counters=(), hourly=(1.0,) * 24, weekdays=(2.0,) + (1.0,) * 6)
    assert F.share_before(p, svc, 12 * 60) == 0.5 and F.share_before(p, svc, 7 * 60) == 0
    assert F.share_before(p, svc, 17 * 60) == 1
    day = F.todays_demand(p, {"a": 30}, 12 * 60, weekday=2).services["a"].daily_volume
    assert day == pytest.approx((30 + 0.1 * 500) / 0.6)
    monday = F.todays_demand(p, {}, 7 * 60, weekday=0)  # before any arrival: the parameters, Monday's included
    assert monday.services["a"].daily_volume == pytest.approx(1000) and monday.weekdays == (1.0,) * 7


def test_a_forecast_is_due_every_minute_only_while_someone_looks(afternoon):
    srv, sup = afternoon
    f = forecasting.of(srv.ctx)
    t = [1000.0]
    f.timer = lambda: t[0]
    assert not f.due()  # nobody looks: no CPU spent
    assert srv.get("/api/v1/forecast", sup).json()["state"] == "pending"
    assert f.due()  # asked for: the background task makes one at its next look
    f.refresh()
    t[0] += 59
    assert not f.due()
    t[0] += 1
    assert f.due()  # a minute after the last
    t[0] += forecasting.WANTED_FOR_SECONDS
    assert not f.due()  # nobody asked for three minutes
    watcher = srv.socket({"room": "supervisors", "token": sup["Authorization"].split()[1]})
    try:
        assert f.due()  # a supervisor's page is connected
    finally:
        watcher.close()
    assert not f.due()


def test_after_hours_on_a_day_off_and_before_opening(store, clock):
    """Past the day's end nothing is forecast (it used to fail every minute); a weekend or holiday expects no
    arrivals but today's own; the "+1" counter is not offered before the centre opens."""
    from queue_server.core.rules import Ticket
    from queue_server.simulate import forecast as F
    from queue_server.simulate import params as P

    svc = P.ServiceParams(id="a", department="d", daily_volume=40, median_minutes=5, sigma=0.01, no_show=0,
                          transfer=0, priority=0, windows=((13 * 60 + 15, 16 * 60 + 30),), target_minutes=30)
    p = P.Params(services={"a": svc}, counters=(P.CounterPlan("1", 1, "d", ("a",), open=((13 * 60 + 15, 16 * 60 + 30),)),),
                 hourly=(1.0,) * 24, weekdays=(1.0,) * 7, patience_minutes=1e9, day_end=17 * 60)
    line = [Ticket(id=i + 1, day="d", service_id="a", seq_key="a", seq_index=i, number=i, code=str(i))
            for i in range(30)]
    assert F.forecast(p, 17 * 60, 0, line, {}, runs=2) == []
    assert F.forecast(p, 18 * 60, 0, line, {"1": None}, runs=2) == []
    (early,) = F.forecast(p, 6 * 60, 0, line, {}, runs=2)
    assert early.plus_one_from == 13 * 60 + 15
    assert F.todays_demand(p, {"a": 3}, 14 * 60, 6, working_day=False).services["a"].daily_volume == \
        pytest.approx(3 / (F.share_before(p, svc, 14 * 60) + F.PRIOR_WEIGHT))

    for at, working in (("2026-11-25 10:00", True), ("2026-11-29 10:00", False), ("2026-12-31 10:00", False)):
        clock.set_local(at)
        assert F.read_now(store).working_day is working, at
