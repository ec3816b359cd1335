"""The day simulator (queue_server/simulate/): queueing theory where it has an answer, the same days for the
same seed, the core's rules in charge, what-ifs and their errors, the estimate measured against its baselines,
and the report's files."""
from __future__ import annotations

import math
from dataclasses import replace

import pytest

from queue_server.config import load_config
from queue_server.simulate import params as P
from queue_server.simulate import run
from tests.conftest import FIXTURES

ALL_DAY = ((0, 1440),)


def erlang_c_wait(lam: float, mean_service: float, c: int) -> float:
    """Mean wait in queue of an M/M/c queue (Erlang C)."""
    a = lam * mean_service
    rho = a / c
    tail = a ** c / math.factorial(c) / (1 - rho)
    p_wait = tail / (sum(a ** k / math.factorial(k) for k in range(c)) + tail)
    return p_wait / (c / mean_service - lam)


def one_queue(lam_per_min: float, mean: float, counters: int, *, exponential=True, sigma=0.5, policy="fifo") -> P.Params:
    svc = P.ServiceParams(id="a", department="d", daily_volume=lam_per_min * 1440, median_minutes=mean, sigma=sigma,
                          no_show=0, transfer=0, priority=0, windows=ALL_DAY, configured_minutes=mean,
                          exponential=exponential)
    plans = tuple(P.CounterPlan(str(i + 1), i + 1, "d", ("a",), policy, (), ALL_DAY) for i in range(counters))
    return P.Params(services={"a": svc}, counters=plans, hourly=(1.0,) * 24, weekdays=(1.0,) * 7,
                    patience_minutes=1e9, day_end=1440)


def mean_wait(days) -> float:
    waits = [w for d in days for w in d.waits["a"]]
    return sum(waits) / len(waits)


def test_an_mmc_queue_waits_what_erlang_c_says():
    """M/M/2 at 72 % load: the mean wait in queue is 1.72 min for a 1.6 min mean service (five days of 1,300
    citizens; five seeds tried came within 9 %)."""
    p = one_queue(0.9, 1.6, 2)
    days = run.simulate(p, P.Options(days=5, seed=1, estimate_every=10 ** 9))
    expected = erlang_c_wait(0.9, 1.6, 2)
    assert expected == pytest.approx(1.722, abs=0.001)
    assert mean_wait(days) == pytest.approx(expected, rel=0.12)


def test_an_mg1_queue_waits_what_pollaczek_khinchine_says():
    """M/G/1 with lognormal service times: Wq = λ E[S²] / (2 (1 − ρ))."""
    median, sigma, lam = 0.6, 0.6, 1.0
    p = one_queue(lam, median, 1, exponential=False, sigma=sigma)
    mean_s, second = median * math.exp(sigma ** 2 / 2), median ** 2 * math.exp(2 * sigma ** 2)
    expected = lam * second / (2 * (1 - lam * mean_s))
    days = run.simulate(p, P.Options(days=5, seed=1, estimate_every=10 ** 9))
    assert mean_wait(days) == pytest.approx(expected, rel=0.12)


def demo(tickets_per_day=900.0):
    return P.from_config(load_config(FIXTURES.parent.parent / "config.yaml"), tickets_per_day)


def test_the_same_seed_gives_the_same_days_and_another_seed_others():
    p = demo(400)
    a = run.simulate(p, P.Options(days=1, seed=7))
    b = run.simulate(p, P.Options(days=1, seed=7))
    c = run.simulate(p, P.Options(days=1, seed=8))
    key = lambda days: [(d.issued, d.waits, d.busy, [(x.service, x.minutes, x.actual) for x in d.predictions]) for d in days]
    assert key(a) == key(b)
    assert key(a) != key(c)


def test_the_counters_call_by_the_cores_policy():
    """One counter with policy order (a before b) at 83 % load: a non-preemptive priority queue, where b's mean
    wait is a's divided by 1 − ρ (about 6 times); with fifo they wait alike."""
    svc = lambda sid: P.ServiceParams(id=sid, department="d", daily_volume=30, median_minutes=1.6, sigma=0.3,
                                      no_show=0, transfer=0, priority=0, windows=((480, 600),), configured_minutes=1.7)
    for policy, ratio in (("order", 3.0), ("fifo", None)):
        p = P.Params(services={"a": svc("a"), "b": svc("b")},
                     counters=(P.CounterPlan("1", 1, "d", ("a", "b"), policy, (), ((480, 700),)),),
                     hourly=(1.0,) * 24, weekdays=(1.0,) * 7, day_end=720)
        days = run.simulate(p, P.Options(days=8, seed=1, estimate_every=10 ** 9))
        waits = {s: [w for d in days for w in d.waits[s]] for s in ("a", "b")}
        assert len(waits["a"]) > 200 and len(waits["b"]) > 200
        a, b = (sum(waits[s]) / len(waits[s]) for s in ("a", "b"))
        if ratio:
            assert b > ratio * a
        else:
            assert 0.6 < b / a < 1.6


def test_the_estimate_beats_both_baselines_even_when_a_counter_closes_at_ten():
    """A busy demo centre, and the same with a land counter gone at 10:00: the replayed estimate has a lower
    mean error than the baselines (people ahead × mean ÷ counters, and the former formula), and its 80 %
    range holds most real waits."""
    p = demo(1100)
    land = [c for c in p.counters if c.services == ("dat_dai",)]
    closing = P.with_counters(p, {land[0].id: ((450, 600),)})
    for plan in (p, closing):
        preds = [x for d in run.simulate(plan, P.Options(days=1, seed=2)) for x in d.predictions]
        acc = run.accuracy_table(preds, list(plan.services))["overall"]
        assert acc["estimate"]["n"] > 800
        assert acc["estimate"]["mae"] < 0.8 * acc["baseline_mean"]["mae"]
        assert acc["estimate"]["mae"] < 0.8 * acc["baseline_formula"]["mae"]
        assert 0.7 <= acc["estimate"]["range_holds"] <= 0.95
        assert acc["estimate"]["too_short"] < acc["baseline_mean"]["too_short"]


def test_the_floor_serves_the_same_citizens_with_other_service_times():
    """bench estimates' floor (how close any estimate could come) rests on this: a replay of a day with another
    service stream has the same citizens at the same minutes, and other waits. Then its figures on one day."""
    from bench import estimates as bench_estimates

    p = demo(1100)
    comps = run.components(p)
    day, weekday = next(iter(run.working_days(p, P.Options().first_day, 1)))
    first = run.Day(p, 1, 0, day, weekday, 1, comps).run().predictions
    again = run.Day(p, 1, 0, day, weekday, 1, comps)
    again.rng = bench_estimates.np.random.default_rng([1, 0, 1, 1])
    other = again.run().predictions
    assert [(x.service, x.issued_min) for x in first] == [(x.service, x.issued_min) for x in other]
    assert sum(a.actual != b.actual for a, b in zip(first, other)) > len(first) // 2
    got = bench_estimates.floor(p, days=1, replays=4)
    assert got["floor.tickets_over_30"] > 50
    assert 0.1 < got["floor.best_possible_rel_mae_over_30"] < 0.6 and 0.1 < got["floor.estimate_rel_mae_over_30"] < 0.6


def test_a_what_if_changes_staffing_and_bad_files_say_which_key():
    p = demo(300)
    w = P.apply_what_if(p, {"counters": {"8": {"open": ["07:30-10:00"], "services": ["dat_dai", "thue_dat_dai"]}},
                            "add_counters": [{"id": "x1", "department": "nong_nghiep_moi_truong",
                                              "services": ["dat_dai"]}],
                            "volumes": {"dat_dai": 120}})
    eight = next(c for c in w.counters if c.id == "8")
    assert eight.open == ((450, 600),) and eight.services == ("dat_dai", "thue_dat_dai")
    assert any(c.id == "x1" and c.open == ((450, 675), (795, 990)) for c in w.counters)
    assert w.services["dat_dai"].daily_volume == 120 and p.services["dat_dai"].daily_volume != 120
    for bad, key in (({"counters": {"nope": {}}}, "counters.nope"),
                     ({"counters": {"8": {"open": ["7h-9h"]}}}, "counters.8.open"),
                     ({"counters": {"8": {"services": ["nope"]}}}, "counters.8.services"),
                     ({"volumes": {"nope": 3}}, "volumes.nope"),
                     ({"add_counters": [{"services": ["dat_dai"]}]}, "add_counters[0]"),
                     ({"volumes": {"dat_dai": "many"}}, "volumes.dat_dai: a number"),
                     ({"volumes": {"dat_dai": -3}}, "volumes.dat_dai: -3 is outside"),
                     ({"volumes": [1, 2]}, "volumes: a mapping"),
                     ({"counters": {"8": {"open": "07:30-10:00"}}}, "counters.8.open: a list"),
                     ({"counters": {"8": ["x"]}}, "counters.8: a mapping"),
                     ({"surges": [{"service": "dat_dai", "weekdays": [9]}]}, "surges[0].weekdays"),
                     ({"surges": [{"service": "dat_dai", "factor": "x"}]}, "surges[0].factor: a number")):
        with pytest.raises(P.ParamsError, match=key.replace("[", r"\[").replace("]", r"\]")):
            P.apply_what_if(p, bad)
    for bad, key in (({"services": {"dat_dai": {"sigma": "wide"}}}, "services.dat_dai.sigma: a number"),
                     ({"services": {"dat_dai": {"no_show": 2}}}, "services.dat_dai.no_show: 2 is outside"),
                     ({"hourly": "flat"}, "hourly: a list")):
        with pytest.raises(P.ParamsError, match=key.replace("[", r"\[").replace("]", r"\]")):
            P.apply_calibration(p, bad)
