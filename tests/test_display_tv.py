"""The hall and counter displays at TV sizes (1280x720, 1920x1080, 3840x2160) over both test centres (the demo
test centre and the big city centre: counters 101-170, codes of up to 8 characters, 80+ character names), in
Debian's chromium, measured by script: no number, counter or name is wider or taller than its box, the last
calls show whole codes and counter numbers in few large rows (at least 5vmin), closed counters get no tile,
the counter display shows its counter's state, and blocked sound is a small badge, never a cover over the board.
"""
from __future__ import annotations

import pytest
import yaml

from conftest import Clock
from inproc import InProcessServer
from live_site import LiveSite
from server_util import big_server_config, server_config
from test_display_page import AUTOPLAY_RULE
from test_terminal_page import save_shot, wait_text

pytestmark = pytest.mark.browser

TV_SIZES = ((1280, 720), (1920, 1080), (3840, 2160))

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
}


def demo_config(tmp, now):
    path = server_config(tmp, extra_counters=2, now=now)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
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
    ctx = chromium.new_context(viewport={"width": 1920, "height": 1080}, locale="vi-VN")
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


def test_hall_board_fits_every_tv_size(centre, tv):
    srv, spec, _ = centre
    page = tv(display_url(srv, spec, spec["hall"], "voice=off"))
    wait_text(page, "#hl-code", spec["headline"][0])
    seen = {}
    for size in TV_SIZES:
        m = measure_at(page, *size)
        seen[size] = check_board(m, spec, spec["headline"], size)
        # closed counters get no tile, only a count; the one on break keeps a small tile
        assert m["tiles"] == spec["tiles"]
        assert m["closed_note"].startswith("·") and m["closed_note"].endswith("quầy đóng")
        # department names are shown whole (shrunk or wrapped, never cut)
        assert m["departments"] == spec["departments"]
    assert len(set(map(tuple, seen.values()))) == 1  # the same calls at every size: the layout scales
    save_shot(page, f"display-tv-{spec['hall']}-{spec['tiles'][0][5:]}.png")
    if "long_hall" in spec:  # an 8-character number in the headline
        other = tv(display_url(srv, spec, spec["long_hall"], "voice=off"))
        wait_text(other, "#hl-code", spec["long_headline"][0])
        for size in TV_SIZES:
            m = measure_at(other, *size)
            assert m["problems"] == [], (size, m["problems"])
            assert (m["headline"], m["headline_counter"]) == spec["long_headline"]
        shot = save_shot(other, "display-tv-long-code.png")
        assert shot.stat().st_size > 10_000


def test_counter_display_shows_its_counters_state(centre, tv):
    srv, spec, sup = centre
    c = spec["screen_counter"]
    page = tv(display_url(srv, spec, spec["screen"], "voice=off"))
    label = page.locator(".cs-label")

    def state_shown(view, text, size=(1280, 720)):
        page.wait_for_function("v => document.querySelector('#cs').dataset.view === v", arg=view)
        wait_text(page, "#cs-status", text)
        m = measure_at(page, *size)
        assert m["problems"] == [], m["problems"]
        assert label.is_hidden() and page.locator("#cs-code").is_hidden()

    state_shown("closed", "QUẦY ĐÃ ĐÓNG")
    assert srv.post(f"/api/v1/counters/{c}/open", None, sup).status_code == 200
    state_shown("idle", "ĐANG MỞ")
    assert srv.post(f"/api/v1/counters/{c}/break", None, sup).status_code == 200
    state_shown("break", "TẠM NGHỈ", (1920, 1080))
    assert page.inner_text("#cs-status-en") == "On break"
    save_shot(page, f"display-counter-break-{c}.png")
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
    assert srv.post(f"/api/v1/counters/{c}/close", None, sup).status_code == 200
    state_shown("closed", "QUẦY ĐÃ ĐÓNG")


def test_blocked_sound_is_a_small_badge_and_the_board_stays_visible(centre, chromium):
    srv, spec, _ = centre
    ctx = chromium.new_context(viewport={"width": 1920, "height": 1080}, locale="vi-VN")
    try:
        ctx.add_init_script(AUTOPLAY_RULE)
        page = ctx.new_page()
        page.goto(display_url(srv, spec, spec["hall"]))
        page.wait_for_function("window.qmsDisplay && window.qmsDisplay.snapSeq >= 0", timeout=10_000)
        wait_text(page, "#hl-code", spec["headline"][0])
        badge = page.locator("#sound-badge")
        badge.wait_for(state="visible")
        assert "Âm thanh đang tắt" in badge.inner_text()
        assert "--autoplay-policy=no-user-gesture-required" in badge.get_attribute("title")
        # nothing covers the board: the middle of each panel is the panel itself, and the badge sits in the top bar
        covered = page.evaluate("""() => ['#hl-code', '#calls', '#counters', '#waiting'].filter((s) => {
            const e = document.querySelector(s), r = e.getBoundingClientRect();
            const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
            return !(top && (e === top || e.contains(top)));
        })""")
        assert covered == []
        box, bar = badge.bounding_box(), page.locator(".bar").bounding_box()
        assert box["y"] >= bar["y"] and box["y"] + box["height"] <= bar["y"] + bar["height"]
        assert box["width"] * box["height"] < 0.02 * 1920 * 1080
        shot = save_shot(page, f"display-sound-badge-{spec['tiles'][0][5:]}.png")
        assert shot.stat().st_size > 10_000
        page.mouse.click(960, 540)  # a tap anywhere turns sound on
        badge.wait_for(state="hidden")
        assert page.get_attribute("body", "data-sound") == "on"
    finally:
        ctx.close()
