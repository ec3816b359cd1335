"""The counter terminal and the supervisor dashboard in daily use, in Debian's chromium against a real server, over
both test centres (the demo centre and the big city centre, counters 101-170), at the counter's 1366x768:

- an empty queue is a calm "Chưa có công dân chờ", not a red error; the first arrival clears it, shows the count
  on "Gọi tiếp" and plays a chime (terminal.chime);
- "Gọi tiếp" while a ticket is at the counter asks first (terminal.confirm_next);
- the transfer dialog leaves out the ticket's own service, keeps its counts live, marks closed services, has
  "xếp cuối hàng" above the list and sends only after a confirm;
- a chip by the current ticket counts the parked tickets;
- in English the services' names and the server's refusals are in English;
- the supervisor's first alert is "N công dân chờ, không có quầy mở", no English shows in Vietnamese, times read
  "2 phút trước", and service chips stay inside their tiles (the page is never wider than the window).
"""
from __future__ import annotations

import re

import pytest
import requests
import yaml

from conftest import ARTIFACTS
from server_util import AGENT, ServerProcess, big_server_config, server_config
from test_terminal_page import act, current_code, watch

pytestmark = pytest.mark.browser

COUNTER_SIZE = {"width": 1366, "height": 768}
CENTRES = {
    "demo": {"config": lambda tmp: server_config(tmp, extra_counters=0), "user": "canbo1", "counter": "1",
             "service": "cccd", "service_en": "Identity card", "other": "passport", "closed": "land", "unserved": "civil",
             "kiosk": "test-kiosk-token-1"},
    "big": {"config": big_server_config, "user": "canbo108", "counter": "101",
            "service": "can_cuoc", "service_en": "Can Cuoc", "other": "ho_chieu", "closed": "dat_dai", "unserved": "ly_lich",
            "kiosk": "big-kiosk-token-1"},
}


@pytest.fixture(scope="module", params=sorted(CENTRES))
def centre(request, tmp_path_factory):
    """One server per centre for the whole module, with an LED board above the terminal's counter."""
    c = CENTRES[request.param]
    tmp = tmp_path_factory.mktemp(request.param)
    path = c["config"](tmp)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["devices"]["led_boards"] = [{"id": "led-1", "counter": c["counter"], "port": "loop://", "agent": "agent-1"}]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    srv = ServerProcess(path, tmp / "qms.sqlite3", "eventlet").start()
    yield {**c, "name": request.param, "server": srv, "url": srv.url}
    srv.stop()


@pytest.fixture(scope="module")
def context(chromium):
    ctx = chromium.new_context(viewport=COUNTER_SIZE, locale="vi-VN")
    yield ctx
    ctx.close()


def issue(c, service: str) -> dict:
    r = requests.post(c["url"] + "/api/v1/tickets", json={"service": service},
                      headers={"Authorization": "Bearer " + c["kiosk"]}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def fits(page, selector: str) -> bool:
    """Nothing in the element is wider than its box."""
    return page.eval_on_selector(selector, "e => e.scrollWidth <= e.clientWidth + 1")


def page_fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_counter_terminal_in_daily_use(centre, context):
    c, srv = centre, centre["server"]
    sup = srv.login("super", "test-super")
    r = requests.post(c["url"] + f"/api/v1/services/{c['closed']}", json={"state": "closed"}, headers=sup, timeout=10)
    assert r.status_code == 200, r.text

    page = context.new_page()
    errors = watch(page)
    page.goto(c["url"] + "/counter")
    page.fill("#username", c["user"])
    page.fill("#password", "test-staff")
    page.click("#signin-btn")
    page.click(f"#counter-list .pick[data-counter='{c['counter']}']")
    page.wait_for_function("window.qmsTerminal.conn === 'online' && window.qmsTerminal.counter !== null")
    assert act(page, "open")["ok"]

    # nobody waits: a calm line, not a red error; the server's answer is kept for support
    ack = act(page, "next")
    assert ack["ok"] is False and ack["code"] == "nothing_waiting"
    assert page.get_attribute("#ack", "class") == "ack idle"
    assert page.inner_text("#ack") == "Chưa có công dân chờ."
    assert page.eval_on_selector("#ack", "e => getComputedStyle(e).color") != "rgb(179, 38, 30)"  # not --bad
    assert page.is_hidden("#next-count")

    # a citizen arrives: the line clears, "Gọi tiếp" shows 1, one chime; a second arrival: 2, no second chime
    first = issue(c, c["service"])
    page.wait_for_function("document.querySelector('#next-count').textContent === '1'")
    assert page.inner_text("#ack") == "" and "idle" not in page.get_attribute("#ack", "class")
    assert page.is_visible("#next-count")
    assert "arrived" in page.get_attribute("#actions .act[data-op='next']", "class")
    assert page.evaluate("window.qmsTerminal.chimes.length") == 1
    assert page.evaluate("window.qmsTerminal.chimes[0].sound") in ("running", "suspended")
    second = issue(c, c["service"])
    page.wait_for_function("document.querySelector('#next-count').textContent === '2'")
    assert page.evaluate("window.qmsTerminal.chimes.length") == 1

    # "Gọi tiếp" while a ticket is at the counter asks first; "Hủy" sends nothing
    assert act(page, "next")["ok"] and current_code(page) == first["code"]
    presses = page.evaluate("window.qmsTerminal.presses.length")
    page.keyboard.press("n")
    page.wait_for_selector("#dlg-next[open]")
    assert first["code"] in page.inner_text("#next-question")
    page.click("#dlg-next [data-close]")
    assert page.evaluate("window.qmsTerminal.presses.length") == presses and current_code(page) == first["code"]

    # transfer: not to its own service; "xếp cuối hàng" above the list; closed services marked and last
    page.keyboard.press("c")
    page.wait_for_selector("#dlg-transfer[open]")
    page.wait_for_function("window.qmsTerminal.transferReads >= 1")
    ids = page.eval_on_selector_all("#transfer-list .target", "els => els.map(e => e.dataset.id)")
    assert c["service"] not in ids and c["other"] in ids and c["closed"] in ids
    closed = page.locator(f"#transfer-list .target[data-id='{c['closed']}']")
    assert "closed" in closed.get_attribute("class") and "Đang đóng" in closed.inner_text()
    assert ids.index(c["closed"]) > ids.index(c["other"])
    assert page.locator("#transfer-last").bounding_box()["y"] < page.locator("#transfer-list").bounding_box()["y"]
    assert fits(page, "#transfer-list")
    # the counts are live: a citizen taking a number for the other service shows while the dialog is open
    other = page.locator(f"#transfer-list .target[data-id='{c['other']}']")
    assert "· 0 người" in other.inner_text()
    issue(c, c["other"])
    page.wait_for_function(f"document.querySelector(\"#transfer-list .target[data-id='{c['other']}']\")"
                           ".textContent.includes('· 1 người')", timeout=5_000)
    # a tap chooses, nothing is sent until the confirm
    n = page.evaluate("window.qmsTerminal.ackCount")
    page.click(f"#transfer-list .target[data-id='{c['other']}']")
    page.wait_for_selector("#transfer-confirm:not([hidden])")
    assert page.inner_text("#transfer-question").startswith(f"Chuyển số {first['code']} sang ")
    assert page.evaluate("window.qmsTerminal.ackCount") == n and page.is_visible("#dlg-transfer")
    page.check("#transfer-last")
    assert "xếp cuối hàng đợi" in page.inner_text("#transfer-question")
    page.click("#transfer-go")
    page.wait_for_function(f"window.qmsTerminal.ackCount > {n} && !window.qmsTerminal.pending")
    assert page.evaluate("window.qmsTerminal.lastAck.ok") and current_code(page) == "—"

    # parked tickets: a chip by the current ticket counts them, inside the first screen
    assert act(page, "next")["ok"] and current_code(page) == second["code"]
    assert page.is_hidden("#parked-chip")
    assert act(page, "park")["ok"]
    page.wait_for_function("document.querySelector('#parked-chip').dataset.count === '1'")
    assert act(page, "next")["ok"]
    assert act(page, "park")["ok"]
    page.wait_for_function("document.querySelector('#parked-chip').dataset.count === '2'")
    assert page.inner_text("#parked-chip") == "Đang tạm giữ: 2 số"
    chip = page.locator("#parked-chip").bounding_box()
    assert chip["y"] + chip["height"] <= COUNTER_SIZE["height"]
    for sel in ("#current-card", "#actions", "#waiting-body", "#parked-chip"):
        assert fits(page, sel), sel
    assert page_fits(page)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"counter-daily-{c['name']}.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000

    # English: service names in English, and the server's refusals too
    page.click("#btn-lang")
    page.wait_for_function("window.qmsTerminal.conn === 'online' && document.documentElement.lang === 'en'")
    assert page.inner_text(f"#waiting-body tr[data-service='{c['service']}'] td.svc strong") == c["service_en"]
    page.keyboard.press("s")
    page.wait_for_selector("#dlg-call[open]")
    page.fill("#call-code", "99999")
    n = page.evaluate("window.qmsTerminal.ackCount")
    page.click("#call-submit")
    page.wait_for_function(f"window.qmsTerminal.ackCount > {n}")
    ack = page.evaluate("window.qmsTerminal.lastAck")
    assert ack["ok"] is False and ack["code"] == "ticket_unknown"
    assert page.inner_text("#ack").endswith("Ticket 99999 was not found.")
    page.click("#btn-lang")
    page.close()
    assert errors == []


@pytest.mark.parametrize("centre", ["big"], indirect=True)  # its long names are the ones that overflowed
def test_supervisor_in_vietnamese(centre, chromium):
    c, srv = centre, centre["server"]
    issue(c, c["unserved"])  # no open counter serves it
    r = requests.post(c["url"] + "/api/v1/devices/led_board/led-1/status", json={"state": "offline", "detail": "disconnected"},
                      headers=AGENT, timeout=10)
    assert r.status_code == 200, r.text
    ctx = chromium.new_context(viewport=COUNTER_SIZE, locale="vi-VN")
    try:
        page = ctx.new_page()
        errors = watch(page)
        page.goto(c["url"] + "/supervisor")
        page.fill("#username", "super")
        page.fill("#password", "test-super")
        page.click("#signin-btn")
        page.wait_for_selector("#counters .counter")
        page.wait_for_selector('#devices-body tr[data-device="led_board:led-1"] td.seen:not(:empty)')

        alerts = page.locator("#alerts .alert")
        assert alerts.first.get_attribute("data-alert") == f"no_counter:{c['unserved']}"
        assert alerts.first.inner_text().endswith(": 1 công dân chờ, không có quầy mở")

        # no English in Vietnamese: the LED board's name and detail, the role, the alerts
        text = page.inner_text("body")
        for english in ("(disconnected)", "counter " + c["counter"], "disconnected", "(supervisor)", "ago"):
            assert english not in text, english
        led = page.inner_text('#devices-body tr[data-device="led_board:led-1"]')
        assert f"quầy {c['counter']}" in led and "mất kết nối" in led
        assert re.fullmatch(r"vừa xong|\d+ giây trước", page.inner_text('#devices-body tr[data-device="led_board:led-1"] td.seen'))
        assert page.evaluate("[QMS.agoText(130000), QMS.agoText(3720000)]") == ["2 phút trước", "1 giờ 2 phút trước"]

        # service chips stay inside their tiles; nothing is wider than the window
        out = page.evaluate("""() => [...document.querySelectorAll('#counters .counter')].flatMap(tile => {
            const box = tile.getBoundingClientRect();
            return [...tile.querySelectorAll('.svc-list .chip')].filter(ch => {
                const r = ch.getBoundingClientRect();
                return r.right > box.right + 0.5 || r.left < box.left - 0.5 || ch.scrollWidth > ch.clientWidth + 1;
            }).map(ch => tile.dataset.counter + ': ' + ch.textContent);
        })""")
        assert out == []
        assert page_fits(page)
        shot = ARTIFACTS / f"supervisor-daily-{c['name']}.png"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        assert errors == []
    finally:
        ctx.close()
