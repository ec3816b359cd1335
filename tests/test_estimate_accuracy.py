"""Each ticket's wait estimate at issue is kept beside its real wait; GET /api/v1/reports/estimates says how far
the estimates held, per service and ISO week (core/estimate_accuracy.py, store/wait_estimates.py)."""
from __future__ import annotations

import statistics

import pytest

from queue_server.core import estimate_accuracy as A
from server_util import KIOSK


def test_the_figures_of_a_few_estimates():
    rows = [{"minutes": 10, "low": 5, "high": 15, "waited": 12.0},  # 2 short, in range, within 25 %
            {"minutes": 10, "low": 5, "high": 15, "waited": 20.0},  # 10 short, out of range
            {"minutes": 30, "low": 20, "high": 40, "waited": 27.0},  # 3 long
            {"minutes": 5, "low": None, "high": None, "waited": None}]  # never called
    f = A.figures(rows)
    assert (f["estimates"], f["called"]) == (4, 3)
    assert f["mae_min"] == 5.0 and f["median_abs_min"] == 3.0
    assert f["within_5_min"] == pytest.approx(2 / 3, abs=1e-4) and f["within_25_pct"] == pytest.approx(2 / 3, abs=1e-4)
    assert f["in_range"] == pytest.approx(2 / 3, abs=1e-4) and f["too_short"] == pytest.approx(2 / 3, abs=1e-4)
    assert A.figures([])["mae_min"] is None and A.week_of("2026-11-25") == "2026-W48"
    assert A.week_of("2027-01-01") == "2026-W53"


def test_the_estimate_at_issue_is_kept_and_measured_against_the_real_wait(site, clock):
    sup = site.login("super", "test-super")
    assert site.post("/api/v1/counters/1/open", None, sup).status_code == 200
    told = []
    for _ in range(3):
        r = site.post("/api/v1/tickets", {"service": "cccd"}, KIOSK)
        assert r.status_code == 201
        told.append(r.json()["wait"])
    assert all(w["minutes"] is not None for w in told)
    for minutes in (12, 10):  # the first called 12 minutes after issue, the second 22; the third never
        clock.advance(minutes=minutes)
        assert site.post("/api/v1/counters/1/next", None, sup).status_code == 200
    waited = [12, 22]
    r = site.get("/api/v1/reports/estimates", sup)
    assert r.status_code == 200, r.text
    got = r.json()
    errors = [abs(w["minutes"] - real) for w, real in zip(told, waited)]
    assert got["total"]["estimates"] == 3 and got["total"]["called"] == 2
    assert got["total"]["mae_min"] == pytest.approx(statistics.fmean(errors), abs=0.01)
    assert got["total"]["too_short"] == sum(w["minutes"] < real for w, real in zip(told, waited)) / 2
    (row,) = got["rows"]
    assert row["service"] == "cccd" and row["week"] == A.week_of(got["from"]) and row["estimates"] == 3
    # the same answer again: the estimate is kept once per ticket, at issue
    assert site.get("/api/v1/reports/estimates", sup).json() == got

    staff = site.login("canbo1", "test-staff")
    assert site.get("/api/v1/reports/estimates", staff).status_code == 403
    assert site.get("/api/v1/reports/estimates").status_code == 401
    for bad in ("from=2026-13-01", "from=2026-11-25&to=2026-11-01", "period=week&date=soon"):
        r = site.get("/api/v1/reports/estimates?" + bad, sup)
        assert r.status_code == 400, (bad, r.text)
