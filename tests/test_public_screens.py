"""The public screens at real device sizes over both test centres (the demo test centre and the big city centre:
counters 101-170, codes of up to 8 characters, 80+ character names), in Debian's chromium, measured by script.

Hall and counter displays at TV sizes (1280x720, 1920x1080, 3840x2160, and 1080x1920 portrait): no number, counter or name is wider or
taller than its box, the last calls show whole codes and counter numbers in few large rows (at least 5vmin),
closed counters get no tile, the counter display shows its counter's state, and blocked sound is a small badge,
never a cover over the board.

The ticket status page (/t/<token>) on a 390x844 phone: never wider than the phone, the counter's word small and
its number large, a line-height of at least 1.25 on large Vietnamese text, one honest state (never "Sắp đến lượt
bạn" while no counter serving the service is open), and the "Đánh giá" link only while the ticket may be rated
(rating.window_seconds after its finish), then a line saying the time is over.

Each centre is served from this process on the test Clock (tests/live_site.py): one per module.
"""
from __future__ import annotations

import pytest
import yaml

from conftest import ARTIFACTS, Clock
from inproc import InProcessServer
from live_site import LiveSite
from server_util import big_server_config, server_config
from test_display_page import AUTOPLAY_RULE
from test_terminal_page import save_shot, wait_text

pytestmark = pytest.mark.browser

# landscape TVs, and a portrait one (a column beside a door); the screenshots are taken at the last size
TV_SIZES = ((3840, 2160), (1280, 720), (1080, 1920), (1920, 1080))

# Everything the board shows, measured in the page: each element's content against its own box, each text
# against its panel and the screen, the last calls' font against the screen's vmin.
MEASURE = """
() => {
  const vmin = Math.min(innerWidth, innerHeight) / 100;
  const problems = [];
  const inside = (r, b) => r.left >= b.left - 1 && r.right <= b.right + 1 && r.top >= b.top - 1 && r.bottom <= b.bottom + 1;
  const screen = {left: 0, top: 0, right: innerWidth, bottom: innerHeight};
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + String(e.className).split(' ').join('.') : '');
  for (const e of document.querySelectorAll('.bar *, .grid *, .cs, .cs *')) {
    if (!e.getClientRects().length || !e.textContent.trim()) continue;
    if (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1) problems.push(['wider than its box', name(e), e.textContent.trim(), e.scrollWidth, e.clientWidth]);
    if (e.clientHeight > 0 && e.scrollHeight > e.clientHeight + 1) problems.push(['taller than its box', name(e), e.textContent.trim(), e.scrollHeight, e.clientHeight]);
    const box = (e.closest('.grid > section') || document.body).getBoundingClientRect();
    const r = e.getBoundingClientRect();
    if (!inside(r, box) || !inside(r, screen)) problems.push(['outside its panel or the screen', name(e), e.textContent.trim()]);
  }
  // Vietnamese marks stacked above a capital (QUẦY, NGHỈ) reach about 0.3em above the font's ascent: a box that
  // clips (overflow not visible, or the screen itself) leaves that room above every line of text it holds
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const host = node.parentElement;
    if (!node.textContent.trim() || !host.getClientRects().length || host.closest('.notice, script, style')) continue;
    const size = parseFloat(getComputedStyle(host).fontSize);
    let clip = host;
    while (clip && clip !== document.body) {
      const cs = getComputedStyle(clip);
      if (cs.overflowX !== 'visible' || cs.overflowY !== 'visible') break;
      clip = clip.parentElement;
    }
    const box = clip && clip !== document.body ? clip.getBoundingClientRect() : screen;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) {
      if (r.top - 0.3 * size < box.top - 1 || r.bottom > box.bottom + 1) {
        problems.push(['marks cut by ' + (clip && clip !== document.body ? name(clip) : 'the screen'), node.textContent.trim(),
                       Math.round(r.top), Math.round(box.top)]);
        break;
      }
    }
  }
  const texts = (sel) => Array.from(document.querySelectorAll(sel)).map((e) => e.textContent.trim());
  const fonts = (sel) => Array.from(document.querySelectorAll(sel)).map((e) => parseFloat(getComputedStyle(e).fontSize) / vmin);
  return {
    problems, vmin,
    page_width: document.documentElement.scrollWidth,
    headline: texts('#hl-code')[0], headline_counter: texts('#hl-counter-number')[0],
    calls: Array.from(document.querySelectorAll('#calls li')).map((li) => [li.querySelector('.l-code').textContent,
                                                                            li.querySelector('.l-counter').textContent]),
    call_rows: document.querySelector('#calls') && parseInt(getComputedStyle(document.querySelector('#calls')).getPropertyValue('--rows')),
    call_font_vmin: fonts('#calls .l-code'), counter_number_vmin: fonts('#calls .l-number'),
    tiles: texts('#counters [data-counter] .c-name'), closed_note: texts('#counters-closed')[0],
    departments: texts('#waiting .w-name'),
  };
}
"""

DEMO = {
    "open": ("1", "6", "2"), "break": ("2",), "calls": (("6", "1001"), ("1", "1002")),
    "hall": "hall-a", "headline": ("1002", "1"), "shown": ["1002", "1001"], "tiles": ["Quầy 1", "Quầy 2", "Quầy 6"],
    "departments": ["Công an tỉnh"],
    "issue": ("cccd", "cccd", "cccd", "passport"), "kiosk": "test-kiosk-token-1", "screen": "counter-3", "screen_counter": "3",
    "phone": {"service": "land", "counter": "12"}, "queue": ("police", "cccd"),
}
BIG = {
    "open": ("101", "108", "116", "124", "135", "102"), "break": ("102",),
    "calls": (("124", "100001"), ("101", "CCCD01"), ("108", "HC0001"), ("116", "TKQ001"), ("135", "LLTP0001")),
    "hall": "hall-a", "headline": ("TKQ001", "116"), "shown": ["TKQ001", "HC0001", "CCCD01"], "tiles": ["Quầy 101", "Quầy 102", "Quầy 108", "Quầy 116"],
    "departments": ["Công an thành phố",
                    "Bộ phận Tiếp nhận hồ sơ và Trả kết quả giải quyết thủ tục hành chính của Trung tâm"],
    "issue": ("moi_truong", "can_cuoc", "ho_chieu", "tra_kq", "ly_lich", "tra_kq", "can_cuoc"),
    "kiosk": "big-kiosk-token-1", "screen": "counter-170", "screen_counter": "170",
    "long_hall": "hall-b", "long_headline": ("LLTP0001", "135"),
    "phone": {"service": "bhyt", "counter": "165"}, "queue": ("tra_ket_qua", "tra_kq"),
}


def demo_config(tmp, now):
    """The demo centre with a counter display above counter 3, and a 2-digit counter 12 for land (zone B)."""
    path = server_config(tmp, extra_counters=2, now=now)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["counters"].append({"id": "12", "number": 12, "department": "land", "services": ["land"]})
    data["devices"]["displays"].append({"id": "counter-3", "name": "Màn hình quầy 3", "kind": "counter", "counter": "3"})
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module", params=["demo", "big"])
def centre(request, tmp_path_factory):
    """Each centre served to the browser from this process, on a fixed clock, with calls at 2- and 3-digit
    counters, one counter on break, the rest closed."""
    tmp = tmp_path_factory.mktemp(request.param)
    spec = DEMO if request.param == "demo" else BIG
    clock = Clock()
    cfg = demo_config(tmp, clock()) if request.param == "demo" else big_server_config(tmp, now=clock())
    srv = LiveSite(InProcessServer(cfg, tmp / "qms.sqlite3", clock))
    try:
        sup = srv.login("super", "test-super")
        for service in spec["issue"]:
            r = srv.post("/api/v1/tickets", {"service": service}, {"Authorization": "Bearer " + spec["kiosk"]})
            assert r.status_code == 201, r.text
        for c in spec["open"]:
            assert srv.post(f"/api/v1/counters/{c}/open", None, sup).status_code == 200
        for c in spec["break"]:
            assert srv.post(f"/api/v1/counters/{c}/break", None, sup).status_code == 200
        for c, code in spec["calls"]:
            r = srv.post(f"/api/v1/counters/{c}/next", {"current": None}, sup)
            assert r.status_code == 200 and r.json()["ticket"]["code"] == code, r.text
        yield srv, spec, sup
    finally:
        srv.close()


def display_url(srv, spec, display_id: str, query: str = "") -> str:
    """A display's address; the big centre's displays carry their device token (given once, as on a TV)."""
    token = f"token=big-display-{display_id}-token" if spec is BIG else ""
    args = "&".join(a for a in (query, token) if a)
    return f"{srv.url}/display/{display_id}" + ("?" + args if args else "")


def measure_at(page, width, height):
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_function("([w, h]) => innerWidth === w && innerHeight === h", arg=[width, height])
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    return page.evaluate(MEASURE)


def check_board(m, spec, headline, size):
    assert m["problems"] == [], (size, m["problems"])
    assert m["page_width"] <= size[0]
    assert (m["headline"], m["headline_counter"]) == headline
    # the last calls: whole codes, whole counter numbers (101, 108 and 116 apart), newest first, large rows
    called = dict((code, c) for c, code in spec["calls"])
    shown = [code for code, _ in m["calls"]]
    assert shown == spec["shown"], m["calls"]
    assert [f"QUẦY{called[code]}" == label.replace(" ", "") for code, label in m["calls"]] == [True] * len(shown)
    assert min(m["call_font_vmin"]) >= 5 and min(m["counter_number_vmin"]) >= 5, m
    assert 3 <= m["call_rows"] <= 6  # few rows, each large
    return shown


@pytest.fixture
def tv(chromium):
    """A TV's browser started without the autoplay flag: sound is refused until someone taps the screen."""
    ctx = chromium.new_context(viewport={"width": 1920, "height": 1080}, locale="vi-VN")
    ctx.add_init_script(AUTOPLAY_RULE)
    errors: list[str] = []

    def open_page(url):
        page = ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.wait_for_function("window.qmsDisplay && window.qmsDisplay.snapSeq >= 0", timeout=10_000)
        return page

    yield open_page
    ctx.close()
    assert errors == []


COVERED = """() => ['#hl-code', '#calls', '#counters', '#waiting'].filter((s) => {
    const e = document.querySelector(s), r = e.getBoundingClientRect();
    const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return !(top && (e === top || e.contains(top)));
})"""


def test_hall_board_fits_every_tv_size_and_blocked_sound_is_a_small_badge(centre, tv):
    srv, spec, _ = centre
    page = tv(display_url(srv, spec, spec["hall"]))
    wait_text(page, "#hl-code", spec["headline"][0])
    badge = page.locator("#sound-badge")
    badge.wait_for(state="visible")  # no autoplay flag: a badge, measured with the rest of the top bar
    seen = {}
    for size in TV_SIZES:
        m = measure_at(page, *size)
        seen[size] = check_board(m, spec, spec["headline"], size)
        # closed counters get no tile, only a count; the one on break keeps a small tile
        assert m["tiles"] == spec["tiles"]
        assert m["closed_note"].startswith("·") and m["closed_note"].endswith("quầy đóng")
        # department names are shown whole (shrunk or wrapped, never cut)
        assert m["departments"] == spec["departments"]
        # nothing covers the board: the middle of each panel is the panel itself; the badge is small, in the bar
        assert page.evaluate(COVERED) == []
        box, bar = badge.bounding_box(), page.locator(".bar").bounding_box()
        assert box["y"] >= bar["y"] and box["y"] + box["height"] <= bar["y"] + bar["height"]
        assert box["width"] * box["height"] < 0.02 * size[0] * size[1]
    assert len(set(map(tuple, seen.values()))) == 1  # the same calls at every size: the layout scales
    # a live change of the waiting counts draws the list again: the long names still fit
    dept, service = spec["queue"]
    count = f"#waiting [data-department={dept}] .w-num"
    before = int(page.inner_text(count))
    r = srv.post("/api/v1/tickets", {"service": service}, {"Authorization": "Bearer " + spec["kiosk"]})
    assert r.status_code == 201, r.text
    srv.clock.advance(seconds=1)  # the tick counts what is at least 300 ms old
    srv.tick()
    wait_text(page, count, str(before + 1))
    assert page.evaluate(MEASURE)["problems"] == []
    assert "Âm thanh đang tắt" in badge.inner_text()
    assert "--autoplay-policy=no-user-gesture-required" in badge.get_attribute("title")
    shot = save_shot(page, f"display-tv-{spec['hall']}-{spec['tiles'][0][5:]}.png")
    assert shot.stat().st_size > 10_000
    page.mouse.click(960, 540)  # a tap anywhere turns sound on
    badge.wait_for(state="hidden")
    assert page.get_attribute("body", "data-sound") == "on"
    if "long_hall" in spec:  # an 8-character number in the headline
        other = tv(display_url(srv, spec, spec["long_hall"], "voice=off"))
        wait_text(other, "#hl-code", spec["long_headline"][0])
        for size in TV_SIZES[:3]:
            m = measure_at(other, *size)
            assert m["problems"] == [], (size, m["problems"])
            assert (m["headline"], m["headline_counter"]) == spec["long_headline"]


def test_counter_display_shows_its_counters_state(centre, tv):
    srv, spec, sup = centre
    c = spec["screen_counter"]
    page = tv(display_url(srv, spec, spec["screen"], "voice=off"))
    label = page.locator(".cs-label")

    def state_shown(view, text, size=None):
        page.wait_for_function("v => document.querySelector('#cs').dataset.view === v", arg=view)
        wait_text(page, "#cs-status", text)
        assert label.is_hidden() and page.locator("#cs-code").is_hidden()
        if size:
            m = measure_at(page, *size)
            assert m["problems"] == [], m["problems"]

    state_shown("closed", "QUẦY ĐÃ ĐÓNG", (1280, 720))
    assert srv.post(f"/api/v1/counters/{c}/open", None, sup).status_code == 200
    state_shown("idle", "ĐANG MỞ")
    assert srv.post(f"/api/v1/counters/{c}/break", None, sup).status_code == 200
    state_shown("break", "TẠM NGHỈ", (1920, 1080))
    assert page.inner_text("#cs-status-en") == "On break"
    if spec is BIG:
        assert save_shot(page, f"display-counter-break-{c}.png").stat().st_size > 10_000
    assert srv.post(f"/api/v1/counters/{c}/open", None, sup).status_code == 200
    service = "civil" if c == "3" else "bhyt"
    r = srv.post("/api/v1/tickets", {"service": service}, {"Authorization": "Bearer " + spec["kiosk"]})
    code = r.json()["code"]
    r = srv.post(f"/api/v1/counters/{c}/next", {"current": None}, sup)
    assert r.status_code == 200, r.text
    wait_text(page, "#cs-code", code)
    for size in ((1280, 720), (1920, 1080)):
        m = measure_at(page, *size)
        assert m["problems"] == [], m["problems"]
        assert label.is_visible() and page.locator("#cs-status").is_hidden()
    assert srv.post(f"/api/v1/tickets/{r.json()['ticket']['id']}/finish", None, sup).status_code == 200
    state_shown("idle", "ĐANG MỞ")  # finished: the counter's state again, not an empty number
    assert srv.post(f"/api/v1/counters/{c}/close", None, sup).status_code == 200  # as the centre had it


# ------------------------------------------------------------------ the phone's status page
PHONE = {"width": 390, "height": 844}
NEXT = "Sắp đến lượt công dân — vui lòng chú ý màn hình"
NO_COUNTER = "Chưa có quầy nào mở cho dịch vụ này"
TIME_OVER = "Đã hết thời gian đánh giá lượt phục vụ này."
RATED = "Đã ghi nhận đánh giá. Xin cảm ơn!"

# Every element with text: not wider than its box, not outside the screen; large text (24 px or more) of the
# element's own words has a line-height of at least 1.25 times its size.
PHONE_MEASURE = """
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

@pytest.fixture
def phone(phone_pages):
    """A page of a phone the size of PHONE."""
    return lambda: phone_pages(PHONE)


def text(page, selector) -> str:
    return page.locator(selector).inner_text().strip()


def fits(page) -> dict:
    m = page.evaluate(PHONE_MEASURE)
    assert m["problems"] == [], m["problems"]
    assert m["page_width"] <= PHONE["width"]
    return m


def test_the_phone_page_fits_says_one_state_and_offers_rating_only_while_it_can(centre, phone):
    srv, spec, sup = centre
    c = spec["phone"]["counter"]
    r = srv.post("/api/v1/tickets", {"service": spec["phone"]["service"]}, {"Authorization": "Bearer " + spec["kiosk"]})
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert ticket["code"] in ("2001", "BHYT0001", "BHYT0002")  # 4 and 8 characters
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
    if spec is BIG:
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

    # rated from the phone: a page opened now thanks instead of offering the link again
    r = srv.post("/api/v1/ratings", {"id": f"phone-{ticket['id']}-1", "counter": c, "ticket_token": ticket["token"],
                                     "level": 3, "age_ms": 0})
    assert r.status_code == 201, r.text
    rated = page.context.new_page()
    rated.goto(f"{srv.url}/t/{ticket['token']}")
    wait_text(rated, "#rate-note", RATED)
    assert rated.locator("#rate-link").is_hidden()
    # a page opened after the window (the server's clock has moved on) never offers the link
    srv.clock.advance(seconds=window_ms / 1000 + 1)
    later = page.context.new_page()
    later.goto(f"{srv.url}/t/{ticket['token']}")
    wait_text(later, "#rate-note", TIME_OVER)
    assert later.locator("#rate-link").is_hidden()
    assert srv.get(f"/api/v1/rate/{c}?ticket={ticket['token']}").json()["target"] is None
    assert srv.post(f"/api/v1/counters/{c}/close", None, sup).status_code == 200
