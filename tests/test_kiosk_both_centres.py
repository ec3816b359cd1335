"""The kiosk in Debian's chromium over both test centres (the big city centre here: long names, codes like
LLTP0001; the small test centre in test_kiosk_page.py, on that module's server, with `check_kiosk`) at both kiosk sizes (1080x1920 portrait, 1920x1080 landscape), measured as a citizen
sees it: nothing wider than its box; the search icon is an inline SVG that draws; English mode shows the English
field, processing time, fee and kiosk name; a procedure handled elsewhere says where to go and issues no ticket;
in portrait at least three results stay visible above the on-screen keyboard and the list scrolls; the idle
return comes back in Vietnamese."""
from __future__ import annotations

import pytest
import yaml

from conftest import ARTIFACTS
from server_util import ServerProcess, big_server_config

pytestmark = pytest.mark.browser

PORTRAIT = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1920, "height": 1080}
IDLE = 6

HEADER = "code,name,name_en,field,field_en,service,processing_time,processing_time_en,fee,fee_en,elsewhere,elsewhere_en\n"


def big_catalogue() -> str:
    """Procedures of the big centre with 80+ character names, English values, and one handled at commune level."""
    rows = [HEADER.strip()]
    for i in range(1, 13):
        rows.append(f'2.00{i:04d},"Cấp Phiếu lý lịch tư pháp số {i} cho công dân Việt Nam và người nước ngoài đang cư trú '
                    f'tại Việt Nam (nộp hồ sơ trực tiếp)",Criminal record certificate no. {i},Lý lịch tư pháp,Criminal records,'
                    f'ly_lich,10 ngày làm việc,10 working days,200.000 đồng,"VND 200,000",,')
    rows.append('1.001193,Đăng ký khai sinh,Birth registration,Hộ tịch,Civil status,,Ngay trong ngày,The same day,Không,None,'
                '"Ủy ban nhân dân xã, phường nơi cư trú (thủ tục cấp xã)",the commune or ward People\'s Committee where you live')
    return "\n".join(rows) + "\n"


CENTRES = {
    # centre: (kiosk name_en, English procedure code, its English values, elsewhere code, its place in English, broad query)
    "test": ("Ticket machine 1", "2.000909", ("Criminal records", "10 working days", "VND 200,000"), "1.001022",
             "the commune police where you live", "dang ky"),
    "big": ("Ticket machine 1 — main hall, ground floor", "2.000003", ("Criminal records", "10 working days", "VND 200,000"),
            "1.001193", "the commune or ward People's Committee where you live", "ly lich"),
}


@pytest.fixture(scope="module")
def big_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kioskbig")
    path = big_server_config(tmp)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cat = tmp / "procedures.csv"
    cat.write_text(big_catalogue(), encoding="utf-8")
    data["catalogue"] = {"file": str(cat)}
    data["devices"]["kiosks"][0].update({"name_en": CENTRES["big"][0], "idle_seconds": IDLE})
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    srv = ServerProcess(path, tmp / "qms.sqlite3", "eventlet").start()
    yield srv
    srv.stop()


OVERFLOWS = """sel => [...document.querySelectorAll(sel)].filter(e => e.offsetParent !== null)
    .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => (e.id || e.className) + ': ' + e.textContent.slice(0, 60))"""


def fits(page) -> None:
    """The page is no wider than the screen, and no tile, result or text in them is wider than its box."""
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert page.evaluate(OVERFLOWS, ".tile, .tile *, .item, .item *, .search-open, .top *") == []


def whole_results_in_view(page) -> int:
    """Results wholly inside the list's box and not under the keyboard (when the keyboard is below the list)."""
    return page.evaluate("""() => {
        const box = document.querySelector('#search-results').getBoundingClientRect();
        const kb = document.querySelector('#keyboard').getBoundingClientRect();
        const below = kb.left < box.right && kb.right > box.left;  // the keyboard under the list, not beside it
        const bottom = Math.min(box.bottom, below ? kb.top : Infinity, window.innerHeight);
        return [...document.querySelectorAll('#search-results [data-procedure]')]
            .map(e => e.getBoundingClientRect()).filter(r => r.top >= box.top - 1 && r.bottom <= bottom + 1).length;
    }""")


def test_kiosk_in_the_big_centre_at_both_sizes(chromium, big_server):
    check_kiosk(chromium, big_server, "big-kiosk-token-1", "big")


def check_kiosk(chromium, server, token: str, centre: str, idle: int = IDLE) -> None:
    """One page of a centre's kiosk-1, measured at 1080x1920 and again at 1920x1080 (CENTRES[centre] names what
    to look for; `idle`: the kiosk's idle_seconds)."""
    name_en, en_code, en_values, away_code, away_en, broad = CENTRES[centre]
    context = chromium.new_context(viewport=PORTRAIT, locale="vi-VN", has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        page.clock.install()
        page.goto(f"{server.url}/kiosk/kiosk-1?token={token}")
        page.wait_for_selector("#departments [data-department]")
        for viewport in (PORTRAIT, LANDSCAPE):
            page.set_viewport_size(viewport)
            fits(page)
            icon = page.locator("#search-open svg").bounding_box()
            assert icon and icon["width"] >= 16 and icon["height"] >= 16, "the search icon draws without an emoji font"
        page.set_viewport_size(PORTRAIT)

        # English: the kiosk's own English name, and the catalogue's English values.
        page.locator("#lang-en").tap()
        assert page.locator("#kiosk-name").inner_text() == name_en
        page.locator("#search-open").tap()
        page.locator("#search-input").fill(en_code)
        page.wait_for_function("c => document.querySelector('#search-results [data-procedure]')?.dataset.procedure === c",
                               arg=en_code)
        shown = page.locator(f"#search-results [data-procedure='{en_code}']").inner_text()
        assert all(v in shown for v in en_values), shown
        assert "ngày làm việc" not in shown and "đồng" not in shown and "Lý lịch tư pháp ·" not in shown

        # Handled elsewhere: says where, and a touch issues no ticket but says it again.
        page.locator("#search-input").fill(away_code)
        away = page.locator(f"#search-results [data-procedure='{away_code}']")
        away.wait_for()
        assert away.get_attribute("data-state") == "elsewhere"
        assert "Not handled at this centre" in away.inner_text() and away_en in away.inner_text()
        away.tap()
        page.wait_for_selector("#modal:not([hidden])")
        assert away_en in page.locator("#modal-text").inner_text()
        with page.expect_response(lambda r: r.url.endswith("/healthz")):
            page.evaluate("fetch('/healthz')")
        assert not any(u.endswith("/api/v1/tickets") for u in posts), "no ticket for a procedure handled elsewhere"
        page.locator("#modal-ok").tap()

        # Many results and the keyboard: in portrait at least three whole results above it (it is under the list),
        # in landscape at least two beside it; the list scrolls.
        page.locator("#lang-vi").tap()
        page.locator("#search-input").fill(broad)
        page.wait_for_function("document.querySelectorAll('#search-results [data-procedure]').length >= 4")
        for viewport, least in ((PORTRAIT, 3), (LANDSCAPE, 2)):
            page.set_viewport_size(viewport)
            fits(page)
            shot = ARTIFACTS / f"kiosk-{centre}-{viewport['width']}x{viewport['height']}-search.png"
            page.screenshot(path=str(shot))
            seen = whole_results_in_view(page)
            assert seen >= least, f"{seen} whole results in view at {viewport}"
            kb = page.locator("#keyboard").bounding_box()
            assert kb["y"] + kb["height"] <= viewport["height"] + 1 and kb["x"] + kb["width"] <= viewport["width"] + 1
            assert shot.stat().st_size > 10_000
        scrolls = page.evaluate("""() => { const b = document.querySelector('#search-results');
            if (b.scrollHeight <= b.clientHeight) return getComputedStyle(b).overflowY === 'auto';
            b.scrollTop = 200; return b.scrollTop > 0; }""")
        assert scrolls

        # Back to English, then untouched: the kiosk returns to its start screen in Vietnamese.
        page.locator("#lang-en").tap()
        assert page.evaluate("document.documentElement.lang") == "en"
        page.clock.run_for((idle + 1) * 1000)
        page.wait_for_selector("#screen-home:not([hidden])", timeout=3000)
        assert page.locator("#lang-vi").get_attribute("aria-pressed") == "true"
        assert page.evaluate("document.documentElement.lang") == "vi"
        assert page.locator("#screen-home h1").inner_text() == "Chọn cơ quan, đơn vị giải quyết"
        assert page.locator("#kiosk-name").inner_text() != name_en
    finally:
        context.close()
    assert not errors, errors
