"""Remote walk-in numbers in Debian's chromium, on the big city centre (names of 80+ characters, 70 counters):
the hall board shows the QR code of this minute (its text checked against the server's, not decoded from
pixels), and the box and the code fit the board in landscape and portrait; a phone at 360 px opens the code's
address, reads the page in Vietnamese (and English), takes a number with a mobile number and lands on the
ticket's status page, nothing wider than its box. The demo's board (config.yaml: hall-a, with its notice bar)
fits the code too, and renews it as the next minute starts. Both centres are served from this process on a fixed clock (tests/live_site.py), so the
code stays that of one minute throughout."""
from __future__ import annotations

import pytest
import yaml

from conftest import Clock
from inproc import InProcessServer
from live_site import LiveSite
from server_util import ROOT, big_server_config, morning_zone
from test_public_screens import MEASURE

pytestmark = pytest.mark.browser

TOKEN = "big-display-hall-a-token"
PUBLIC = "https://dichvucong.example.gov.vn"  # the centre's public address, written into the code


def live(tmp, data: dict, clock) -> LiveSite:
    """The centre served to the browser from this process, on a fixed clock (the code of one minute throughout)."""
    data["centre"]["public_url"] = PUBLIC
    path = tmp / "centre.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return LiveSite(InProcessServer(path, tmp / "qms.sqlite3", clock))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("remotebig")
    clock = Clock()
    data = yaml.safe_load(big_server_config(tmp, now=clock()).read_text(encoding="utf-8"))
    for dept in data["departments"]:
        if dept.get("zone") == "A":
            for svc in dept["services"]:
                svc["remote_walk_in"] = True
    data["remote"] = {"displays": ["hall-a"]}
    srv = live(tmp, data, clock)
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("remotedemo")
    clock = Clock()
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["centre"]["timezone"] = morning_zone(clock())
    data["queue"]["always_open"] = True
    data["catalogue"]["file"] = ""  # the procedure search is not what is measured here
    srv = live(tmp, data, clock)
    yield srv
    srv.close()


def server_code(server, token=TOKEN) -> tuple[str, str]:
    """The server's code of this minute: (its address, its SVG)."""
    r = server.get("/api/v1/displays/hall-a/remote-qr", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return r.json()["url"], r.json()["svg"]


BOX = """() => {
    const box = document.querySelector('#remote-qr'), img = document.querySelector('#rq-img');
    const b = box.getBoundingClientRect(), i = img.getBoundingClientRect();
    const over = [...document.querySelectorAll('.grid > section, .grid > section *, .bar *')]
        .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflow !== 'visible')
        .map(e => (e.id || e.className) + ': ' + e.textContent.slice(0, 40));
    return {inside: i.left >= b.left - 0.5 && i.right <= b.right + 0.5 && i.top >= b.top - 0.5 && i.bottom <= b.bottom + 0.5,
            square: Math.abs(i.width - i.height) < 1, side: i.width, loaded: img.complete && img.naturalWidth > 0,
            boxFits: box.scrollWidth <= box.clientWidth && box.scrollHeight <= box.clientHeight + 1,
            texts: [...box.querySelectorAll('h2, .rq-note')].every(e => e.scrollWidth <= e.clientWidth + 1 && e.getBoundingClientRect().bottom <= b.bottom + 0.5),
            page: document.documentElement.scrollWidth <= document.documentElement.clientWidth, over,
            vmin: Math.min(innerWidth, innerHeight)};
}"""


def fits_both_ways(board) -> None:
    for viewport in ({"width": 1920, "height": 1080}, {"width": 1080, "height": 1920}):
        board.set_viewport_size(viewport)
        board.wait_for_timeout(150)
        m = board.evaluate(BOX)
        assert m["loaded"] and m["inside"] and m["square"] and m["boxFits"] and m["texts"] and m["page"], (viewport, m)
        assert m["over"] == [], (viewport, m["over"])
        assert m["side"] >= 0.22 * m["vmin"], (viewport, m)  # large enough to scan from a few metres
        assert board.evaluate(MEASURE)["problems"] == [], viewport  # the whole board: no text cut or outside its panel


def test_the_hall_board_shows_the_code_of_this_minute_and_a_phone_takes_a_number(chromium, server):
    ctx = chromium.new_context(viewport={"width": 1920, "height": 1080}, locale="vi-VN")
    try:
        board = ctx.new_page()
        board.goto(f"{server.url}/display/hall-a?token={TOKEN}")
        board.wait_for_selector("#remote-qr[data-state=shown]", timeout=10_000)
        before = board.get_attribute("#remote-qr", "data-url")
        shown = board.evaluate("decodeURIComponent(document.querySelector('#rq-img').src.split(',')[1])")
        assert (before, shown) == server_code(server)  # the server's code of this minute
        assert before.startswith(f"{PUBLIC}/lay-so/hall-a?m=")
        assert board.text_content("#remote-qr h2") == "Lấy số bằng điện thoại" and "Scan to take a number by phone" in board.inner_text("#remote-qr")
        fits_both_ways(board)
    finally:
        ctx.close()

    phone_ctx = chromium.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN", is_mobile=True, has_touch=True)
    try:
        phone = phone_ctx.new_page()
        phone.goto(before.replace(PUBLIC, server.url))  # this server stands for the public address
        assert phone.inner_text("h1") == "Lấy số thứ tự"
        names = phone.locator(".s-name").all_inner_texts()
        assert len(names) == 3 and all(len(n) >= 40 for n in names[:2]) and "Màn hình khu A — tầng 1" in phone.inner_text("#where")
        narrow = """() => document.documentElement.scrollWidth <= document.documentElement.clientWidth &&
            [...document.querySelectorAll('main *, header *')].filter(e => e.offsetParent !== null)
              .every(e => e.getBoundingClientRect().right <= innerWidth + 0.5 && e.scrollWidth <= e.clientWidth + 1)"""
        assert phone.evaluate(narrow)
        phone.click("#lang-en")
        assert phone.inner_text("h1") == "Take a number" and phone.inner_text("#take-number") == "Take a number"
        phone.click("#lang-vi")
        phone.click("#take-number")
        assert phone.inner_text("#error") == "Vui lòng chọn một dịch vụ."
        phone.locator(".service").first.click()
        phone.fill("#phone", "0912 345 678")
        phone.click("#take-number")
        phone.wait_for_url("**/t/**", timeout=10_000)
        code = phone.inner_text("#code")
        token = phone.url.rsplit("/t/", 1)[1]
        status = server.get(f"/api/v1/status/{token}").json()
        assert code == status["code"] and status["status"] == "waiting" and status["service_name"] == names[0]
        assert phone.evaluate(narrow)
        phone.goto(server_code(server)[0].replace(PUBLIC, server.url))  # the same browser scans again: its number is listed, a second one refused
        assert code in phone.inner_text("#held")
        phone.locator(".service").first.click()
        phone.click("#take-number")
        phone.wait_for_selector("#error:not([hidden])")
        assert f"Công dân đã có số {code} cho dịch vụ này." in phone.inner_text("#error")
    finally:
        phone_ctx.close()


def test_the_demo_board_fits_the_code(chromium, demo):
    ctx = chromium.new_context(viewport={"width": 1920, "height": 1080}, locale="vi-VN")
    try:
        board = ctx.new_page()
        demo.clock.advance(seconds=59.7)  # the last moments of a minute: the board asks again as the next one starts
        board.goto(f"{demo.url}/display/hall-a?token=demo-display-hall-a-token")
        board.wait_for_selector("#remote-qr[data-state=shown]", timeout=10_000)
        minute = int(board.get_attribute("#remote-qr", "data-minute"))
        demo.clock.advance(seconds=1)
        board.wait_for_function(f"document.querySelector('#remote-qr').dataset.minute === '{minute + 1}'", timeout=5_000)
        assert (board.get_attribute("#remote-qr", "data-url"), board.evaluate(
            "decodeURIComponent(document.querySelector('#rq-img').src.split(',')[1])")) == server_code(demo, "demo-display-hall-a-token")
        assert board.is_visible("#notice-bar")  # the demo's notice takes its row under the board
        fits_both_ways(board)
        sup = demo.login("supervisor", "demo-supervisor")  # no service open by phone: no code, a word instead
        for service in ("can_cuoc", "tra_ket_qua"):
            assert demo.post(f"/api/v1/services/{service}", {"state": "closed"}, sup).status_code == 200
        board.reload()
        board.wait_for_selector("#remote-qr[data-state=closed]", timeout=10_000)
        assert not board.is_visible("#rq-img") and board.is_visible(".rq-closed")
        assert board.inner_text(".rq-closed").startswith("Hiện chưa nhận số qua điện thoại")
        assert board.evaluate(MEASURE)["problems"] == []
    finally:
        ctx.close()
