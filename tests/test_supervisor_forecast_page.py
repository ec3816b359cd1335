"""The forecast of today on the supervisor page, in Debian's chromium: the big centre (service names of 80+
characters) served from this process on the test's clock; the forecast shown in Vietnamese and English, its
live update arriving, and nothing wider than its box on a desktop and on a tablet."""
from __future__ import annotations

import pytest

from conftest import Clock
from inproc import InProcessServer
from live_site import LiveSite
from queue_server.web import forecasting
from server_util import big_server_config

pytestmark = pytest.mark.browser

LAND = "Đăng ký đất đai, tài sản gắn liền với đất, cấp Giấy chứng nhận quyền sử dụng đất lần đầu"

OVERFLOW = """() => {
  const out = [];
  for (const e of document.querySelectorAll('#forecast, #forecast *')) {
    const r = e.getBoundingClientRect();
    if (e.scrollWidth > e.clientWidth + 1 || r.right > innerWidth + 0.5 || r.left < -0.5)
      out.push(`${e.tagName}.${e.className} ${e.scrollWidth}/${e.clientWidth} ${r.left}-${r.right}`);
  }
  return out;
}"""


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """The big centre at its local 09:00: 40 land tickets with one of its four land counters open (125), and
    six identity card tickets with no counter open."""
    tmp = tmp_path_factory.mktemp("forecast")
    clock = Clock()
    srv = LiveSite(InProcessServer(big_server_config(tmp, now=clock()), tmp / "qms.sqlite3", clock))
    try:
        sup = srv.login("super", "test-super")
        for service in ["dat_dai"] * 40 + ["can_cuoc"] * 6:
            srv.ctx.store.issue(service)
        assert srv.post("/api/v1/counters/125/open", None, sup).status_code == 200
        yield srv, clock
    finally:
        srv.close()


def test_the_supervisor_sees_the_forecast_live_in_both_languages_and_it_fits(big, chromium):
    srv, clock = big
    first = forecasting.of(srv.ctx).refresh()
    land = next(s for s in first["services"] if s["service"] == "dat_dai")
    assert land["over_target"] and land["plus_one_from"] is not None
    ctx = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
    errors: list[str] = []
    try:
        page = ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(srv.url + "/supervisor")
        page.fill("#username", "super")
        page.fill("#password", "test-super")
        page.click("#signin-btn")
        page.wait_for_selector('#forecast[data-state="ready"] li[data-service="dat_dai"]')
        page.wait_for_selector('#conn[data-state="on"]')
        shown = page.locator('#forecast-list li[data-service="dat_dai"]')
        text = shown.inner_text()
        assert f"Hàng đợi {LAND} dự kiến" in text
        assert f"{LAND}: thời gian chờ sẽ vượt mục tiêu" in text
        assert f"+1 quầy từ {land['plus_one_from']}: " in text
        assert shown.get_attribute("data-kind") in ("over", "late")
        assert page.locator("#forecast-at").inner_text() == f"cập nhật lúc {first['at']}"
        assert page.locator("#forecast-list li").count() == len(first["services"])
        assert page.evaluate(OVERFLOW) == []

        # a minute later the background refresh pushes the next one: the page follows without a reload
        clock.advance(60)
        second = forecasting.of(srv.ctx).refresh()
        assert second["at"] != first["at"]
        page.wait_for_function("(at) => document.querySelector('#forecast-at').textContent.endsWith(at)",
                               arg=second["at"], timeout=5000)

        page.click("#btn-lang")
        page.wait_for_function("() => document.querySelector('#forecast-at').textContent.startsWith('updated at')")
        text = page.locator('#forecast-list li[data-service="dat_dai"]').inner_text()
        assert "The Dat Dai queue" in text and "+1 counter from" in text and "Hàng đợi" not in text
        page.click("#btn-lang")  # back to Vietnamese, on a tablet held upright
        page.set_viewport_size({"width": 768, "height": 1024})
        page.wait_for_function("() => innerWidth === 768 && document.querySelector('#forecast-at').textContent"
                               ".startsWith('cập nhật')")
        assert page.evaluate(OVERFLOW) == []
        assert errors == []
    finally:
        ctx.close()


def test_the_reports_page_shows_how_far_the_estimates_held_and_it_fits(big, chromium):
    srv, clock = big
    sup = srv.login("super", "test-super")
    told = []
    for _ in range(2):  # through the kiosk: its answer's estimate is kept
        r = srv.post("/api/v1/tickets", {"service": "dat_dai"}, {"Authorization": "Bearer big-kiosk-token-1"})
        assert r.status_code == 201, r.text
        told.append(r.json()["wait"])
    assert all(w["minutes"] is not None for w in told)
    clock.advance(minutes=30)
    while srv.get("/api/v1/reports/estimates", sup).json()["total"]["called"] < 2:  # the 40 before them first
        clock.advance(minutes=1)
        assert srv.post("/api/v1/counters/125/next", None, sup).status_code == 200
    want = srv.get("/api/v1/reports/estimates", sup).json()
    (row,) = [r for r in want["rows"] if r["service"] == "dat_dai"]
    ctx = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
    try:
        page = ctx.new_page()
        page.clock.set_fixed_time(clock())  # the page's "today" is the server's test day
        page.goto(srv.url + "/reports")
        page.fill("#username", "super")
        page.fill("#password", "test-super")
        page.click("#signin-btn")
        page.wait_for_selector('#estimates-table tbody tr[data-service="dat_dai"]')
        shown = page.locator('#estimates-table tbody tr[data-service="dat_dai"] td')
        cells = shown.all_inner_texts()
        assert cells[0] == row["week"] and cells[1] == LAND
        assert cells[2:4] == [str(row["estimates"]), str(row["called"])]
        assert cells[4] == f"{row['mae_min']:g}".replace(".", ",")
        assert cells[9] == f"{round(row['too_short'] * 100)} %"
        assert "Độ chính xác của thời gian chờ ước tính" in page.locator("#estimates-card h3").inner_text()
        box = page.evaluate("""() => { const c = document.querySelector('#estimates-card');
            const r = c.getBoundingClientRect(); return {right: r.right, width: innerWidth,
            overflow: [...c.querySelectorAll('td, th, h3')].filter((e) => e.scrollWidth > e.clientWidth + 1).length}; }""")
        assert box["right"] <= box["width"] and box["overflow"] == 0, box
    finally:
        ctx.close()
