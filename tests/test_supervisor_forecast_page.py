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
