"""Remote walk-in numbers in Debian's chromium, on the big city centre (names of 80+ characters, 70 counters):
the hall board shows the QR code of this minute (its text checked against the server's, not decoded from
pixels), and the box and the code fit the board in landscape and portrait; a phone at 360 px opens the code's
address, reads the page in Vietnamese (and English), takes a number with a mobile number and lands on the
ticket's status page, nothing wider than its box. The demo's board (config.yaml: hall-a, with its notice bar)
fits the code too."""
from __future__ import annotations

import pytest
import requests
import yaml

from server_util import ROOT, ServerProcess, big_server_config, free_port, morning_zone

pytestmark = pytest.mark.browser

TOKEN = "big-display-hall-a-token"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("remotebig")
    path = big_server_config(tmp)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    port = free_port()
    data["centre"]["public_url"] = f"http://127.0.0.1:{port}"  # the address in the code: this server
    for dept in data["departments"]:
        if dept.get("zone") == "A":
            for svc in dept["services"]:
                svc["remote_walk_in"] = True
    data["remote"] = {"displays": ["hall-a"]}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    srv = ServerProcess(path, tmp / "qms.sqlite3", "eventlet", port=port).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("remotedemo")
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    port = free_port()
    data["centre"].update(timezone=morning_zone(), public_url=f"http://127.0.0.1:{port}")
    data["queue"]["always_open"] = True
    data["catalogue"]["file"] = ""  # the procedure search is not what is measured here
    path = tmp / "demo.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    srv = ServerProcess(path, tmp / "qms.sqlite3", "eventlet", port=port).start()
    yield srv
    srv.stop()


def server_code(server, token=TOKEN) -> tuple[str, str]:
    """The server's code of this minute: (its address, its SVG)."""
    r = requests.get(f"{server.url}/api/v1/displays/hall-a/remote-qr", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    r.raise_for_status()
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


def test_the_hall_board_shows_the_code_of_this_minute_and_a_phone_takes_a_number(chromium, server):
    ctx = chromium.new_context(viewport={"width": 1920, "height": 1080}, locale="vi-VN")
    try:
        board = ctx.new_page()
        first = server_code(server)
        board.goto(f"{server.url}/display/hall-a?token={TOKEN}")
        board.wait_for_selector("#remote-qr[data-state=shown]", timeout=10_000)
        before = board.get_attribute("#remote-qr", "data-url")
        shown = board.evaluate("decodeURIComponent(document.querySelector('#rq-img').src.split(',')[1])")
        assert (before, shown) in (first, server_code(server))  # the server's code of this minute (or the next, at a boundary)
        assert before.startswith(f"{server.url}/lay-so/hall-a?m=")
        assert board.text_content("#remote-qr h2") == "Lấy số bằng điện thoại" and "Scan to take a number by phone" in board.inner_text("#remote-qr")
        fits_both_ways(board)
    finally:
        ctx.close()

    phone_ctx = chromium.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN", is_mobile=True, has_touch=True)
    try:
        phone = phone_ctx.new_page()
        phone.goto(before)
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
        status = requests.get(f"{server.url}/api/v1/status/{token}", timeout=5).json()
        assert code == status["code"] and status["status"] == "waiting" and status["service_name"] == names[0]
        assert phone.evaluate(narrow)
        phone.go_back()  # the same browser again: its number is listed, and a second one of that service refused
        phone.reload()
        assert code in phone.inner_text("#held")
        phone.locator(".service").first.click()
        phone.click("#take-number")
        phone.wait_for_selector("#error:not([hidden])")
        assert f"Bạn đã có số {code} cho dịch vụ này." in phone.inner_text("#error")
    finally:
        phone_ctx.close()


def test_the_demo_board_fits_the_code(chromium, demo):
    ctx = chromium.new_context(viewport={"width": 1920, "height": 1080}, locale="vi-VN")
    try:
        board = ctx.new_page()
        board.goto(f"{demo.url}/display/hall-a?token=demo-display-hall-a-token")
        board.wait_for_selector("#remote-qr[data-state=shown]", timeout=10_000)
        assert board.get_attribute("#remote-qr", "data-url").startswith(f"{demo.url}/lay-so/hall-a?m=")
        assert board.is_visible("#notice-bar")  # the demo's notice takes its row under the board
        fits_both_ways(board)
    finally:
        ctx.close()
