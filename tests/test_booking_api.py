"""The booking routes (queue_server/web/bookings.py) in process, on the test centre (Hà Nội time, the test clock
at Wednesday 2026-11-25 09:00): a booking from slots to the kiosk's check-in by code and by CCCD QR, inside and
outside the arrival window, the holder's status and cancel, English messages, the per-address rate limit, and a
table of hostile requests that all get a 4xx and change nothing."""
from __future__ import annotations

import base64
import re

import pytest

from conftest import FIXTURES
from inproc import InProcessServer
from queue_server.store import notifications

TOMORROW = "2026-11-26"
KIOSK = {"Authorization": "Bearer test-kiosk-token-1"}
ALICE, ALICE_PHONE = "001090000001", "0912000001"
BOB, BOB_PHONE = "079195000002", "+84 987 000 002"


@pytest.fixture
def srv(tmp_path, clock):
    s = InProcessServer(FIXTURES / "centre.yaml", tmp_path / "qms.sqlite3", clock)
    yield s
    s.close()


def book(srv, cccd=ALICE, phone=ALICE_PHONE, *, service="cccd", day=TOMORROW, start="08:00", lang="vi") -> dict:
    r = srv.post("/api/v1/bookings", {"service": service, "date": day, "start": start, "cccd": cccd, "phone": phone,
                                      "lang": lang})
    assert r.status_code == 202, r.json()
    assert r.json()["otp_sent"] is True
    return r.json()


def confirm(srv, made: dict) -> dict:
    msg = notifications.outbox(srv.ctx.store, kind="otp")[0]
    otp = re.search(r"(?<![\d/])(\d{6})(?![\d/])", msg["body"]).group(1)
    r = srv.post(f"/api/v1/bookings/{made['booking_id']}/confirm", {"otp": otp})
    assert r.status_code == 201, r.json()
    return r.json()


def fingerprint(srv) -> str:
    srv.settle()
    return "\n".join(srv.ctx.store.conn.iterdump())


def test_a_booking_from_its_slot_to_its_ticket(srv, clock):
    info = srv.get("/api/v1/booking").json()
    assert info["enabled"] and info["days"][:3] == ["2026-11-25", "2026-11-26", "2026-11-27"]
    assert {"id": "cccd", "name": "Cấp đổi căn cước"}.items() <= info["services"][0].items()
    slots = srv.get(f"/api/v1/booking/slots?service=cccd&date={TOMORROW}").json()["slots"]
    assert slots[1] == {"start": "08:00", "end": "08:30", "capacity": 3, "left": 3}
    made = book(srv)
    msg = notifications.outbox(srv.ctx.store, kind="otp")[0]
    assert msg["to_phone"] == ALICE_PHONE and msg["body"].startswith("Mã xác nhận đặt lịch Cấp đổi căn cước ngày 26/11/2026")
    got = confirm(srv, made)
    assert re.fullmatch(r"[ABCDEFGHJKMNPQRSTUVWXYZ2-9]{8}", got["code"])
    assert (got["service"], got["date"], got["start"], got["arrive_from"], got["arrive_until"]) == \
        ("cccd", TOMORROW, "08:00", "07:45", "08:15")
    assert got["status_url"].endswith(f"/dat-lich/{got['code']}")
    svg = base64.b64decode(got["qr"].removeprefix("data:image/svg+xml;base64,")).decode()
    assert got["qr"].startswith("data:image/svg+xml;base64,") and "<svg" in svg and "<path" in svg
    assert srv.get(f"/api/v1/booking/slots?service=cccd&date={TOMORROW}").json()["slots"][1]["left"] == 2
    status = srv.get(f"/api/v1/bookings/{got['code']}?cccd={ALICE}").json()["booking"]
    assert status["state"] == "confirmed" and ALICE not in str(status) and ALICE_PHONE not in str(status)
    assert srv.get(f"/api/v1/bookings/{got['code']}?cccd={BOB}").json()["error"] == "booking_unknown"
    looked = srv.post(f"/api/v1/bookings/{got['code'].lower()}/lookup", {"cccd": ALICE})
    assert looked.status_code == 200 and looked.json()["booking"] == status
    assert srv.post(f"/api/v1/bookings/{got['code']}/lookup", {"cccd": BOB}).status_code == 404

    # the kiosk: today is too early, and the answer says when to come
    r = srv.post("/api/v1/bookings/check-in", {"code": got["code"]}, headers=KIOSK)
    assert r.status_code == 409 and r.json()["error"] == "outside_window"
    assert (r.json()["arrive_from"], r.json()["arrive_until"], r.json()["date"], r.json()["reason"]) == \
        ("07:45", "08:15", TOMORROW, "early")
    assert srv.post("/api/v1/bookings/check-in", {"code": got["code"]}).status_code == 401  # a kiosk's token only
    clock.set_local(f"{TOMORROW} 07:45")
    typed = got["code"][:4].lower() + "-" + got["code"][4:]  # as typed on the on-screen keyboard
    r = srv.post("/api/v1/bookings/check-in", {"code": typed}, headers=KIOSK)
    assert r.status_code == 201, r.json()
    ticket, booking = r.json()["ticket"], r.json()["booking"]
    assert (ticket["service"], ticket["issued_by"], ticket["print_job"]["state"] in ("queued", "printed")) == \
        ("cccd", "kiosk-1", True)
    assert booking["state"] == "checked_in" and booking["ticket_id"] == ticket["id"]
    row = srv.ctx.store.find_ticket(ticket["id"])
    assert (row["source"], row["booking_id"] is not None, row["slot_start_ms"]) == ("online", True, 1795654800000)
    assert notifications.contact(srv.ctx.store, ticket["id"])["phone"] == ALICE_PHONE
    again = srv.post("/api/v1/bookings/check-in", {"code": got["code"]}, headers=KIOSK)
    assert (again.status_code, again.json()["error"], again.json()["reason"]) == (409, "booking_state", "checked_in")
    r = srv.post(f"/api/v1/bookings/{got['code']}/cancel", {"cccd": ALICE})
    assert (r.status_code, r.json()["error"]) == (409, "booking_state")


def test_check_in_by_the_citizen_card_qr(srv, clock):
    for service, start in (("cccd", "08:00"), ("civil", "08:30")):
        confirm(srv, book(srv, service=service, start=start))  # the outbox is read newest first
    qr = f"{ALICE}|012345678|Nguyễn Thị Ánh|01011990|Nữ|Số 1 Hàng Bài, Hoàn Kiếm, Hà Nội|01072021"
    clock.set_local(f"{TOMORROW} 07:30")
    r = srv.post("/api/v1/bookings/check-in", {"cccd_qr": qr}, headers=KIOSK)
    assert (r.status_code, r.json()["error"], r.json()["arrive_from"]) == (409, "outside_window", "07:45")
    clock.set_local(f"{TOMORROW} 08:16")  # the first one's window is over, the second's open
    r = srv.post("/api/v1/bookings/check-in", {"cccd_qr": qr}, headers=KIOSK)
    assert r.status_code == 201 and r.json()["booking"]["service"] == "civil" and r.json()["booking"]["start"] == "08:30"
    r = srv.post("/api/v1/bookings/check-in", {"cccd_qr": qr}, headers=KIOSK)  # only the late one is left
    assert (r.status_code, r.json()["error"], r.json()["reason"]) == (409, "outside_window", "late")
    bob = f"{BOB}||Trần Văn Bình|02021995|Nam||"  # a card with no booking
    assert srv.post("/api/v1/bookings/check-in", {"cccd_qr": bob}, headers=KIOSK).json()["error"] == "booking_unknown"
    r = srv.post("/api/v1/bookings/check-in", {"cccd_qr": "not|a|card"}, headers=KIOSK)
    assert (r.status_code, r.json()["error"]) == (400, "cccd_qr_unreadable")


def test_english_messages_and_cancel_by_the_holder(srv):
    made = book(srv, BOB, BOB_PHONE, lang="en", service="passport", start="13:15")
    msg = notifications.outbox(srv.ctx.store, kind="otp")[0]
    assert msg["to_phone"] == "0987000002" and msg["body"].startswith("Your booking code for Passport on 2026-11-26")
    got = confirm(srv, made)
    wrong = srv.post(f"/api/v1/bookings/{got['code']}/cancel?lang=en", {"cccd": ALICE})
    assert (wrong.status_code, wrong.json()["message"]) == (404, "The booking was not found.")
    r = srv.post(f"/api/v1/bookings/{got['code']}/cancel", {"cccd": BOB})
    assert r.status_code == 200 and r.json()["booking"]["state"] == "cancelled"
    full = srv.post("/api/v1/bookings?lang=en", {"service": "passport", "date": TOMORROW, "start": "13:15",
                                                 "cccd": "001090000003", "phone": "0345678901"})
    assert full.status_code == 202  # the place came back


def test_a_slot_full_and_the_limits_over_rest(srv):
    for i in range(3):
        confirm(srv, book(srv, f"00109000001{i}", f"091200001{i}"))
    r = srv.post("/api/v1/bookings", {"service": "cccd", "date": TOMORROW, "start": "08:00", "cccd": ALICE,
                                      "phone": ALICE_PHONE})
    assert (r.status_code, r.json()["error"], r.json()["start"]) == (409, "slot_full", "08:00")
    book(srv, start="08:30")  # Alice holds a place in the next slot
    book(srv, BOB, ALICE_PHONE, service="passport")  # her phone's second booking of the day
    r = srv.post("/api/v1/bookings", {"service": "civil", "date": TOMORROW, "start": "09:00", "cccd": "001090000003",
                                      "phone": ALICE_PHONE})
    assert (r.status_code, r.json()["error"], r.json()["reason"]) == (409, "booking_limit", "phone_day")
    r = srv.post("/api/v1/bookings", {"service": "cccd", "date": TOMORROW, "start": "09:00", "cccd": ALICE,
                                      "phone": "0912999999"})
    assert r.status_code == 202  # her own unconfirmed hold for the service is replaced, not counted
    slots = srv.get(f"/api/v1/booking/slots?service=cccd&date={TOMORROW}").json()["slots"]
    assert [s["left"] for s in slots[1:4]] == [0, 3, 2]


def test_one_address_gets_its_booking_requests_per_minute_and_kiosks_are_not_counted(srv, clock):
    for _ in range(30):
        assert srv.get(f"/api/v1/bookings/ABCDEFGH?cccd={ALICE}").status_code == 404
    r = srv.get(f"/api/v1/bookings/ABCDEFGH?cccd={ALICE}")
    assert (r.status_code, r.json()["error"], r.headers["Retry-After"]) == (429, "too_many_bookings", "60")
    assert srv.post("/api/v1/bookings", {"service": "cccd", "date": TOMORROW, "start": "08:00", "cccd": ALICE,
                                         "phone": ALICE_PHONE}).status_code == 429
    assert srv.post("/api/v1/bookings/check-in", {"code": "ABCDEFGH"}, headers=KIOSK).status_code == 404
    clock.advance(60)
    assert srv.get(f"/api/v1/bookings/ABCDEFGH?cccd={ALICE}").status_code == 404


S = "\ud800"  # a lone surrogate: JSON lets it through
GOOD = {"service": "cccd", "date": TOMORROW, "start": "08:00", "cccd": ALICE, "phone": ALICE_PHONE}
HOSTILE = [  # (method, URL, body or raw bytes, who, expected status)
    ("POST", "/api/v1/bookings", {**GOOD, "cccd": "001090000001" + S}, None, 400),
    ("POST", "/api/v1/bookings", {**GOOD, "phone": "09120000" + S}, None, 400),
    ("POST", "/api/v1/bookings", {**GOOD, "service": "cccd" + S}, None, 400),
    ("POST", "/api/v1/bookings", {**GOOD, "service": "../../etc"}, None, 404),
    ("POST", "/api/v1/bookings", {**GOOD, "date": "2026-02-30"}, None, 400),
    ("POST", "/api/v1/bookings", {**GOOD, "date": "9999-12-31"}, None, 409),
    ("POST", "/api/v1/bookings", {**GOOD, "start": "25:00"}, None, 404),
    ("POST", "/api/v1/bookings", {**GOOD, "start": "08:00' OR 1=1 --"}, None, 400),
    ("POST", "/api/v1/bookings", {**GOOD, "cccd": "00109000000１"}, None, 400),  # a full-width digit
    ("POST", "/api/v1/bookings", {**GOOD, "cccd": ["001090000001"]}, None, 400),
    ("POST", "/api/v1/bookings", {**GOOD, "lang": "fr"}, None, 400),
    ("POST", "/api/v1/bookings", {**GOOD, "extra": 1}, None, 400),
    ("POST", "/api/v1/bookings", [GOOD], None, 400),
    ("POST", "/api/v1/bookings", b'{"service": "cccd", "date": ', None, 400),
    ("POST", "/api/v1/bookings", b"[" * 5000, None, 400),
    ("POST", "/api/v1/bookings/x/confirm", {"otp": "123456"}, None, 404),
    ("POST", "/api/v1/bookings/" + "a" * 300 + "/confirm", {"otp": "123456"}, None, 404),
    ("POST", "/api/v1/bookings/abcdefgh12%ED%A0%80/confirm", {"otp": "123456"}, None, 404),
    ("POST", "/api/v1/bookings/abcdefgh12/confirm", {"otp": "12345" + S}, None, 400),
    ("POST", "/api/v1/bookings/abcdefgh12/confirm", {"otp": 123456}, None, 400),
    ("POST", "/api/v1/bookings/abcdefgh12/resend", None, None, 404),
    ("POST", "/api/v1/bookings/ABCDEFGH/cancel", {"cccd": ALICE + S}, None, 400),
    ("POST", "/api/v1/bookings/%00%00/cancel", {"cccd": ALICE}, None, 404),
    ("GET", "/api/v1/bookings/ABCDEFGH?cccd=%ED%A0%80", None, None, 400),
    ("GET", "/api/v1/bookings/ABCDEFGH", None, None, 404),
    ("GET", "/api/v1/booking/slots?service=cccd&date=2026-13-01", None, None, 400),
    ("GET", "/api/v1/booking/slots?service=cccd&date=" + "9" * 100, None, None, 400),
    ("GET", "/api/v1/booking/slots?service=&date=2026-11-26", None, None, 400),
    ("GET", "/api/v1/booking/slots?service=%ED%A0%80&date=2026-11-26", None, None, 404),
    ("POST", "/api/v1/bookings/check-in", {"code": "ABCDEFGH", "cccd_qr": "x|y"}, KIOSK, 400),
    ("POST", "/api/v1/bookings/check-in", {}, KIOSK, 400),
    ("POST", "/api/v1/bookings/check-in", {"code": "ABC" + S + "EFGH"}, KIOSK, 400),
    ("POST", "/api/v1/bookings/check-in", {"cccd_qr": "|" * 999}, KIOSK, 400),
    ("POST", "/api/v1/bookings/check-in", {"cccd_qr": ALICE + S + "|||||"}, KIOSK, 400),
    ("POST", "/api/v1/bookings/check-in", {"cccd_qr": 1}, KIOSK, 400),
    ("POST", "/api/v1/bookings/check-in", {"code": "ABCDEFGH"}, {"Authorization": "Bearer nope"}, 401),
]


def test_hostile_requests_get_a_4xx_and_change_nothing(srv):
    import json

    confirm(srv, book(srv))  # something to change, if a request could
    before = fingerprint(srv)
    wrong = []
    for method, url, data, who, expected in HOSTILE:
        raw = data if isinstance(data, bytes) else (json.dumps(data).encode() if data is not None else None)
        r = srv.request(method, url, data=raw, headers={**(who or {}), "Content-Type": "application/json"})
        if r.status_code != expected or not (r.json().get("error") and r.json().get("message")):
            wrong.append((method, url, str(data)[:60], r.status_code, r.text[:160]))
    assert wrong == []
    assert fingerprint(srv) == before


def test_the_day_keeper_ends_an_unused_booking_as_a_no_show(srv, clock):
    got = confirm(srv, book(srv))
    made = book(srv, BOB, BOB_PHONE, service="civil")  # a hold never confirmed
    clock.set_local(f"{TOMORROW} 08:15")
    srv.keep_day()
    assert srv.get(f"/api/v1/bookings/{got['code']}?cccd={ALICE}").json()["booking"]["state"] == "no_show"
    r = srv.post(f"/api/v1/bookings/{made['booking_id']}/confirm", {"otp": "000000"})
    assert (r.status_code, r.json()["error"], r.json()["reason"]) == (409, "booking_state", "expired")
    events = srv.ctx.store.events_since(0, limit=50)
    types = [e["type"] for e in events]
    assert types.count("booking.no_show") == 1 and types.count("booking.expired") == 1
    # every booking event was published by the process that wrote it, so its push never takes it for another's
    assert {e["seq"] for e in events if e["type"].startswith("booking.")} <= srv.ctx.push.local_set


def test_the_first_slot_of_the_morning_checks_in_from_the_opening_not_before(srv, clock):
    """The arrival window of a 07:30 slot opened at 07:15, when the service takes no ticket: the kiosk answered
    service_closed. It now opens with the service, and says so."""
    got = confirm(srv, book(srv, start="07:30"))
    assert (got["arrive_from"], got["arrive_until"]) == ("07:30", "07:45")
    clock.set_local(f"{TOMORROW} 07:20")
    r = srv.post("/api/v1/bookings/check-in", {"code": got["code"]}, headers=KIOSK)
    assert (r.status_code, r.json()["error"], r.json()["arrive_from"]) == (409, "outside_window", "07:30")
    clock.set_local(f"{TOMORROW} 07:30")
    assert srv.post("/api/v1/bookings/check-in", {"code": got["code"]}, headers=KIOSK).status_code == 201


def test_the_booking_qr_draws_the_code_alone():
    """The QR's dark squares are exactly the modules of a QR code whose text is the booking code (what a kiosk's
    scanner types back), drawn on white with a quiet zone."""
    import qrcode

    from queue_server.web.bookings import qr_data_uri

    svg = base64.b64decode(qr_data_uri("K7MP2QXA").removeprefix("data:image/svg+xml;base64,")).decode()
    squares = {(int(x), int(y)) for x, y in re.findall(r"M(\d+) (\d+)h1v1h-1z", svg)}
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    qr.add_data("K7MP2QXA")
    matrix = qr.get_matrix()
    assert squares == {(x, y) for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark}
    assert len(matrix) == 25 and 'viewBox="0 0 25 25"' in svg and 'fill="#fff"' in svg
    assert not {(x, y) for x, y in squares if min(x, y) < 2 or max(x, y) > 22}  # the quiet zone is white


def test_the_start_page_links_the_booking_page_only_when_bookings_are_on(srv, tmp_path, clock):
    assert 'href="/dat-lich"' in srv.get("/").text
    assert srv.get("/dat-lich").status_code == 200
    text = (FIXTURES / "centre.yaml").read_text(encoding="utf-8").replace("booking:\n  enabled: true", "booking:\n  enabled: false")
    assert "enabled: false" in text
    (tmp_path / "off.yaml").write_text(text, encoding="utf-8")
    off = InProcessServer(tmp_path / "off.yaml", tmp_path / "off.sqlite3", clock)
    try:
        page = off.get("/").text
        assert 'href="/dat-lich"' not in page and 'href="/thoi-gian-cho"' in page
    finally:
        off.close()


def test_the_daily_cap_keeps_the_places_booked_and_a_check_in_is_never_refused_for_it(srv, clock):
    """`records` takes 4 tickets a day, 08:00-10:00, one booking place a slot. Walk-ins filled the cap before
    the booked công dân came, whose check-in then got 409 service_full: the booking's promise was broken. Now
    the cap keeps the places still booked; a place left unused goes back to the walk-ins."""
    def slots_left():
        return [s["left"] for s in srv.get(f"/api/v1/booking/slots?service=records&date={TOMORROW}").json()["slots"]]

    def walk_in():
        return srv.post("/api/v1/tickets", {"service": "records"}, headers=KIOSK)

    assert slots_left() == [1, 1, 1, 1]
    alice = confirm(srv, book(srv, service="records", start="08:00"))
    bob = confirm(srv, book(srv, BOB, BOB_PHONE, service="records", start="08:30"))
    assert slots_left() == [0, 0, 1, 1]
    clock.set_local(f"{TOMORROW} 08:00")
    assert [walk_in().status_code for _ in range(2)] == [201, 201]
    full = walk_in()
    assert (full.status_code, full.json()["error"]) == (409, "service_full")  # 2 issued + 2 booked to come
    services = {s["id"]: s for s in srv.get("/api/v1/services").json()["services"]}
    assert (services["records"]["state"], services["records"]["issued_today"],
            services["records"]["booked_to_come"]) == ("full", 2, 2)
    assert slots_left() == [0, 0, 0, 0]  # no room under the cap today for a new booking either
    r = srv.post("/api/v1/bookings", {"service": "records", "date": TOMORROW, "start": "09:30",
                                      "cccd": "001090000003", "phone": "0912000003"})
    assert (r.status_code, r.json()["error"]) == (409, "slot_full")
    checked = srv.post("/api/v1/bookings/check-in", {"code": alice["code"]}, headers=KIOSK)
    assert checked.status_code == 201, checked.json()  # its place was kept
    assert walk_in().status_code == 409
    clock.set_local(f"{TOMORROW} 08:45")  # Bob's arrival window has ended: his place goes back to the walk-ins
    srv.keep_day()
    assert srv.get(f"/api/v1/bookings/{bob['code']}?cccd={BOB}").json()["booking"]["state"] == "no_show"
    assert walk_in().status_code == 201
    full = walk_in()
    assert (full.status_code, full.json()["error"]) == (409, "service_full")  # 4 issued: the cap
