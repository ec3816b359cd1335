"""`qms calibrate` fits the simulator from a real ticket history; `qms simulate` prints its tables, writes CSV
and an HTML report whose plots show in chromium with no network; bad input is a clear error that writes nothing."""
from __future__ import annotations

import csv
import math

import pytest
import yaml

from queue_server.cli.commands import main
from queue_server.simulate.calibrate import fit
from queue_server.store import queue_reads
from tests.conftest import FIXTURES

CENTRE = str(FIXTURES / "centre.yaml")


@pytest.fixture
def history(open_store, clock):
    """Two days at the fixture centre: cccd tickets served in 4, 5, 6, 5, 5 and 8 minutes, one no-show, a
    priority ticket; land tickets in the afternoon."""
    s = open_store
    for day in range(2):
        clock.set_local(f"2026-11-{25 + day} 08:00")
        for i, minutes in enumerate((4, 5, 6, 5, 5, 8)):
            t = s.issue("cccd", priority=(day == 0 and i == 0)).ticket
            assert s.call_next("1").ticket["id"] == t["id"]
            clock.advance(minutes * 60)
            s.finish(t["id"], "1")
        t = s.issue("cccd").ticket
        s.call_next("1")
        clock.advance(90)
        s.no_show(t["id"], "1")
        clock.set_local(f"2026-11-{25 + day} 14:10")
        s.issue("land")
    return s


def test_calibrate_fits_the_history(history, config):
    got = fit(queue_reads.ticket_history(history), config.tz)
    assert (got["days"], got["first_day"], got["last_day"]) == (2, "2026-11-25", "2026-11-26")
    cccd = got["services"]["cccd"]
    assert cccd["daily_volume"] == 7 and cccd["served"] == 12
    assert cccd["median_minutes"] == pytest.approx(5, rel=1e-3)
    assert cccd["no_show"] == pytest.approx(2 / 14, abs=1e-4) and cccd["priority"] == pytest.approx(1 / 14, abs=1e-4)
    assert "median_minutes" not in got["services"]["land"], "no served land ticket: the configured time stays"
    assert got["hourly"][8] == pytest.approx(24 * 14 / 16) and got["hourly"][14] == pytest.approx(24 * 2 / 16)
    assert got["weekdays"][2] == got["weekdays"][3] == 1.0 and got["weekdays"][0] is None  # no Monday seen


def test_calibrate_then_simulate_with_a_what_if_writes_a_report_chromium_shows(history, tmp_path, capsys, chromium):
    fitted = tmp_path / "fitted.yaml"  # the store fixture's database is tmp_path / "qms.sqlite3"
    assert main(["calibrate", "--config", CENTRE, "--db", str(tmp_path / "qms.sqlite3"), "--out", str(fitted)]) == 0
    assert yaml.safe_load(fitted.read_text(encoding="utf-8"))["services"]["cccd"]["daily_volume"] == 7
    what_if = tmp_path / "more-land.yaml"
    what_if.write_text("add_counters:\n  - {id: x1, department: land, services: [land]}\n", encoding="utf-8")
    out = tmp_path / "report"
    assert main(["simulate", "--config", CENTRE, "--days", "2", "--tickets-per-day", "300", "--params", str(fitted),
                 "--what-if", str(what_if), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "Per service (waits in minutes)" in printed and "Cấp đổi căn cước" in printed
    assert "x1         more-land" in printed and "baseline_formula" in printed
    rows = list(csv.DictReader((out / "services.csv").open(encoding="utf-8-sig")))
    assert {r["run"] for r in rows} == {"base", "more-land"} and {r["service"] for r in rows} >= {"cccd", "land"}
    cccd = next(r for r in rows if r["run"] == "base" and r["service"] == "cccd")
    assert int(cccd["issued"]) > 0 and math.isfinite(float(cccd["p90_wait_min"]))
    counters = list(csv.DictReader((out / "counters.csv").open(encoding="utf-8-sig")))
    assert any(r["counter"] == "x1" and r["run"] == "more-land" for r in counters)
    assert all(0 <= float(r["utilisation"]) <= 1 for r in counters if r["utilisation"])

    ctx = chromium.new_context(viewport={"width": 1280, "height": 800}, offline=True)
    page = ctx.new_page()
    try:
        page.goto((out / "report.html").as_uri())
        page.wait_for_function("[...document.images].every(i => i.complete)")
        images = page.evaluate("[...document.images].map(i => [i.naturalWidth, i.getBoundingClientRect().right])")
        assert len(images) == 3 and all(w > 300 and right <= 1280 for w, right in images)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        assert "Đăng ký đất đai" in page.inner_text("body")
        page.screenshot(path=str(out / "report.png"), full_page=True)
        assert (out / "report.png").stat().st_size > 20_000
    finally:
        ctx.close()


@pytest.mark.parametrize("args, says", [
    (["--days", "0"], "--days 1-5000"),
    (["--tickets-per-day", "-5"], "--tickets-per-day > 0"),
    (["--what-if", "WHATIF"], "counters.99: no such counter"),
    (["--params", "MISSING"], "No such file"),
])
def test_bad_input_is_a_clear_error_and_writes_nothing(args, says, tmp_path, capsys):
    what_if = tmp_path / "w.yaml"
    what_if.write_text("counters:\n  '99': {open: ['08:00-09:00']}\n", encoding="utf-8")
    args = [str(what_if) if a == "WHATIF" else str(tmp_path / "none.yaml") if a == "MISSING" else a for a in args]
    out = tmp_path / "out"
    assert main(["simulate", "--config", CENTRE, "--days", "1", "--out", str(out), "--quiet", *args]) == 2
    assert says in capsys.readouterr().err
    assert not out.exists()
