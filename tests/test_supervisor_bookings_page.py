"""The supervisor sees a capped service's bookings still to come beside "issued / cap" (the cap keeps their places,
docs/booking.md), in Vietnamese and English, at the demo centre and the big one, with nothing wider than its box.
In-process sites on the test's clock (tests/live_site.py) and Debian's chromium."""
from __future__ import annotations

import re

import pytest
import yaml

from conftest import Clock
from inproc import InProcessServer
from live_site import LiveSite
from queue_server.store import notifications
from server_util import big_server_config, server_config

pytestmark = pytest.mark.browser

CAP = 400


def capped(path):
    """Every service that takes bookings gets a daily cap of CAP."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for d in data["departments"]:
        for s in d["services"]:
            s["daily_cap"] = CAP
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module", params=["demo", "big"])
def site(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(request.param)
    clock = Clock()
    make = server_config if request.param == "demo" else big_server_config
    srv = LiveSite(InProcessServer(capped(make(tmp, now=clock())), tmp / "qms.sqlite3", clock))
    yield srv
    srv.close()


def book_today(site, service: str, who: tuple[str, str]) -> None:
    """A confirmed booking of today in the service's first slot with a place, as a phone makes it."""
    today = site.ctx.store.today()
    slots = site.get(f"/api/v1/booking/slots?service={service}&date={today}").json()["slots"]
    start = next(s["start"] for s in slots if s["left"] > 0)
    made = site.post("/api/v1/bookings", {"service": service, "date": today, "start": start, "cccd": who[0],
                                          "phone": who[1]})
    assert made.status_code == 202, made.text
    sms = notifications.outbox(site.ctx.store, kind="otp", limit=1)[0]["body"]
    otp = re.search(r": (\d{6})\.", sms).group(1)
    assert site.post(f"/api/v1/bookings/{made.json()['booking_id']}/confirm", {"otp": otp}).status_code == 201


def test_the_supervisor_sees_the_bookings_to_come_beside_issued_and_cap(site, chromium):
    service = site.get("/api/v1/booking").json()["services"][0]["id"]
    book_today(site, service, ("001090004567", "0912000001"))
    book_today(site, service, ("001088001111", "0912000002"))
    listed = {s["id"]: s for s in site.get("/api/v1/services").json()["services"]}[service]
    assert (listed["issued_today"], listed["daily_cap"], listed["booked_to_come"]) == (0, CAP, 2)
    ctx = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
    try:
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(site.url + "/supervisor")
        page.fill("#username", "super")
        page.fill("#password", "test-super")
        page.click("#signin-btn")
        row = page.locator(f"tr[data-service='{service}']")
        row.wait_for()
        cells = [c.strip() for c in row.locator("td.num").all_inner_texts()]
        assert f"0 / {CAP} · 2 đặt lịch chưa đến" in cells, cells
        wide = page.evaluate("""() => [...document.querySelectorAll('table.grid td, table.grid th')]
            .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)""")
        assert wide == [] and page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.click("#btn-lang")
        page.wait_for_function(f"""[...document.querySelectorAll("tr[data-service='{service}'] td.num")]
            .some(e => e.textContent.includes('2 booked, to come'))""")
        assert errors == []
    finally:
        ctx.close()
