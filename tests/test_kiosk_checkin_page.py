"""Check-in of online bookings and priority by age at the kiosk, in Debian's chromium against the server in this
process (tests/live_site.py; one per centre, on the test's Clock), as a citizen sees it (issue 13 item 3).

A USB scanner is played with page.keyboard: the QR's text typed fast, then Enter, with nothing focused; the
letters of a Vietnamese name in a CCCD's QR arrive as their own Unicode key events (sent the way the browser
gets them from the system), or, as page.keyboard.type sends them, with no key event at all: the number and the
date of birth still get through. The three ways in (booking QR, the code on the on-screen keyboard, CCCD QR), the
outside-window offer of a walk-in number, a CCCD with no booking taking a priority number by age, a card too
young offered a normal one, a person's slow typing ignored; and once on the big centre (names of 80+ characters).
Each page: the text present, the ticket shown, nothing wider than its box."""
from __future__ import annotations

import re
import time

import pytest
import yaml
from PIL import Image

from conftest import ARTIFACTS, Clock
from inproc import InProcessServer
from live_site import LiveSite
from queue_server.store import notifications
from server_util import big_server_config, server_config

pytestmark = pytest.mark.browser

PORTRAIT = {"width": 1080, "height": 1920}
BOOKER = ("001090004567", "0912000001")  # CCCD, phone
OTHER = ("001088001111", "0912000002")
LATER = ("001091002222", "0912000003")


def card(number: str, name: str, birth: str) -> str:
    return f"{number}|123456789|{name}|{birth}|Nam|Số 3 Phố Huế, Hai Bà Trưng, Hà Nội|01072021"


def with_age_groups(path, groups=None):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for g in data["priority"]["groups"]:
        if g["id"] == "elderly":
            g["min_age"] = 60
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def live(tmp, make_config):
    clock = Clock()
    return LiveSite(InProcessServer(with_age_groups(make_config(tmp, now=clock())), tmp / "qms.sqlite3", clock))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    srv = live(tmp_path_factory.mktemp("checkin"), server_config)
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    srv = live(tmp_path_factory.mktemp("checkin-big"), big_server_config)
    yield srv
    srv.close()


def book(site, service: str, start: str, who: tuple[str, str]) -> str:
    """A confirmed booking of today, made as a phone makes it (the one-time code read from the outbox): its code."""
    store = site.ctx.store
    made = site.post("/api/v1/bookings", {"service": service, "date": store.today(), "start": start,
                                          "cccd": who[0], "phone": who[1]})
    assert made.status_code == 202, made.text
    sms = notifications.outbox(store, kind="otp", limit=1)[0]["body"]
    otp = re.search(r": (\d{6})\.", sms).group(1)
    done = site.post(f"/api/v1/bookings/{made.json()['booking_id']}/confirm", {"otp": otp})
    assert done.status_code == 201, done.text
    return done.json()["code"]


def scan(page, text: str, *, unicode_keys: bool = True) -> None:
    """A USB scanner: the text's keys then Enter, 4 ms apart by the keyboard's own time stamps (a real scanner's
    keys carry the input device's times, whatever the load on the PC; keys sent one by one from this test on a
    loaded machine came 50 ms and more apart and read as typing). Letters outside the US layout as Unicode key
    events, or with unicode_keys=False as page.keyboard.type sends them: text with no key event."""
    cdp = page.context.new_cdp_session(page)
    t0 = time.time()
    for i, ch in enumerate(text):
        stamp = t0 + i * 0.004
        if ch.isascii() or unicode_keys:
            cdp.send("Input.dispatchKeyEvent", {"type": "keyDown", "key": ch, "text": ch, "unmodifiedText": ch,
                                                "timestamp": stamp})
            cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": ch, "timestamp": stamp})
        else:
            cdp.send("Input.insertText", {"text": ch})
    enter = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "timestamp": t0 + len(text) * 0.004}
    cdp.send("Input.dispatchKeyEvent", {"type": "keyDown", "text": "\r", **enter})
    cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", **enter})
    cdp.detach()


# Every visible text box of the kiosk against its own box and the viewport.
OVERFLOWING = """() => {
    const out = [], vw = document.documentElement.clientWidth;
    const sel = '#screen-booking *, #checkin-offer .box *, #card-note, #card-note *, #booking-open, .ticket *, #departments .tile';
    for (const e of document.querySelectorAll(sel)) {
        if (e.offsetParent === null || e.closest('[hidden]')) continue;
        const r = e.getBoundingClientRect();
        if (e.scrollWidth > e.clientWidth + 1 || r.right > vw + 1 || r.left < -1) out.push(e.id || e.className || e.tagName);
    }
    return out; }"""


def ticket_shown(page) -> dict:
    page.wait_for_selector("#screen-ticket:not([hidden])")
    shown = {"code": page.locator("#ticket-code").inner_text(), "service": page.locator("#ticket-service").inner_text(),
             "note": page.locator("#ticket-note").inner_text() if page.locator("#ticket-note").is_visible() else ""}
    assert page.evaluate(OVERFLOWING) == []
    return shown


def done(page) -> None:
    page.locator("#ticket-done").tap()
    page.wait_for_selector("#screen-home:not([hidden])")


def open_kiosk(chromium, site, token: str):
    context = chromium.new_context(viewport=PORTRAIT, locale="vi-VN", has_touch=True)
    page = context.new_page()
    page.set_default_timeout(8000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{site.url}/kiosk/kiosk-1?token={token}")
    page.wait_for_selector("#departments [data-department]")
    page.wait_for_selector("#booking-open:not([hidden])")
    return context, page, errors


def test_check_in_three_ways_the_walk_in_offer_and_priority_by_age(chromium, site):
    clock, store = site.clock, site.ctx.store
    clock.set_local(store.today() + " 09:00")  # the morning zone of server_config: booking before the slots open
    code_qr, code_typed = book(site, "cccd", "09:30", BOOKER), book(site, "passport", "09:30", OTHER)
    book(site, "cccd", "09:30", LATER)
    code_early = book(site, "passport", "10:30", LATER)
    clock.set_local(store.today() + " 09:20")  # 09:30's check-in is open (09:15-09:45), 10:30's is not yet
    context, page, errors = open_kiosk(chromium, site, "test-kiosk-token-1")
    try:
        assert "Tôi đã đặt lịch" in page.locator("#booking-open").inner_text()

        # 1. The booking's QR held to the scanner on the start screen: its text is the code.
        with page.expect_response(lambda r: r.url.endswith("/bookings/check-in")) as got:
            scan(page, code_qr)
        assert got.value.status == 201
        assert got.value.json()["ticket"]["print_job"]["state"] == "queued"  # the slip, like any kiosk ticket's
        shown = ticket_shown(page)
        assert shown["note"] == "Đã đặt lịch · khung giờ 09:30–10:00" and shown["service"] == "Cấp đổi căn cước"
        ticket = store.ticket(got.value.json()["ticket"]["id"])
        assert (ticket["source"], ticket["code"]) == ("online", shown["code"])
        done(page)

        # 2. "Tôi đã đặt lịch": the code on the on-screen keyboard of the code's alphabet.
        page.locator("#booking-open").tap()
        page.wait_for_selector("#screen-booking:not([hidden])")
        keys = page.locator("#booking-keys button[data-key]").evaluate_all("bs => bs.map(b => b.dataset.key)")
        assert not {"0", "O", "1", "I", "L"} & set(keys) and set(code_typed) <= set(keys)
        assert page.locator("#booking-go").is_disabled()
        for ch in code_typed[:-1]:
            page.locator(f"#booking-keys button[data-key='{ch}']").tap()
        assert page.locator("#booking-go").is_disabled()
        page.locator(f"#booking-keys button[data-key='{code_typed[-1]}']").tap()
        assert page.locator("#booking-code").inner_text().replace("\n", "") == code_typed
        assert page.evaluate(OVERFLOWING) == []
        page.locator("#booking-go").tap()
        shown = ticket_shown(page)
        assert shown["service"] == "Hộ chiếu" and "Đã đặt lịch" in shown["note"]
        done(page)

        # 3. The CCCD's QR (a Vietnamese name, typed as Unicode keys): the citizen's booking of today.
        with page.expect_response(lambda r: r.url.endswith("/bookings/check-in")) as got:
            scan(page, card(LATER[0], "Nguyễn Thị Hồng Nhung", "01011991"))
        assert got.value.status == 201 and got.value.request.post_data_json["cccd_qr"].split("|")[2] == "Nguyễn Thị Hồng Nhung"
        assert "09:30" in ticket_shown(page)["note"]
        done(page)

        # 4. Outside the window: when to come, and a walk-in number of that service with one press.
        scan(page, code_early)
        page.wait_for_selector("#checkin-offer:not([hidden])")
        assert page.locator("#offer-title").inner_text() == "Chưa đến giờ nhận số theo lịch hẹn"
        assert "từ 10:15 đến 10:45" in page.locator("#offer-text").inner_text()
        assert page.locator("#offer-action").inner_text() == "Lấy số thường: Hộ chiếu"
        assert page.evaluate(OVERFLOWING) == []
        with page.expect_response(lambda r: r.url.endswith("/api/v1/tickets")) as got:
            page.locator("#offer-action").tap()
        assert got.value.status == 201 and "cccd_qr" not in got.value.request.post_data_json
        shown = ticket_shown(page)
        assert shown["service"] == "Hộ chiếu" and shown["note"] == ""
        assert store.ticket(got.value.json()["id"])["source"] == "walk_in"
        done(page)

        # 5. An unknown code says so; a person typing a code slowly is not a scanner.
        scan(page, "ABCDEFGH")
        page.wait_for_selector("#checkin-offer:not([hidden])")
        assert "ABCDEFGH" in page.locator("#offer-text").inner_text()
        page.locator("#offer-close").tap()
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url) if "/bookings/" in r.url else None)
        page.keyboard.type(code_early, delay=70)
        page.keyboard.press("Enter")
        page.wait_for_timeout(200)
        assert requests == [] and page.locator("#checkin-offer").is_hidden()

        # 6. A CCCD with no booking today: a priority number by age.
        # page.keyboard.type sends the name's Vietnamese letters with no key event: the number and birth date stay.
        scan(page, card("036150001234", "Phạm Thị Ngọc Ánh", "12031950"), unicode_keys=False)
        page.wait_for_selector("#card-note:not([hidden])")
        note = page.locator("#card-note").inner_text()
        assert "Đã đọc thẻ căn cước" in note and "không có lịch hẹn hôm nay" in note and "từ 60 tuổi" in note
        assert page.evaluate(OVERFLOWING) == []
        page.locator("#departments [data-department=police]").tap()
        with page.expect_response(lambda r: r.url.endswith("/api/v1/tickets")) as got:
            page.locator("#services [data-service=cccd]").tap()
        assert got.value.status == 201
        shown = ticket_shown(page)
        assert shown["note"] == "Ưu tiên: Người cao tuổi"
        ticket = store.ticket(got.value.json()["id"])
        assert (ticket["priority_group"], ticket["source"]) == ("elderly", "priority")
        done(page)
        assert page.locator("#card-note").is_hidden()  # the card is forgotten with the ticket

        # 7. Too young: said plainly, and a normal number with one press.
        scan(page, card("001200009876", "Đỗ Minh Quân", "05052000"))
        page.wait_for_selector("#card-note:not([hidden])")
        page.locator("#departments [data-department=police]").tap()
        page.locator("#services [data-service=passport]").tap()
        page.wait_for_selector("#checkin-offer:not([hidden])")
        assert page.locator("#offer-title").inner_text() == "Chưa đủ tuổi ưu tiên"
        assert "từ 60 tuổi" in page.locator("#offer-text").inner_text()
        assert page.locator("#offer-action").inner_text() == "Lấy số thường: Hộ chiếu"
        assert page.evaluate(OVERFLOWING) == []
        with page.expect_response(lambda r: r.url.endswith("/api/v1/tickets")) as got:
            page.locator("#offer-action").tap()
        assert got.value.status == 201 and "cccd_qr" not in got.value.request.post_data_json
        assert ticket_shown(page)["note"] == ""
        assert store.ticket(got.value.json()["id"])["priority"] == 0
        shot = ARTIFACTS / "kiosk-checkin.png"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(shot))
        with Image.open(shot) as img:  # what was saved is the kiosk at its size: the red header, the ticket's number
            assert img.size == (PORTRAIT["width"], PORTRAIT["height"])
            rgb = img.convert("RGB")
            assert rgb.getpixel((5, 5)) == (0xa5, 0x0f, 0x15)
            box = page.locator("#ticket-code").bounding_box()
            inside = rgb.crop((int(box["x"]), int(box["y"]), int(box["x"] + box["width"]), int(box["y"] + box["height"])))
            assert (0xa5, 0x0f, 0x15) in {c for _, c in inside.getcolors(1 << 16)}
    finally:
        context.close()
    assert not errors, errors


def test_the_big_centre_checks_in_by_cccd_and_offers_its_long_named_service(chromium, big):
    clock, store = big.clock, big.ctx.store
    service = next(s for s in store.config.services() if store.config.services()[s][1].name and
                   len(store.config.services()[s][1].name) >= 80)
    clock.set_local(store.today() + " 09:00")
    book(big, service, "09:30", BOOKER)
    book(big, service, "10:30", OTHER)
    clock.set_local(store.today() + " 09:20")
    context, page, errors = open_kiosk(chromium, big, "big-kiosk-token-1")
    try:
        scan(page, card(BOOKER[0], "Lê Văn Tuấn", "01021990"))
        shown = ticket_shown(page)
        assert shown["note"] == "Đã đặt lịch · khung giờ 09:30–10:00"
        assert shown["service"] == store.config.services()[service][1].name
        done(page)
        scan(page, card(OTHER[0], "Trần Văn Đức", "01011988"))
        page.wait_for_selector("#checkin-offer:not([hidden])")
        assert page.locator("#offer-action").inner_text() == "Lấy số thường: " + store.config.services()[service][1].name
        assert page.evaluate(OVERFLOWING) == []
        page.locator("#offer-action").tap()
        assert ticket_shown(page)["note"] == ""
        page.locator("#lang-en").tap()
        done(page)
    finally:
        context.close()
    assert not errors, errors
