"""The kiosk page in Debian's chromium (Playwright) against a real server process: touch a department, a
service, see the ticket and its print state; closed and full services greyed with why; Vietnamese / English;
the catalogue search typed with and without diacritics; the idle timeout; the kiosk token kept out of pages."""
from __future__ import annotations

import json
import socket
import threading
import time

import pytest
import requests
import yaml

from conftest import ARTIFACTS
from server_util import KIOSK, ServerProcess, free_port
from test_catalogue import catalogue_server_config
from test_kiosk_both_centres import CENTRES, check_kiosk
from test_kiosk_setup import catalogue_with_extras

pytestmark = pytest.mark.browser

PORTRAIT = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1920, "height": 1080}


class PrinterSink:
    """A raw TCP receipt printer on 127.0.0.1:port that keeps what each connection sent (no status replies)."""

    def __init__(self, port: int):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.jobs: list[bytes] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            data = bytearray()
            conn.settimeout(2)
            try:
                while chunk := conn.recv(65536):
                    data += chunk
            except OSError:
                pass
            conn.close()
            self.jobs.append(bytes(data))

    def close(self):
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


@pytest.fixture(scope="module")
def printer_port():
    return free_port()


@pytest.fixture(scope="module")
def server(tmp_path_factory, printer_port):
    tmp = tmp_path_factory.mktemp("kiosk")
    path = catalogue_server_config(tmp, idle_seconds=5, catalogue=catalogue_with_extras())
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["devices"]["kiosks"][0]["name_en"] = CENTRES["test"][0]
    data["devices"]["printers"] = [
        {"id": "printer-1", "backend": "preview", "output_dir": str(tmp / "prints")},
        {"id": "printer-net", "backend": "network", "host": "127.0.0.1", "port": printer_port, "timeout_seconds": 2,
         "status_query": False},
    ]
    data["devices"]["kiosks"].append({"id": "kiosk-net", "token": "test-kiosk-token-net", "printer": "printer-net",
                                      "idle_seconds": 60})
    next(k for k in data["devices"]["kiosks"] if k["id"] == "kiosk-justice")["setup_pin"] = "1357"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    srv = ServerProcess(path, tmp / "qms.sqlite3", "eventlet").start()
    yield srv
    srv.stop()


@pytest.fixture
def kiosk(chromium, request):
    """A touch screen: a context with touch events, portrait by default."""
    viewport = getattr(request, "param", PORTRAIT)
    ARTIFACTS.mkdir(exist_ok=True)
    context = chromium.new_context(viewport=viewport, locale="vi-VN", has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not errors, errors


def open_kiosk(page, server, kiosk_id="kiosk-1", token="test-kiosk-token-1"):
    page.goto(f"{server.url}/kiosk/{kiosk_id}?token={token}")
    page.wait_for_selector("#departments [data-department]")


def issued_by(page, action) -> dict:
    """Run `action` (a touch) and return the ticket the page received from POST /api/v1/tickets."""
    with page.expect_response(lambda r: r.url.endswith("/api/v1/tickets") and r.request.method == "POST") as info:
        action()
    resp = info.value
    assert resp.status == 201, resp.text()
    return resp.json()


def text(page, selector) -> str:
    return page.locator(selector).inner_text()


@pytest.mark.parametrize("kiosk", [PORTRAIT, LANDSCAPE], indirect=True, ids=["portrait", "landscape"])
def test_touch_department_service_and_see_the_ticket(kiosk, server):
    page = kiosk
    ahead = requests.post(server.url + "/api/v1/tickets", json={"service": "cccd"}, headers=KIOSK, timeout=10).json()
    open_kiosk(page, server)
    # The token left the address bar and lives in localStorage; the page source never carried it.
    assert "token" not in page.url
    assert page.evaluate("localStorage.getItem('qms.kiosk.token.kiosk-1')") == "test-kiosk-token-1"
    html = requests.get(server.url + "/kiosk/kiosk-1", timeout=10).text
    assert "test-kiosk-token" not in html and "token-1" not in html
    # Large buttons: every department tile is at least 96 px high.
    for box in page.locator("#departments [data-department]").evaluate_all("els => els.map(e => e.getBoundingClientRect().height)"):
        assert box >= 96
    assert page.locator("#departments [data-department]").count() == 3
    assert "Công an tỉnh" in text(page, "[data-department=police]")

    page.locator("[data-department=police]").tap()
    assert text(page, "#dept-title") == "Công an tỉnh"
    cccd = page.locator("#services [data-service=cccd]")
    assert "Cấp đổi căn cước" in cccd.inner_text()
    page.wait_for_function("document.querySelector('#services [data-service=cccd] .n').textContent !== '0'")
    waiting = int(page.locator("#services [data-service=cccd] .n").inner_text())
    assert waiting >= 1

    ticket = issued_by(page, lambda: cccd.tap())
    assert ticket["service"] == "cccd" and ticket["waiting_ahead"] == waiting
    page.wait_for_selector("#screen-ticket:not([hidden])")
    assert text(page, "#ticket-code") == ticket["code"] and int(ticket["code"]) > int(ahead["code"])
    assert text(page, "#ticket-service") == "Cấp đổi căn cước"
    assert text(page, "#ticket-ahead") == f"Số người đang chờ phía trước: {waiting}"
    # the estimate's one honest sentence (core/estimate.py): no counter serving cccd is open here, so no minutes
    assert text(page, "#ticket-wait") == ticket["wait"]["text"]["vi"] == "Chưa có quầy nào mở cho dịch vụ này"
    assert ticket["wait"]["state"] == "no_counter" and ticket["estimated_wait_minutes"] is None
    # kiosk-1 prints on a preview printer: the page follows the slip's print.status to "printed".
    page.wait_for_selector("#print-status[data-state=printed]", timeout=10_000)
    assert text(page, "#print-status") == "Đã in xong — mời nhận phiếu"
    assert page.locator("#reprint").is_hidden()
    qr = page.locator("#ticket-qr")
    assert qr.get_attribute("src") == f"/t/{ticket['token']}/qr.svg"
    assert page.evaluate("document.querySelector('#ticket-qr').naturalWidth") > 0
    page.screenshot(path=str(ARTIFACTS / f"kiosk-ticket-{page.viewport_size['width']}x{page.viewport_size['height']}.png"))
    page.locator("#ticket-done").tap()
    page.wait_for_selector("#screen-home:not([hidden])")


def test_closed_and_full_services_are_greyed_with_why_and_english(kiosk, server):
    page = kiosk
    sup = server.login("super", "test-super")
    open_kiosk(page, server)
    page.locator("[data-department=police]").tap()
    passport = page.locator("#services [data-service=passport]")
    assert passport.get_attribute("data-state") == "open"
    try:
        assert server.post("/api/v1/services/passport", {"state": "closed"}, sup).status_code == 200
        # Live: queue.updated reaches the kiosk room and the button greys out with the reason.
        page.wait_for_selector("#services [data-service=passport][data-state=closed]", timeout=5000)
        assert passport.get_attribute("aria-disabled") == "true"
        assert "Tạm ngừng tiếp nhận" in passport.inner_text()
        posts = []
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        passport.tap(force=True)  # aria-disabled: Playwright would wait for it to be enabled
        # a later request from the page: a ticket the tap had asked for would have gone out before it
        with page.expect_response(lambda r: r.url.endswith("/healthz")):
            page.evaluate("fetch('/healthz')")
        assert posts == [] and page.locator("#screen-services").is_visible(), "a greyed service issues nothing"
    finally:
        server.post("/api/v1/services/passport", {"state": "auto"}, sup)
    page.wait_for_selector("#services [data-service=passport][data-state=open]", timeout=5000)

    # Records has a daily cap of 4: the fifth is refused and the kiosk says so.
    for _ in range(4):
        requests.post(server.url + "/api/v1/tickets", json={"service": "records"}, headers=KIOSK, timeout=10)
    page.locator("#screen-services .back").tap()
    page.locator("[data-department=justice]").tap()
    records = page.locator("#services [data-service=records]")
    page.wait_for_selector("#services [data-service=records][data-state=full]", timeout=5000)
    assert "Đã hết số hôm nay" in records.inner_text()
    assert page.locator("#services [data-service=civil]").get_attribute("data-state") == "open"

    page.locator("#lang-en").tap()
    assert text(page, "#dept-title") == "Department of Justice"
    assert "No more tickets today" in records.inner_text() and "Criminal record" in records.inner_text()
    assert text(page, "#screen-services .back") == "← Back"
    page.locator("#screen-services .back").tap()
    assert "Provincial Police" in text(page, "[data-department=police]")
    page.locator("#lang-vi").tap()
    assert "Công an tỉnh" in text(page, "[data-department=police]")

    # The reason texts for hours, by table, in this browser.
    cases = [
        ({"state": "closed", "reason": "outside_hours", "opens_at": "13:15"}, "vi", "Ngoài giờ tiếp nhận — mở lúc 13:15"),
        ({"state": "closed", "reason": "outside_hours", "opens_at": "13:15"}, "en", "Outside issuing hours — opens at 13:15"),
        ({"state": "closed", "reason": "closed_today", "opens_at": "2026-11-30 07:30"}, "vi",
         "Hôm nay không tiếp nhận — mở lúc 07:30 thứ Hai 30/11"),
        ({"state": "closed", "reason": "closed_today", "opens_at": "2026-11-30 07:30"}, "en",
         "Not open today — opens Monday 30/11 at 07:30"),
        ({"state": "full", "reason": "full", "opens_at": None}, "vi", "Đã hết số hôm nay"),
        ({"state": "closed", "reason": "closed_manually", "opens_at": None}, "vi", "Tạm ngừng tiếp nhận"),
        ({"state": "open", "reason": None, "opens_at": None}, "vi", ""),
    ]
    for svc, lang, expected in cases:
        assert page.evaluate("([s, l]) => window.QMS.reasonText(s, l)", [svc, lang]) == expected


def test_catalogue_search_with_and_without_diacritics(kiosk, server):
    page = kiosk
    page.clock.install()  # the page's clock: the idle timeout below is run forward, not waited for
    open_kiosk(page, server)
    page.locator("#search-open").tap()
    # The on-screen keyboard: no diacritics needed.
    for ch in "dang ky khai sinh":
        page.locator(f"#keyboard [data-key='{'space' if ch == ' ' else ch}']").tap()
    assert page.locator("#search-input").input_value() == "dang ky khai sinh"
    first = page.locator("#search-results [data-procedure]").first
    page.wait_for_function("document.querySelector('#search-status').textContent === '2 thủ tục phù hợp'")
    assert first.locator(".name").inner_text() == "Đăng ký khai sinh"
    assert "Hộ tịch" in first.inner_text() and "Sở Tư pháp" in first.inner_text()
    codes = page.locator("#search-results [data-procedure]").evaluate_all("els => els.map(e => e.dataset.procedure)")
    assert codes == ["1.001193", "1.001695"]

    # Typed with diacritics, in capitals, and by code: the same procedure first.
    for query, code in (("Đăng ký khai sinh", "1.001193"), ("ĐĂNG KÝ KẾT HÔN", "1.000894"), ("1.001193", "1.001193"),
                        ("ly lich tu phap", "2.000908"), ("Lý lịch", "2.000908")):
        page.locator("#search-input").fill(query)
        page.wait_for_function(
            "code => document.querySelector('#search-results [data-procedure]')?.dataset.procedure === code", arg=code)
    page.locator("#search-input").fill("xyz khong co")
    page.wait_for_function("document.querySelector('#search-status').textContent.startsWith('Không tìm thấy')")
    assert page.locator("#search-results [data-procedure]").count() == 0

    page.locator("#search-input").fill("dang ky khai sinh")
    page.wait_for_function("document.querySelector('#search-results [data-procedure]')?.dataset.procedure === '1.001193'")
    ticket = issued_by(page, lambda: page.locator("#search-results [data-procedure='1.001193']").tap())
    assert ticket["service"] == "civil" and ticket["code"].startswith("A")
    page.wait_for_selector("#screen-ticket:not([hidden])")
    assert text(page, "#ticket-code") == ticket["code"]
    assert text(page, "#ticket-procedure") == "Đăng ký khai sinh (1.001193)"
    assert text(page, "#ticket-service") == "Hộ tịch"

    # The idle timeout (idle_seconds: 5): a touch restarts it; then, untouched, the kiosk goes back to the
    # start with the search cleared.
    page.wait_for_function("document.querySelector('#ticket-countdown').textContent.includes('giây')")
    page.clock.run_for(2000)
    page.locator("#ticket-code").tap()
    page.clock.run_for(4000)  # 6 s after the ticket was shown, 4 s after the touch
    assert page.locator("#screen-ticket").is_visible(), "the touch at 2 s restarted the 5 s idle timeout"
    page.clock.run_for(1500)
    page.wait_for_selector("#screen-home:not([hidden])", timeout=3000)
    assert page.locator("#search-input").input_value() == ""
    page.locator("#search-open").tap()
    assert page.locator("#search-results [data-procedure]").count() == 0


def test_token_setup_screen_and_department_filter(kiosk, server):
    page = kiosk
    page.goto(f"{server.url}/kiosk/kiosk-justice?token=not-the-right-token")
    page.wait_for_selector("#screen-setup:not([hidden])")
    assert text(page, "#setup-error") == "Mã thiết bị không đúng cho máy lấy số này."
    assert page.evaluate("localStorage.getItem('qms.kiosk.token.kiosk-justice')") is None
    # Citizens see the machine under maintenance; staff open the setup with the kiosk's PIN (setup_pin).
    assert text(page, "#maintenance h1") == "Máy đang bảo trì" and page.locator("#setup-form").is_hidden()
    page.locator("#setup-open").tap()
    for key in "1357":
        page.locator(f"#pin-pad [data-key='{key}']").tap()
    page.locator("#pin-ok").tap()
    page.wait_for_selector("#setup-form:not([hidden])")
    # Another kiosk's token is refused too.
    page.locator("#setup-token").fill("test-kiosk-token-1")
    page.locator("#setup-form button[type=submit]").tap()
    page.wait_for_function("document.querySelector('#setup-error').textContent.includes('không đúng')")
    assert page.locator("#setup-form").is_visible(), "a refused token leaves the form open for another try"
    # typed on the on-screen keyboard (a touch screen has no other), with a capital through the shift key
    page.locator("#setup-token").fill("")
    for ch in "test-kiosk-token-2":
        page.locator(f"#token-keyboard [data-key='{ch}']").tap()
    page.locator("#token-keyboard [data-key=shift]").tap()
    page.locator("#token-keyboard [data-key=x]").tap()
    assert page.locator("#setup-token").input_value() == "test-kiosk-token-2X"
    page.locator("#token-keyboard [data-key=backspace]").tap()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.locator("#setup-form button[type=submit]").tap()
    page.wait_for_selector("#departments [data-department]")
    assert page.locator("#departments [data-department]").evaluate_all("els => els.map(e => e.dataset.department)") == ["justice"]
    # Reloaded without the token in the address: it is remembered.
    frames: list[str] = []  # what the page's socket receives
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(f if isinstance(f, str) else "")))
    page.goto(f"{server.url}/kiosk/kiosk-justice")
    page.wait_for_selector("#departments [data-department=justice]")
    # This kiosk has no printer: the ticket is simply shown, with no print state.
    page.locator("[data-department=justice]").tap()
    ticket = issued_by(page, lambda: page.locator("#services [data-service=civil]").tap())
    page.wait_for_selector("#screen-ticket:not([hidden])")
    # the queue count that lists this ticket: a slip's print.status is sent with the issue, so it would be here
    def counted() -> bool:  # a count of civil with this ticket in it (one more than were ahead of it)
        msgs = [json.loads(f[2:]) for f in frames if f.startswith('42["queue.updated"')]
        return any(m[1]["services"].get("civil", {}).get("waiting") == ticket["waiting_ahead"] + 1 for m in msgs)

    deadline = time.monotonic() + 5
    while not counted():
        assert time.monotonic() < deadline, ("no queue count with the ticket reached the kiosk", [f[:80] for f in frames])
        page.wait_for_timeout(20)
    assert not any('"print.status"' in f for f in frames)
    assert text(page, "#ticket-code") == ticket["code"] and page.locator("#print-status").is_hidden()
    # A search on this kiosk only offers its departments.
    page.locator("#ticket-done").tap()
    page.locator("#search-open").tap()
    page.locator("#search-input").fill("cap")
    page.wait_for_selector("#search-results [data-procedure]")
    # the answer to "cap" is in: its count line is written with the list it came with
    page.wait_for_function("document.querySelector('#search-status').textContent.includes('thủ tục phù hợp')")
    assert set(page.locator("#search-results [data-procedure]").evaluate_all("els => els.map(e => e.dataset.service)")) <= {"civil", "records"}


def test_kiosk_at_both_sizes_in_the_test_centre(chromium, server):
    """The checks test_kiosk_both_centres.py runs over the big centre, on this module's server: English values,
    a procedure handled elsewhere, results above the keyboard, the idle return in Vietnamese."""
    check_kiosk(chromium, server, "test-kiosk-token-1", "test", idle=5)


def test_unknown_kiosk_is_a_404_page(server):
    r = requests.get(server.url + "/kiosk/nope", timeout=10)
    assert r.status_code == 404 and "Không có máy lấy số nope." in r.text and "text/html" in r.headers["Content-Type"]


def test_printer_failure_shows_reason_and_reprint_prints(kiosk, server, printer_port):
    page = kiosk
    open_kiosk(page, server, "kiosk-net", "test-kiosk-token-net")
    page.locator("[data-department=land]").tap()
    ticket = issued_by(page, lambda: page.locator("#services [data-service=land]").tap())
    # Nothing listens on the printer's port: the job fails and the kiosk says why, with "In lại".
    page.wait_for_selector("#print-status[data-state=failed]", timeout=10_000)
    assert text(page, "#print-status").startswith("Máy in lỗi: ")
    assert text(page, "#ticket-code") == ticket["code"]
    reprint = page.locator("#reprint")
    assert reprint.is_visible() and reprint.inner_text() == "In lại"
    sink = PrinterSink(printer_port)
    try:
        with page.expect_response(lambda r: r.url.endswith(f"/api/v1/tickets/{ticket['id']}/reprint")) as info:
            reprint.tap()
        assert info.value.status == 202
        page.wait_for_selector("#print-status[data-state=printed]", timeout=10_000)
        assert text(page, "#print-status") == "Đã in xong — mời nhận phiếu" and reprint.is_hidden()
        deadline = time.monotonic() + 5
        while not sink.jobs and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sink.jobs and sink.jobs[0].startswith(b"\x1b@"), "the slip reached the printer as ESC/POS"
    finally:
        sink.close()


def test_estimated_wait_follows_recent_service_times(open_store, clock):
    """The wait shown with a ticket: people ahead × the median serving time of the service's last tickets today
    (services[].avg_service_minutes until three are served) ÷ its open counters."""
    from queue_server.core.estimate import minutes_per_ticket
    from queue_server.read_models import ReadModels

    read = ReadModels(open_store)
    assert open_store.recent_service_ms("cccd", 20) == []
    assert minutes_per_ticket(open_store.recent_service_ms("cccd", 20), 10) == 10
    assert read.estimated_wait("cccd", 4) == 20  # 4 × 10 min ÷ counters 1 and 2
    for minutes in (3, 2, 7):
        t = open_store.issue("cccd").ticket
        assert open_store.call_next("1").ticket["id"] == t["id"]
        clock.advance(minutes * 60)
        open_store.finish(t["id"], "1")
    assert minutes_per_ticket(open_store.recent_service_ms("cccd", 20), 10) == 3.0
    assert read.estimated_wait("cccd", 4) == 6
    assert read.estimated_wait("passport", 4) == 20, "another service keeps its own figure"
    open_store.set_counter_state("2", "closed")
    assert read.estimated_wait("cccd", 4) == 12
