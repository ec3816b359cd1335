"""The ticket status page (the slip's QR link) on a phone-sized Debian chromium against a real server: the
people ahead and the serving counters update live; a call shows the counter large, vibrates and beeps; after
service it links to the rating page."""
from __future__ import annotations

import pytest

from conftest import ARTIFACTS
from server_util import KIOSK, ServerProcess, server_config

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# Records what the page asks of the phone: vibration patterns and tones started (the real APIs still run).
INSTRUMENT = """
window.__vibrations = [];
Object.defineProperty(Navigator.prototype, 'vibrate', {configurable: true,
  value: function (pattern) { window.__vibrations.push(pattern); return true; }});
window.__tones = 0;
const realStart = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...args) { window.__tones += 1; return realStart.apply(this, args); };
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("status")
    srv = ServerProcess(server_config(tmp), tmp / "qms.sqlite3", "eventlet").start()
    yield srv
    srv.stop()


@pytest.fixture
def phone(chromium):
    def make(locale="vi-VN"):
        context = chromium.new_context(viewport=PHONE, locale=locale, is_mobile=True, has_touch=True,
                                       device_scale_factor=2)
        context.add_init_script(INSTRUMENT)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        return page

    contexts: list = []
    errors: list[str] = []
    yield make
    for c in contexts:
        c.close()
    assert not errors, errors


def issue(server, service="cccd") -> dict:
    r = server.post("/api/v1/tickets", {"service": service}, KIOSK)
    assert r.status_code == 201, r.text
    return r.json()


def text(page, selector) -> str:
    return page.locator(selector).inner_text()


def wait_text(page, selector, expected, timeout=5000):
    page.wait_for_function("([s, t]) => document.querySelector(s) && document.querySelector(s).innerText.trim() === t",
                           arg=[selector, expected], timeout=timeout)


def test_status_page_follows_the_queue_and_the_call(server, phone):
    staff = server.login("canbo1", "test-staff")
    first, mine = issue(server), issue(server)
    page = phone()
    page.goto(f"{server.url}/t/{mine['token']}")
    assert text(page, "#code") == mine["code"]
    assert text(page, "#service") == "Cấp đổi căn cước" and text(page, "#department") == "Công an tỉnh"
    wait_text(page, "#conn", "Đang theo dõi trực tiếp")
    assert text(page, "#ahead") == "1"
    assert text(page, "#serving") == "Chưa có quầy nào mở cho dịch vụ này"

    page.locator("#alerts-on").tap()  # the tap that lets the page sound and vibrate later
    wait_text(page, "#alerts-state", "Âm thanh và rung: đã bật")
    tones = page.evaluate("window.__tones")
    assert tones >= 1

    # A counter opens for the service: the page lists it without a reload.
    assert server.post("/api/v1/counters/1/open", None, staff).status_code == 200
    wait_text(page, "#serving", "Quầy đang phục vụ: Quầy 1")
    # The ticket ahead is called: nobody is ahead any more.
    r = server.post("/api/v1/counters/1/next", {"current": None}, staff)
    assert r.status_code == 200 and r.json()["ticket"]["id"] == first["id"]
    wait_text(page, "#ahead", "0")
    assert text(page, "#status-text") == "Sắp đến lượt công dân — vui lòng chú ý màn hình"
    assert page.evaluate("window.__vibrations") == [80]

    # Our turn: the counter large, a vibration and a chime.
    r = server.post("/api/v1/counters/1/next", {"current": first["id"]}, staff)
    assert r.json()["ticket"]["id"] == mine["id"]
    page.wait_for_selector("#call:not([hidden])", timeout=5000)
    assert text(page, "#call-head").lower() == "mời công dân đến"
    assert text(page, "#call-counter") == "QUẦY 1"
    assert page.locator("#call-counter").evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 60
    assert page.evaluate("window.__vibrations")[-1] == [400, 200, 400, 200, 800]
    assert page.evaluate("window.__tones") >= tones + 4
    assert page.title() == "🔔 Mời đến quầy 1"
    assert page.locator("#ahead-box").is_hidden()
    page.screenshot(path=str(ARTIFACTS / "status-called.png"))

    # A recall alerts again.
    vibrations = len(page.evaluate("window.__vibrations"))
    assert server.post(f"/api/v1/tickets/{mine['id']}/recall", None, staff).status_code == 200
    page.wait_for_function("n => window.__vibrations.length > n", arg=vibrations, timeout=5000)

    assert server.post(f"/api/v1/tickets/{mine['id']}/start", None, staff).status_code == 200
    wait_text(page, "#status-text", "Công dân đang được phục vụ tại quầy 1")
    assert page.locator("#call").is_hidden()
    assert server.post(f"/api/v1/tickets/{mine['id']}/finish", None, staff).status_code == 200
    wait_text(page, "#status-text", "Đã hoàn thành. Cảm ơn công dân!")
    rate = page.locator("#rate-link")
    rate.wait_for(state="visible")  # once the server said the rating window is open (tests/test_status_phone.py)
    assert rate.is_visible() and rate.inner_text() == "Đánh giá"
    assert rate.get_attribute("href") == f"/rate/1?ticket={mine['token']}"

    page.locator("#lang-en").tap()
    assert text(page, "#status-text") == "Done. Thank you!" and rate.inner_text() == "Rate the service"
    assert text(page, "#service") == "Identity card"
    server.post("/api/v1/counters/1/close", None, staff)


def test_a_page_opened_after_the_call_shows_it_without_alerting_then_no_show(server, phone):
    staff = server.login("canbo1", "test-staff")
    t = issue(server, "passport")
    assert server.post("/api/v1/counters/2/open", None, staff).status_code == 200
    try:
        r = server.post("/api/v1/counters/2/call", {"code": t["code"]}, staff)
        assert r.status_code == 200, r.text
        page = phone()
        page.goto(f"{server.url}/t/{t['token']}")
        assert text(page, "#call-counter") == "QUẦY 2"  # rendered by the server-side data, before any push
        wait_text(page, "#conn", "Đang theo dõi trực tiếp")
        assert server.post(f"/api/v1/tickets/{t['id']}/no-show", None, staff).status_code == 200
        wait_text(page, "#status-text", "Số thứ tự đã được gọi nhưng công dân vắng mặt. Vui lòng liên hệ bàn hướng dẫn.")
        # the no-show came live after the page had shown the call: an alert for the call would be here by now
        assert page.evaluate("window.__vibrations") == [], "only a live call alerts"
        assert page.locator("#call").is_hidden() and page.locator("#rate-link").is_hidden()
    finally:
        server.post("/api/v1/counters/2/close", None, staff)


def test_transfer_and_english_phone(server, phone):
    staff = server.login("canbo1", "test-staff")
    t = issue(server, "cccd")
    page = phone("en-US")
    page.goto(f"{server.url}/t/{t['token']}")
    wait_text(page, "#conn", "Following live")
    assert page.locator("[data-t=your_number]").text_content() == "Your number" and text(page, "#service") == "Identity card"
    assert server.post("/api/v1/counters/1/open", None, staff).status_code == 200
    try:
        r = server.post("/api/v1/counters/1/call", {"code": t["code"]}, staff)
        assert r.status_code == 200
        wait_text(page, "#call-counter", "COUNTER 1")
        r = server.post(f"/api/v1/tickets/{t['id']}/transfer", {"service": "passport"}, staff)
        assert r.status_code == 200, r.text
        wait_text(page, "#service", "Passport")
        page.wait_for_function("document.querySelector('#status-text').innerText.startsWith('Your ticket was moved to: Passport')")
        assert page.locator("#call").is_hidden()
        page.wait_for_selector("#ahead-box:not([hidden])", timeout=5000)  # its place in the new queue follows
        assert text(page, "#ahead") == "0"
    finally:
        server.post("/api/v1/counters/1/close", None, staff)


def test_unknown_ticket_and_the_qr_code(site):
    server = site  # plain HTTP: the server in this process
    r = server.get("/t/no-such-token")
    assert r.status_code == 404 and "Không tìm thấy số này" in r.text and "text/html" in r.headers["Content-Type"]
    t = issue(server)
    r = server.get(f"/t/{t['token']}")
    assert r.status_code == 200 and t["code"] in r.text
    assert r.headers["Cache-Control"] == "no-store" and r.headers["Referrer-Policy"] == "no-referrer"
    r = server.get(f"/t/{t['token']}/qr.svg")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("image/svg+xml") and b"<svg" in r.content[:200]
    assert server.get("/t/no-such-token/qr.svg").status_code == 404
