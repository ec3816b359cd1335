"""The display pages (GET /display/<display_id>) in Debian's chromium against real server processes: zone
filters, the counter display, a burst of calls announced in order and once each, blocked autoplay (a badge),
an unknown display, and a server restart (the "mất kết nối" banner, then a catch-up that announces nothing old).
"""
from __future__ import annotations

import time

import pytest
import requests
import yaml

from server_util import ServerProcess, server_config
from test_terminal_page import (act, announced, context, current_code, issue, open_display,  # noqa: F401 - context is a fixture
                                open_terminal, save_shot, wait_text)

pytestmark = pytest.mark.browser

NOTICE = "Công dân vui lòng chuẩn bị căn cước trước khi đến quầy."

# Headless chromium lets every page play sound whatever --autoplay-policy says (checked on chromium 150), so
# this test imposes Chrome's own rule for pages without a user gesture: play() is refused with NotAllowedError
# until the user has interacted with the page (navigator.userActivation, set by a real click).
AUTOPLAY_RULE = """
(() => {
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function () {
    if (!navigator.userActivation.hasBeenActive) {
      return Promise.reject(new DOMException("play() failed because the user didn't interact with the document first.",
                                             'NotAllowedError'));
    }
    return play.call(this);
  };
})();
"""


def centre_with_displays(tmp_path):
    """The test centre plus a counter display above counter 3 and a notice on hall-a."""
    path = server_config(tmp_path, extra_counters=2)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for d in data["devices"]["displays"]:
        if d["id"] == "hall-a":
            d["notice"] = NOTICE
    data["devices"]["displays"].append({"id": "counter-3", "name": "Màn hình quầy 3", "kind": "counter", "counter": "3"})
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def server(tmp_path):
    srv = ServerProcess(centre_with_displays(tmp_path), tmp_path / "qms.sqlite3", "eventlet").start()
    yield srv
    srv.stop()


def rest_next(server, headers, counter: str, current: int | None = None) -> dict:
    r = server.post(f"/api/v1/counters/{counter}/next", {"current": current}, headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_filters_counter_display_burst_overlay_and_unknown_display(server, context, chromium):
    sup = server.login("super", "test-super")
    for c in ("1", "2", "3", "6"):
        assert server.post(f"/api/v1/counters/{c}/open", None, sup).status_code == 200
    for _ in range(3):
        issue(server, "cccd")
    issue(server, "civil")
    issue(server, "civil")

    hall_a, errors_a = open_display(context, server.url, "hall-a")   # zone A: police
    hall_b, errors_b = open_display(context, server.url, "hall-b", "?voice=browser")   # zone B: justice, land
    small, errors_c = open_display(context, server.url, "counter-3")
    assert small.is_visible("#cs") and not small.is_visible("#hl-code")
    wait_text(small, "#cs-name", "QUẦY 3")
    assert hall_a.inner_text("#notice") == NOTICE

    # a burst: four calls at four counters, back to back
    calls = [rest_next(server, sup, c) for c in ("1", "2", "6", "3")]
    codes = [c["ticket"]["code"] for c in calls]
    assert codes == ["1001", "1002", "1003", "A001"]
    police_seqs = [c["seq"] for c in calls[:3]]

    wait_text(hall_a, "#hl-code", "1003")
    wait_text(hall_b, "#hl-code", "A001")
    wait_text(small, "#cs-code", "A001")
    hall_a.wait_for_function("window.qmsAnnouncer.log.length === 3")
    hall_b.wait_for_function("window.qmsAnnouncer.log.length === 1")
    # each display announces its own department's calls, in order, once; the counter display only its counter
    assert [e["seq"] for e in announced(hall_a)] == police_seqs
    assert [e["seq"] for e in announced(hall_b)] == [calls[3]["seq"]]
    assert [e["seq"] for e in announced(small)] == [calls[3]["seq"]]
    feed = requests.get(server.url + "/api/v1/displays/hall-a", timeout=5).json()["state"]["recent_calls"]
    assert {c["seq"]: c["voice"]["clips"] for c in feed} == {e["seq"]: e["clips"] for e in announced(hall_a)}
    assert "A001" not in hall_a.inner_text("body") and "1001" not in hall_b.inner_text("body")
    # ?voice=browser speaks with a vi-VN voice when the browser has one, else plays the clips (and says so)
    hall_b.wait_for_function("window.qmsAnnouncer.log[0].engine_used !== undefined")
    entry = hall_b.evaluate("window.qmsAnnouncer.log[0]")
    has_vi = hall_b.evaluate("speechSynthesis.getVoices().some(v => /^vi/i.test(v.lang))")
    assert entry["engine"] == "browser" and entry["engine_used"] == ("browser" if has_vi else "clips")
    if not has_vi:
        hall_b.wait_for_selector("#voice-note", state="visible")
        assert "không có giọng đọc tiếng Việt" in hall_b.inner_text("#voice-note")
    for c, code in (("1", "1001"), ("2", "1002"), ("6", "1003")):
        wait_text(hall_a, f"#counters [data-counter='{c}'] .c-code", code)
    assert hall_a.eval_on_selector_all("#calls li .l-code", "els => els.map(e => e.textContent)") == ["1003", "1002", "1001"]
    hall_a.wait_for_function("document.querySelector('#waiting [data-department=police] .w-num').textContent === '0'")
    wait_text(hall_b, "#waiting [data-department=justice] .w-num", "1")
    assert hall_a.get_attribute("#headline", "data-flashed") == str(police_seqs[-1])  # the new call flashed

    # the queue never plays two clips at once, and plays the calls in their order
    hall_a.wait_for_function("window.qmsAnnouncer.played.filter(p => p.end !== null).length >= 3", timeout=10_000)
    played = hall_a.evaluate("window.qmsAnnouncer.played.filter(p => p.end !== null)")
    assert all(b["start"] >= a["end"] for a, b in zip(played, played[1:]))
    assert [p["seq"] for p in played] == sorted(p["seq"] for p in played)

    # an administrator changes the notice: the scrolling line changes at once, the other zone's does not
    admin = server.login("admin", "test-admin")
    r = requests.put(server.url + "/api/v1/admin/notices/hall-a", json={"text": "Chiều nay nghỉ từ 16:00.", "text_en": ""},
                     headers=admin, timeout=5)
    assert r.status_code == 200, r.text
    wait_text(hall_a, "#notice", "Chiều nay nghỉ từ 16:00.")
    assert hall_b.is_hidden("#notice-bar")
    r = requests.put(server.url + "/api/v1/admin/notices/hall-a", json={"text": "", "text_en": ""}, headers=admin, timeout=5)
    wait_text(hall_a, "#notice", NOTICE)  # back to the notice of config.yaml

    save_shot(hall_a, "display-hall-a-burst.png", "display.png")
    save_shot(small, "display-counter-3.png")
    portrait = context.new_page()
    portrait.set_viewport_size({"width": 1080, "height": 1920})
    portrait.goto(server.url + "/display/hall-a")
    wait_text(portrait, "#hl-code", "1003")
    save_shot(portrait, "display-hall-a-portrait.png")
    portrait.close()

    # autoplay blocked: the page shows a small badge over nothing (the board stays in view: tests/test_display_tv.py),
    # holds the queue until one tap, then plays the call it was holding
    blocked_ctx = chromium.new_context(viewport={"width": 1920, "height": 1080}, locale="vi-VN")
    try:
        blocked_ctx.add_init_script(AUTOPLAY_RULE)
        tv, errors_tv = open_display(blocked_ctx, server.url, "hall-b")
        tv.wait_for_selector("#sound-badge", state="visible")
        assert "Âm thanh đang tắt" in tv.inner_text("#sound-badge") and "tap to enable" in tv.inner_text("#sound-badge")
        assert "--autoplay-policy=no-user-gesture-required" in tv.get_attribute("#sound-badge", "title")
        second = rest_next(server, sup, "3", current=calls[3]["ticket"]["id"])
        assert second["ticket"]["code"] == "A002"
        wait_text(tv, "#hl-code", second["ticket"]["code"])
        tv.wait_for_function("window.qmsAnnouncer.log.length === 1")
        # the queue has reached the call and waits for the tap (it holds an unblock callback) ...
        tv.wait_for_function("window.qmsAnnouncer.running && window.qmsAnnouncer._unblock !== null")
        # ... held: nothing played, nothing lost
        assert tv.evaluate("window.qmsAnnouncer.running && window.qmsAnnouncer.blocked && window.qmsAnnouncer.played.length === 0")
        save_shot(tv, "display-autoplay-blocked.png")
        tv.click("#sound-badge")
        tv.wait_for_selector("#sound-badge", state="hidden")
        tv.wait_for_function("window.qmsAnnouncer.played.some(p => p.result === 'ended')", timeout=10_000)
        first = tv.evaluate("window.qmsAnnouncer.played.find(p => p.result === 'ended')")
        assert first["seq"] == second["seq"] and first["clip"] == "chime"  # resumed at the refused clip
        assert [e["seq"] for e in announced(tv)] == [second["seq"]]
        assert errors_tv == []
    finally:
        blocked_ctx.close()

    # an unknown display id: a 404 page naming the configured displays
    r = requests.get(server.url + "/display/no-such-screen", timeout=5)
    assert r.status_code == 404 and "text/html" in r.headers["Content-Type"]
    assert "Không có màn hình" in r.text and "/display/hall-a" in r.text
    assert errors_a == [] and errors_b == [] and errors_c == []


def test_display_survives_a_server_restart_and_catches_up_without_announcing_old_calls(tmp_path, context):
    cfg, db = centre_with_displays(tmp_path), tmp_path / "qms.sqlite3"
    first = ServerProcess(cfg, db, "eventlet").start()
    second = None
    try:
        for _ in range(4):
            issue(first, "cccd")
        display, display_errors = open_display(context, first.url, "hall-a")
        term, term_errors = open_terminal(context, first.url, counter="1")
        assert act(term, "open")["ok"] and act(term, "next")["ok"]
        wait_text(display, "#hl-code", "1001")
        display.wait_for_function("window.qmsAnnouncer.log.length === 1")

        first.stop()
        # both pages say they are offline, keep what they showed, and the terminal refuses to send
        display.wait_for_selector("#conn-banner", state="visible", timeout=10_000)
        assert "MẤT KẾT NỐI" in display.inner_text("#conn-banner")
        assert display.inner_text("#hl-code") == "1001"
        term.wait_for_selector("#offline-reason", state="visible", timeout=10_000)
        assert "Mất kết nối" in term.inner_text("#offline-reason")
        assert term.is_disabled("#actions .act[data-op='next']")
        assert "Mất kết nối" in term.get_attribute("#actions .act[data-op='next']", "title")
        assert term.inner_text("#conn") == "Mất kết nối"
        save_shot(display, "display-offline.png")

        # while the server is down, two calls are made on the same database (as the CLI would)
        from queue_server.config import load_config
        from queue_server.store import Store

        store = Store(db, load_config(cfg))
        try:
            one = store.counter("1")
            got = store.call_next("1", expect_current=one["current_ticket_id"], staff_id=one["staff_id"], actor="test")
            assert got.ticket["code"] == "1002"
            store.set_counter_state("2", "open", actor="test")
            assert store.call_next("2", expect_current=None, actor="test").ticket["code"] == "1003"
            missed = [e["seq"] for e in store.events_since(0) if e["type"] == "ticket.called"][-2:]
        finally:
            store.close()

        second = ServerProcess(cfg, db, "eventlet", port=first.port).start()
        display.wait_for_selector("#conn-banner", state="hidden", timeout=15_000)
        # caught up: the missed calls are shown (replayed, not announced), counts and counters are current
        wait_text(display, "#hl-code", "1003")
        wait_text(display, "#counters [data-counter='1'] .c-code", "1002")
        wait_text(display, "#counters [data-counter='2'] .c-code", "1003")
        display.wait_for_function("window.qmsDisplay.catchups >= 1")
        wait_text(display, "#waiting [data-department=police] .w-num", "1")
        received = display.evaluate("window.qmsDisplay.received")
        assert [(r["seq"], r["replayed"]) for r in received[-2:]] == [(missed[0], True), (missed[1], True)]
        assert len(announced(display)) == 1
        assert display.eval_on_selector_all("#calls li .l-code", "els => els.map(e => e.textContent)") == ["1003", "1002", "1001"]

        # the terminal is back with a fresh state and works again; the new call is announced, live
        term.wait_for_function("window.qmsTerminal.conn === 'online'", timeout=15_000)
        term.wait_for_selector("#offline-reason", state="hidden")
        wait_text(term, "#current-code", "1002")
        t0 = time.monotonic()
        assert act(term, "next", key="n")["ok"] and current_code(term) == "1004"
        wait_text(display, "#hl-code", "1004", timeout=1_000)
        assert time.monotonic() - t0 < 2
        display.wait_for_function("window.qmsAnnouncer.log.length === 2")
        assert announced(display)[-1]["seq"] > missed[1]
        assert display_errors == [] and term_errors == []
    finally:
        first.stop()
        if second:
            second.stop()
