"""Open data (issue: the centre's links outward, item 4): the portal's feed of today per department and the
citizens' "when is it quiet" page, checked against hand-counted figures; no personal field anywhere."""
from __future__ import annotations

import pytest
from server_util import KIOSK

FEED = "/api/v1/open/today"
DEPT_KEYS = {"id", "name", "name_en", "zone", "issued", "served", "waiting_now", "wait_avg_minutes",
             "wait_p90_minutes", "satisfaction_rate", "rated_tickets", "wait_now_minutes"}


def walk_keys(value):
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from walk_keys(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk_keys(v)


def a_morning(site, clock) -> dict:
    """09:00 three identity-card tickets; 09:04 the first is called (4 min); 09:06 it is finished and the second
    called (6 min); the first is rated 'very satisfied'. The third still waits."""
    from feedback_buttons.server.recorder import RatingIn

    sup = site.login("super", "test-super")
    tickets = [site.post("/api/v1/tickets", {"service": "cccd"}, KIOSK).json() for _ in range(3)]
    site.post("/api/v1/counters/1/open", None, sup)
    clock.advance(minutes=4)
    first = site.post("/api/v1/counters/1/next", {"current": -1}, sup).json()["ticket"]
    clock.advance(minutes=2)
    second = site.post("/api/v1/counters/1/next", {"current": first["id"]}, sup).json()["ticket"]
    assert (first["id"], second["id"]) == (tickets[0]["id"], tickets[1]["id"])
    clock.advance(seconds=5)
    site.app.extensions["qms_ratings"].record(RatingIn("open-data-1", "1", "keypad:k1", level=3, ticket=first["id"]))
    return {"tickets": tickets, "sup": sup}


def test_today_per_department_matches_the_hand_count_and_names_nobody(site, clock):
    day = a_morning(site, clock)
    r = site.get(FEED)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "public, max-age=30"
    feed = r.json()
    police = next(d for d in feed["departments"] if d["id"] == "police")
    assert (police["issued"], police["served"], police["waiting_now"]) == (3, 1, 1)
    assert police["wait_avg_minutes"] == 5.0 and police["wait_p90_minutes"] == pytest.approx(5.8, abs=0.05)
    assert (police["satisfaction_rate"], police["rated_tickets"]) == (100.0, 1)
    land = next(d for d in feed["departments"] if d["id"] == "land")
    assert (land["issued"], land["waiting_now"], land["wait_avg_minutes"], land["satisfaction_rate"]) == (0, 0, None, None)
    # no personal field: only group figures, and no name, account, code or token of anyone anywhere
    assert all(set(d) == DEPT_KEYS for d in feed["departments"])
    assert set(feed) == {"centre", "centre_en", "day", "generated_ms", "cache_seconds", "departments"}
    text = r.text
    for secret in ("Nguyễn Văn An", "canbo1", "super", *(t["code"] for t in day["tickets"]),
                   *(t["token"] for t in day["tickets"])):
        assert f'"{secret}"' not in text, secret
    # cached for 30 s: a new ticket shows in the next figures, not in this minute's
    site.post("/api/v1/tickets", {"service": "cccd"}, KIOSK)
    assert site.get(FEED).json()["generated_ms"] == feed["generated_ms"]


def test_the_usual_wait_by_weekday_and_hour_and_its_page(site, clock):
    # last Wednesday: at 10:00 two tickets waited 12 and 20 minutes (median 16)
    clock.set_local("2026-11-18 10:00")
    sup = site.login("super", "test-super")
    site.post("/api/v1/counters/1/open", None, sup)
    a = site.post("/api/v1/tickets", {"service": "cccd"}, KIOSK).json()
    b = site.post("/api/v1/tickets", {"service": "passport"}, KIOSK).json()
    clock.advance(minutes=12)
    site.post("/api/v1/counters/1/next", {"current": -1}, sup)
    clock.advance(minutes=8)
    site.post("/api/v1/counters/1/next", {"current": a["id"]}, sup)
    site.post(f"/api/v1/tickets/{b['id']}/finish", None, sup)
    clock.set_local("2026-11-25 09:00")  # today, a week later
    site.keep_day()
    got = site.get("/api/v1/open/best-time").json()
    police = next(d for d in got["departments"] if d["id"] == "police")
    wednesday = next(w for w in police["weekdays"] if w["weekday"] == 2)
    cell = next(h for h in wednesday["hours"] if h["hour"] == 10)
    assert cell == {"hour": 10, "median_minutes": 16, "tickets": 2}
    assert all(h["median_minutes"] is None for w in police["weekdays"] for h in w["hours"] if h["hour"] != 10)
    assert set(walk_keys(got)) <= DEPT_KEYS | {
        "centre", "centre_en", "from", "to", "weeks", "hours", "generated_ms", "departments", "weekdays", "weekday",
        "hour", "median_minutes", "tickets"}
    page = site.get("/thoi-gian-cho")
    assert page.status_code == 200 and "Giờ nào ít phải chờ?" in page.text and "Thứ Tư" in page.text
    assert '<td class="cell mid" title="2">16</td>' in page.text
    assert "When is it quiet?" in site.get("/thoi-gian-cho?lang=en").text
    ticket = site.post("/api/v1/tickets", {"service": "cccd"}, KIOSK).json()
    assert 'href="/thoi-gian-cho"' in site.get(f"/t/{ticket['token']}").text  # linked from the slip's status page
