"""The booking pages for the công dân's phone (/dat-lich and /dat-lich/<code>) in Debian's chromium at 360 px, on
both test centres, each served from this process on a fixed clock (tests/live_site.py), one per module.

The big city centre, in Vietnamese: department -> service (names of 80+ characters) -> day -> slot -> CCCD and
mobile number (wrong forms are said under their field and nothing is sent) -> a wrong code, then the one-time
code read from the notification outbox -> the confirmation, whose code is the database's; then the status page
shows the booking to the same CCCD and cancels it. Nothing is wider than its box at any step.

The demo test centre, in English by the page's switch: a full slot is shown disabled; a slot that fills while
the công dân types is refused in words and the next free slots are offered; one of them is booked; a second
booking of the same service that day is refused as over the limit.
"""
from __future__ import annotations

import re

import pytest
import yaml

from conftest import ARTIFACTS, Clock
from inproc import InProcessServer
from live_site import LiveSite
from server_util import big_server_config, server_config

PHONE = {"width": 360, "height": 740}

# Everything visible, measured in the page: no element's content wider than its own box, no element outside the
# screen's width, and the page itself no wider than the phone.
MEASURE = """
() => {
  const problems = [];
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + String(e.className).split(' ').join('.') : '');
  for (const e of document.querySelectorAll('header *, main, main *')) {
    if (!e.getClientRects().length) continue;
    if (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1) problems.push(['wider than its box', name(e), e.textContent.trim().slice(0, 60), e.scrollWidth, e.clientWidth]);
    const r = e.getBoundingClientRect();
    if (r.width && (r.left < -1 || r.right > innerWidth + 1)) problems.push(['outside the screen', name(e), e.textContent.trim().slice(0, 60), Math.round(r.left), Math.round(r.right)]);
  }
  return {problems, page_width: document.documentElement.scrollWidth};
}
"""

CCCD = "001085012345"        # Hà Nội, a man born in 1985
CCCD_2 = "079190004321"      # Hồ Chí Minh City, a woman born in 1990
CCCD_3 = "048203000777"      # Đà Nẵng, a man born in 2003
PHONE_1, PHONE_2, PHONE_3 = "0912345678", "0987654321", "0355555555"


def _serve(cfg_path, tmp, clock):
    return LiveSite(InProcessServer(cfg_path, tmp / "qms.sqlite3", clock))


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("big-booking")
    clock = Clock()
    srv = _serve(big_server_config(tmp, now=clock()), tmp, clock)
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo test centre, with one place per slot for passports, so that one booking fills a slot."""
    tmp = tmp_path_factory.mktemp("demo-booking")
    clock = Clock()
    path = server_config(tmp, now=clock())
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.setdefault("booking", {})["capacity"] = {"passport": 1}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    srv = _serve(path, tmp, clock)
    yield srv
    srv.close()


@pytest.fixture
def phone(phone_pages):
    """A page of a phone the size of PHONE."""
    return lambda locale="vi-VN": phone_pages(PHONE, locale)


def fits(page) -> None:
    m = page.evaluate(MEASURE)
    assert m["problems"] == [], m["problems"]
    assert m["page_width"] <= PHONE["width"]


def shown(page, selector: str) -> str:
    page.wait_for_selector(selector, state="visible")
    return page.locator(selector).first.inner_text().strip()


def otp_sent_to(srv, phone_number: str) -> str:
    """The one-time code of the last OTP message to that number, as the outbox holds it."""
    from queue_server.store import notifications

    sent = [m for m in notifications.outbox(srv.ctx.store, kind="otp") if m["to_phone"] == phone_number]
    assert sent, f"no OTP message to {phone_number}"
    found = re.search(r"(?<![\d/:])(\d{%d})(?![\d/:])" % srv.ctx.config.booking.otp.digits, sent[0]["body"])
    assert found, sent[0]["body"]
    return found.group(1)


def bookings_in_db(srv) -> list[tuple]:
    """(code, state, slot start) of every booking, as the database holds them."""
    return [tuple(r) for r in srv.ctx.store.conn.execute(
        "SELECT code, state, slot_start FROM bookings ORDER BY id")]


def api_book(srv, service: str, date: str, start: str, cccd: str, phone_number: str):
    return srv.post("/api/v1/bookings",
                    {"service": service, "date": date, "start": start, "cccd": cccd, "phone": phone_number})


@pytest.mark.browser
def test_a_whole_booking_on_a_phone_at_the_big_centre_then_its_cancel(big, phone):
    page = phone()
    page.goto(big.url + "/dat-lich")
    assert shown(page, "h1") == "Đặt lịch hẹn trực tuyến"
    page.wait_for_selector("#depts .choice")
    departments = page.locator("#depts .choice")
    long_dept = next(i for i in range(departments.count()) if len(departments.nth(i).inner_text()) > 80)
    dept_name = departments.nth(long_dept).inner_text().strip()
    fits(page)

    departments.nth(long_dept).click()
    assert shown(page, "#step-service h2") == "2. Chọn dịch vụ"
    services = page.locator("#services .choice")
    long_service = next(i for i in range(services.count()) if len(services.nth(i).inner_text()) > 80)
    service_name = services.nth(long_service).inner_text().strip()
    fits(page)
    services.nth(long_service).click()

    assert shown(page, "#step-day h2") == "3. Chọn ngày"
    assert dept_name in shown(page, "#chosen") and service_name in shown(page, "#chosen")
    assert "Hôm nay" in shown(page, "#days .choice")
    fits(page)
    page.locator("#days .choice").first.click()
    page.wait_for_selector("#slots .choice:not([disabled])")
    # today's slots already begun are left out, the others shown as the server gives them
    day = page.locator("#days .choice").first.get_attribute("data-id")
    now = big.ctx.store.local_now().strftime("%H:%M")
    service_id = page.locator("#services .choice").nth(long_service).get_attribute("data-id")
    served = big.get(f"/api/v1/booking/slots?service={service_id}&date={day}").json()["slots"]
    ids = page.eval_on_selector_all("#slots .choice", "bs => bs.map((b) => b.dataset.id)")
    assert ids == [x["start"] for x in served if x["start"] > now] and len(ids) < len(served)
    slot = page.locator("#slots .choice:not([disabled])").first
    assert re.search(r"Còn \d+ chỗ", slot.inner_text())
    start = slot.get_attribute("data-id")
    fits(page)
    slot.click()

    # the forms' checks: said under the field, nothing sent
    assert shown(page, "#step-identity h2") == "5. Số CCCD và số điện thoại"
    page.fill("#cccd", "12345")
    page.fill("#phone", "012345")
    page.click("#send")
    assert shown(page, "#cccd-error") == "Số CCCD gồm đúng 12 chữ số."
    assert "10 chữ số" in shown(page, "#phone-error")
    page.fill("#cccd", "999085012345")
    page.click("#send")
    assert "mã tỉnh" in shown(page, "#cccd-error")
    from queue_server.store import notifications
    assert notifications.outbox(big.ctx.store, kind="otp") == []
    # a form the page lets through but the server refuses (born in 2099): its 400 said under the field
    page.fill("#cccd", "001399012345")
    page.fill("#phone", PHONE_1)
    page.click("#send")
    assert shown(page, "#cccd-error") == "Số CCCD không hợp lệ. Vui lòng kiểm tra lại."
    assert bookings_in_db(big) == []
    page.fill("#cccd", CCCD)
    page.fill("#phone", "091 234 5678")
    fits(page)
    page.click("#send")
    assert "0912345678" in shown(page, "#otp-sent")
    # back to the form and on again unchanged: the place held and the code sent stay good, nothing sent again
    page.click("#back")
    assert page.input_value("#cccd") == CCCD
    page.click("#send")
    assert "0912345678" in shown(page, "#otp-sent")
    assert len(bookings_in_db(big)) == 1

    # a new code only after otp.resend_after_seconds
    first = otp_sent_to(big, PHONE_1)
    page.click("#resend")
    assert shown(page, "#error") == "Vui lòng chờ 60 giây rồi gửi lại mã."
    big.clock.advance(61)
    page.click("#resend")
    assert shown(page, "#resent") == "Đã gửi lại mã mới đến số 0912345678."
    code = otp_sent_to(big, PHONE_1)
    assert len(notifications.outbox(big.ctx.store, kind="otp")) == 2 and re.fullmatch(r"\d{6}", first)

    # wrong codes: the tries left, then the code used up and the form again, filled, for a new one
    wrong = str((int(code) + 1) % 10 ** len(code)).zfill(len(code))
    page.fill("#otp", wrong)
    page.click("#confirm")
    assert "còn 4 lần thử" in shown(page, "#otp-error")
    assert page.locator("#step-otp").is_visible()
    for _ in range(4):
        page.fill("#otp", wrong)
        page.click("#confirm")
    assert shown(page, "#error") == ("Nhập sai mã xác nhận quá số lần cho phép. "
                                     "Vui lòng đặt lịch lại từ đầu.")
    assert page.input_value("#cccd") == CCCD and page.locator("#step-identity").is_visible()
    page.click("#send")
    assert "0912345678" in shown(page, "#otp-sent")
    page.fill("#otp", otp_sent_to(big, PHONE_1))
    page.click("#confirm")

    assert shown(page, "#step-done h2") == "Đặt lịch thành công"
    booked = shown(page, "#code")
    used_up = bookings_in_db(big)[0]
    assert used_up[1:] == ("expired", start) and bookings_in_db(big)[1:] == [(booked, "confirmed", start)]
    assert shown(page, "#done-service") == service_name
    assert shown(page, "#done-time").startswith(start)
    assert re.fullmatch(r"\d\d:\d\d–\d\d:\d\d", shown(page, "#done-arrive"))
    assert booked in shown(page, "#how") and "máy lấy số" in shown(page, "#how")
    qr = page.evaluate("(() => { const i = document.querySelector('#qr'); "
                       "return [i.src.slice(0, 18), i.naturalWidth]; })()")
    assert qr[0] == "data:image/svg+xml" and qr[1] > 0
    fits(page)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "booking-done-360.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    # its status page: the same CCCD shows it and cancels it
    page.click("#status-link")
    page.wait_for_url(f"**/dat-lich/{booked}")
    assert shown(page, "#code") == booked
    page.fill("#cccd", CCCD_2)
    page.click("#check")
    assert "Không tìm thấy" in shown(page, "#error")
    page.fill("#cccd", CCCD)
    page.click("#check")
    assert shown(page, "#b-state") == "Đã xác nhận — chờ công dân đến"
    assert shown(page, "#b-service") == service_name
    fits(page)
    page.click("#cancel")
    page.click("#cancel-yes")
    assert "Đã hủy lịch hẹn" in shown(page, "#notice")
    assert shown(page, "#b-state") == "Đã hủy"
    assert bookings_in_db(big) == [used_up, (booked, "cancelled", start)]
    fits(page)


@pytest.mark.browser
def test_english_a_full_slot_a_slot_taken_meanwhile_and_the_limit(demo, phone):
    page = phone("en-GB")
    page.goto(demo.url + "/dat-lich")
    page.click("#lang-vi")
    assert shown(page, "h1") == "Đặt lịch hẹn trực tuyến"
    page.click("#lang-en")
    assert shown(page, "h1") == "Book an appointment online"
    page.locator("#depts .choice", has_text="Provincial Police").click()
    page.locator("#services .choice", has_text="Passport").click()
    today = page.locator("#days .choice").first
    assert "Today" in today.inner_text()
    day = today.get_attribute("data-id")
    slots = demo.get(f"/api/v1/booking/slots?service=passport&date={day}").json()["slots"]
    free = [s["start"] for s in slots if s["left"] > 0]
    assert len(free) >= 3
    # one place per slot: a booking elsewhere fills the first free slot before the page asks
    assert api_book(demo, "passport", day, free[0], CCCD_3, PHONE_3).status_code == 202
    today.click()
    page.wait_for_selector("#slots .choice")
    full = page.locator(f'#slots .choice[data-id="{free[0]}"]')
    assert full.is_disabled() and "Full" in full.inner_text()
    fits(page)

    page.locator(f'#slots .choice[data-id="{free[1]}"]').click()
    page.fill("#cccd", CCCD_2)
    page.fill("#phone", "+84987654321")
    # the slot fills while the công dân types
    assert api_book(demo, "passport", day, free[1], CCCD, PHONE_1).status_code == 202
    page.click("#send")
    assert "This time has just filled up" in shown(page, "#error")
    offered = page.locator("#error .choice")
    assert offered.first.get_attribute("data-id") == free[2]
    fits(page)
    offered.first.click()
    assert page.input_value("#cccd") == CCCD_2
    page.click("#send")
    assert PHONE_2[1:] in shown(page, "#otp-sent")
    page.fill("#otp", otp_sent_to(demo, PHONE_2))
    page.click("#confirm")
    assert shown(page, "#step-done h2") == "Your appointment is booked"
    booked = shown(page, "#code")
    assert (booked, "confirmed", free[2]) in bookings_in_db(demo)
    assert "ticket machine" in shown(page, "#how")
    fits(page)

    # the same identity, the same service, the same day: over the limit, said in words
    page.click("#restart")
    page.locator("#depts .choice", has_text="Provincial Police").click()
    page.locator("#services .choice", has_text="Passport").click()
    page.locator("#days .choice").first.click()
    page.wait_for_selector("#slots .choice:not([disabled])")
    page.locator("#slots .choice:not([disabled])").last.click()
    page.fill("#cccd", CCCD_2)
    page.fill("#phone", PHONE_2)
    page.click("#send")
    assert "the most bookings allowed" in shown(page, "#error")
    fits(page)

    # this address has asked too often (booking.attempts_per_minute, on a clock that stands still): said with the wait
    for _ in range(demo.ctx.config.booking.attempts_per_minute):
        if demo.post(f"/api/v1/bookings/{booked}/lookup", {"cccd": CCCD_2}).status_code == 429:
            break
    page.click("#send")
    assert re.fullmatch(r"Too many attempts\. Please try again in \d+ seconds\.", shown(page, "#error"))


def test_a_status_address_of_no_booking_code_is_a_404_page(client):
    for bad in ("abc", "ABCDEFG0", "ABCDEFGHJ", "ABCD-EFG"):
        resp = client.get(f"/dat-lich/{bad}")
        assert resp.status_code == 404, bad
        assert "Không tìm thấy lịch hẹn" in resp.get_data(as_text=True)
    resp = client.get("/dat-lich/abcdefgh")
    assert resp.status_code == 200 and "ABCDEFGH" in resp.get_data(as_text=True)
    assert resp.headers["Cache-Control"] == "no-store" and resp.headers["Referrer-Policy"] == "no-referrer"
    page = client.get("/dat-lich")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    for r in (resp, page):  # the site's policy: every script a file of its own, the page data JSON that never runs
        assert "script-src 'self';" in r.headers["Content-Security-Policy"] + ";"
        for tag in re.findall(r"<script\b[^>]*>", r.get_data(as_text=True)):
            assert "src=" in tag or 'type="application/json"' in tag, tag
