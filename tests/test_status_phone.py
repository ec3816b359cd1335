"""The ticket status page (/t/<token>) on a 390x844 phone over both test centres (the demo centre's counter 12,
the big centre's LLTP0001 at counter 135), measured in Debian's chromium: the page is never wider than the
phone, the counter's word is small and its number large, large Vietnamese text has a line-height of at least
1.25, one honest state (never "Sắp đến lượt bạn" while no counter serving the service is open), and the
"Đánh giá" link shows only while the ticket may be rated (rating.window_seconds after its finish), then says
the time is over. The server runs in this process on the test Clock (tests/live_site.py)."""
from __future__ import annotations

import pytest

from conftest import ARTIFACTS, Clock
from inproc import InProcessServer
from live_site import LiveSite
from server_util import big_server_config, server_config

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
NEXT = "Sắp đến lượt bạn — vui lòng chú ý màn hình"
NO_COUNTER = "Chưa có quầy nào mở cho dịch vụ này"
TIME_OVER = "Đã hết thời gian đánh giá lượt phục vụ này."

# Every element with text: not wider than its box, not outside the screen; large text (24 px or more) of the
# element's own words has a line-height of at least 1.25 times its size.
MEASURE = """
() => {
  const problems = [];
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '');
  for (const e of document.querySelectorAll('body *')) {
    if (!e.getClientRects().length || !e.textContent.trim()) continue;
    const r = e.getBoundingClientRect(), cs = getComputedStyle(e), size = parseFloat(cs.fontSize);
    if (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1) problems.push(['wider than its box', name(e), e.scrollWidth, e.clientWidth]);
    if (r.left < -1 || r.right > innerWidth + 1) problems.push(['outside the screen', name(e), r.left, r.right]);
    const own = Array.from(e.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
    if (own && size >= 24 && !(parseFloat(cs.lineHeight) / size >= 1.25)) problems.push(['line-height', name(e), cs.lineHeight, size]);
  }
  const font = (s) => { const e = document.querySelector(s); return e ? parseFloat(getComputedStyle(e).fontSize) : 0; };
  return {problems, page_width: document.documentElement.scrollWidth, word: font('#call-word'), number: font('#call-number')};
}
"""

CENTRES = {
    "demo": {"service": "cccd", "counter": "12", "kiosk": "test-kiosk-token-1"},
    "big": {"service": "ly_lich", "counter": "135", "kiosk": "big-kiosk-token-1", "code": "LLTP0001"},
}


@pytest.fixture(scope="module", params=sorted(CENTRES))
def centre(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("phone-" + request.param)
    clock = Clock()
    cfg = server_config(tmp, now=clock()) if request.param == "demo" else big_server_config(tmp, now=clock())
    srv = LiveSite(InProcessServer(cfg, tmp / "qms.sqlite3", clock))
    try:
        yield srv, CENTRES[request.param], srv.login("super", "test-super")
    finally:
        srv.close()


@pytest.fixture
def phone(chromium):
    contexts: list = []
    errors: list[str] = []

    def make():
        context = chromium.new_context(viewport=PHONE, locale="vi-VN", is_mobile=True, has_touch=True, device_scale_factor=2)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        return page

    yield make
    for c in contexts:
        c.close()
    assert errors == []


def text(page, selector) -> str:
    return page.locator(selector).inner_text().strip()


def wait_text(page, selector, expected, timeout=5000):
    page.wait_for_function("([s, t]) => document.querySelector(s) && document.querySelector(s).innerText.trim() === t",
                           arg=[selector, expected], timeout=timeout)


def fits(page) -> dict:
    m = page.evaluate(MEASURE)
    assert m["problems"] == [], m["problems"]
    assert m["page_width"] <= PHONE["width"]
    return m


def test_the_phone_page_fits_says_one_state_and_offers_rating_only_while_it_can(centre, phone):
    srv, spec, sup = centre
    c = spec["counter"]
    r = srv.post("/api/v1/tickets", {"service": spec["service"]}, {"Authorization": "Bearer " + spec["kiosk"]})
    assert r.status_code == 201, r.text
    ticket = r.json()
    if "code" in spec:
        assert ticket["code"] == spec["code"]
    page = phone()
    page.clock.install()  # the page's own timers (the rating link's end) run when the test says
    page.goto(f"{srv.url}/t/{ticket['token']}")
    wait_text(page, "#conn", "Đang theo dõi trực tiếp")

    # nobody ahead, but no counter open for the service: waiting, not "you are next"
    assert text(page, "#ahead") == "0" and text(page, "#serving") == NO_COUNTER
    assert text(page, "#status-text") == "Đang chờ đến lượt" and NEXT not in page.inner_text("body")
    fits(page)
    assert srv.post(f"/api/v1/counters/{c}/open", None, sup).status_code == 200
    srv.tick()  # the phones' places in line are pushed by the coalescing tick
    wait_text(page, "#status-text", NEXT)

    # called: the word small, the number large, nothing wider than the phone, in both languages
    r = srv.post(f"/api/v1/counters/{c}/next", {"current": None}, sup)
    assert r.status_code == 200 and r.json()["ticket"]["id"] == ticket["id"], r.text
    wait_text(page, "#call-counter", f"QUẦY {c}")
    m = fits(page)
    assert m["number"] >= 60 and m["word"] <= m["number"] / 2.5, m
    page.locator("#lang-en").tap()
    wait_text(page, "#call-counter", f"COUNTER {c}")
    fits(page)
    page.screenshot(path=str(ARTIFACTS / f"status-phone-called-{c}.png"))
    assert (ARTIFACTS / f"status-phone-called-{c}.png").stat().st_size > 10_000
    page.locator("#lang-vi").tap()

    # finished: the rating link, while the server says the ticket may be rated ...
    assert srv.post(f"/api/v1/tickets/{ticket['id']}/finish", None, sup).status_code == 200
    rate = page.locator("#rate-link")
    rate.wait_for(state="visible")
    assert rate.inner_text() == "Đánh giá" and rate.get_attribute("href") == f"/rate/{c}?ticket={ticket['token']}"
    assert page.locator("#rate-note").is_hidden()
    fits(page)
    # ... and no longer once rating.window_seconds have passed: the page says so instead
    window_ms = srv.ctx.config.rating.window_seconds * 1000
    page.clock.fast_forward(window_ms - 2_000)
    assert rate.is_visible()
    page.clock.fast_forward(3_000)
    rate.wait_for(state="hidden")
    assert text(page, "#rate-note") == TIME_OVER

    # a page opened after the window (the server's clock has moved on) never offers the link
    srv.clock.advance(seconds=window_ms / 1000 + 1)
    later = phone()
    later.goto(f"{srv.url}/t/{ticket['token']}")
    wait_text(later, "#rate-note", TIME_OVER)
    assert later.locator("#rate-link").is_hidden()
    assert srv.get(f"/api/v1/rate/{c}?ticket={ticket['token']}").json()["target"] is None
    assert srv.post(f"/api/v1/counters/{c}/close", None, sup).status_code == 200
