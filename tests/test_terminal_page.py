"""The counter terminal page (GET /counter) in Debian's chromium against a real server process, with the hall
display page open in the same browser: a press on the counter page reaches the display within a second and
queues exactly the clips the server announced; recall, no-show, transfer (with a search without diacritics),
park/resume, start/finish, call by number, break, errors, reload and sign-out.

Screenshots go to test-artifacts/; with QMS_UPDATE_SCREENSHOTS=1 the README's copy under docs/screenshots/ is
rewritten too.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import requests

from server_util import KIOSK, ServerProcess, server_config

pytestmark = pytest.mark.browser

ROOT = Path(__file__).parent.parent
ARTIFACTS = ROOT / "test-artifacts"
DOC_SHOTS = ROOT / "docs" / "screenshots"


# ------------------------------------------------------------------ helpers shared with test_display_page.py
@pytest.fixture
def server(tmp_path):
    srv = ServerProcess(server_config(tmp_path, extra_counters=2), tmp_path / "qms.sqlite3", "eventlet").start()
    yield srv
    srv.stop()


@pytest.fixture
def context(chromium):
    """One browser context: the counter page and the display page side by side, as in the hall."""
    ctx = chromium.new_context(viewport={"width": 1920, "height": 1080}, locale="vi-VN")
    yield ctx
    ctx.close()


def watch(page) -> list[str]:
    """Collect uncaught script errors of a page (every test asserts there were none)."""
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def issue(server, service="cccd") -> dict:
    r = server.post("/api/v1/tickets", {"service": service}, KIOSK)
    assert r.status_code == 201, r.text
    return r.json()


def open_display(ctx, url: str, display_id: str, query: str = ""):
    page = ctx.new_page()
    errors = watch(page)
    page.goto(f"{url}/display/{display_id}{query}")
    page.wait_for_function("window.qmsDisplay && window.qmsDisplay.snapSeq >= 0", timeout=10_000)
    return page, errors


def open_terminal(ctx, url: str, counter: str = "1", user: str = "canbo1", password: str = "test-staff",
                  size=(1280, 800)):
    """Sign in on /counter, pick the counter, wait for the live connection and the counter's snapshot."""
    page = ctx.new_page()
    page.set_viewport_size({"width": size[0], "height": size[1]})
    errors = watch(page)
    page.goto(url + "/counter")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#signin-btn")
    page.click(f"#counter-list .pick[data-counter='{counter}']")
    page.wait_for_function("window.qmsTerminal.conn === 'online' && window.qmsTerminal.counter !== null", timeout=10_000)
    return page, errors


def act(page, op: str, key: str | None = None, timeout: float = 10_000) -> dict:
    """Press a terminal button (or its keyboard shortcut) and wait for the server's acknowledgement. "Next" while
    a ticket is at the counter asks first (terminal.confirm_next): the question is answered yes."""
    n = page.evaluate("window.qmsTerminal.ackCount")
    if key:
        page.keyboard.press(key)
    else:
        page.click(f"#actions .act[data-op='{op}']")
    page.wait_for_function(f"window.qmsTerminal.ackCount > {n} || !!document.querySelector('#dlg-next[open]')",
                           timeout=timeout)
    if page.evaluate("!!document.querySelector('#dlg-next[open]')"):
        assert op == "next"
        page.click("#next-confirm")
    page.wait_for_function(f"window.qmsTerminal.ackCount > {n} && !window.qmsTerminal.pending", timeout=timeout)
    return page.evaluate("window.qmsTerminal.lastAck")


def current_code(page) -> str:
    return page.inner_text("#current-code").strip()


def wait_text(page, selector: str, text: str, timeout: float = 5_000) -> None:
    page.wait_for_function("([s, t]) => { const e = document.querySelector(s); return !!e && e.textContent.trim() === t; }",
                           arg=[selector, text], timeout=timeout)


def announced(page) -> list[dict]:
    return page.evaluate("window.qmsAnnouncer.log.map(e => ({seq: e.seq, clips: e.clips, repeat: e.repeat}))")


def save_shot(page, name: str, doc_name: str | None = None) -> Path:
    """A screenshot in test-artifacts/; with QMS_UPDATE_SCREENSHOTS=1 also a small copy for the README."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000  # a real rendering, not a blank page
    if doc_name and os.environ.get("QMS_UPDATE_SCREENSHOTS") == "1":
        from PIL import Image

        DOC_SHOTS.mkdir(parents=True, exist_ok=True)
        img = Image.open(path).convert("RGB")
        img.thumbnail((1280, 1280))
        img = img.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        out = DOC_SHOTS / doc_name
        img.save(out, optimize=True)
        assert out.stat().st_size < 300_000, f"{out} is {out.stat().st_size} bytes"
    return path


def call_events(server, headers) -> list[dict]:
    events = server.get("/api/v1/events?since=0&limit=1000", headers).json()["events"]
    return [e for e in events if e["type"] in ("ticket.called", "ticket.resumed")]


# ------------------------------------------------------------------ tests
def test_next_reaches_the_display_within_a_second_and_queues_exactly_its_clips(server, context):
    for _ in range(3):
        issue(server)
    display, display_errors = open_display(context, server.url, "hall-a")
    term, term_errors = open_terminal(context, server.url)

    assert term.is_visible("#actions .act[data-op='open']")
    assert term.is_disabled("#actions .act[data-op='next']")  # closed: disabled, with the reason shown
    assert "Mở quầy" in term.inner_text("#actions-reason")
    ack = act(term, "open", key="m")
    assert ack["ok"] is True and "Đã mở quầy" in ack["text"]
    term.wait_for_function("!document.querySelector(\"#actions .act[data-op='next']\").disabled")

    t0 = time.monotonic()
    ack = act(term, "next", key="n")
    wait_text(display, "#hl-code", "1001", timeout=1_000)  # the display shows the number within 1 s
    wall = time.monotonic() - t0
    press_ms = term.evaluate("window.qmsTerminal.presses.at(-1).ms")
    got = display.evaluate("window.qmsDisplay.received.at(-1)")
    latency_ms = got["ms"] - press_ms
    print(f"press -> display: {latency_ms} ms in the browser, {wall * 1000:.0f} ms wall")
    assert got["code"] == "1001" and got["replayed"] is False
    assert 0 <= latency_ms < 1000
    assert ack["ok"] is True and ack["text"].endswith("Đã gọi số 1001.")
    assert current_code(term) == "1001"
    assert display.inner_text("#hl-counter-number").strip() == "1"

    # the announcer queued exactly the server's clip sequence for this call, once
    call = server.get("/api/v1/displays/hall-a").json()["state"]["recent_calls"][0]
    assert call["code"] == "1001" and call["voice"], "the call view has no `voice` (engineer 4b's part)"
    assert announced(display) == [{"seq": call["seq"], "clips": call["voice"]["clips"], "repeat": call["voice"]["repeat"]}]
    # ... and plays it clip by clip in that order, never two at once, to the end
    display.wait_for_function("!window.qmsAnnouncer.running", timeout=60_000)
    played = display.evaluate("window.qmsAnnouncer.played")
    assert [p["clip"] for p in played] == call["voice"]["clips"]
    assert [p["result"] for p in played] == ["ended"] * len(played), played
    assert all(b["start"] >= a["end"] for a, b in zip(played, played[1:]))
    gaps = [b["start"] - a["end"] for a, b in zip(played, played[1:])]
    print(f"announcement: {len(played)} clips in {(played[-1]['end'] - played[0]['start']) / 1000:.1f} s, "
          f"gaps between clips (ms) {sorted(round(g) for g in gaps)} (one is the pause between the two sayings)")

    # the terminal shows the call's timer, the waiting count and the next numbers of its services
    term.wait_for_function("document.querySelector('#waiting-body tr[data-service=cccd] td.num').textContent === '2'")
    assert "1002 · 1003" in term.inner_text("#waiting-body tr[data-service=cccd]")
    assert term.inner_text("#current-timer").startswith("Đã gọi 00:")
    assert term.inner_text("#conn") == "Đã kết nối"
    assert "1001" in term.inner_text("#history-body")

    save_shot(display, "display-hall-a.png", "display.png")
    save_shot(term, "counter-terminal.png")
    assert display_errors == [] and term_errors == []


def test_recall_no_show_transfer_park_resume_and_the_rest(server, context):
    for _ in range(4):
        issue(server)  # 1001 .. 1004 (police: identity card)
    sup = server.login("super", "test-super")
    display, display_errors = open_display(context, server.url, "hall-a")

    # a wrong password is refused with the server's message, nothing else happens
    term = context.new_page()
    term.set_viewport_size({"width": 1280, "height": 800})
    term_errors = watch(term)
    term.goto(server.url + "/counter")
    term.fill("#username", "canbo1")
    term.fill("#password", "wrong-password")
    term.click("#signin-btn")
    wait_text(term, "#signin-error", "Sai tên đăng nhập hoặc mật khẩu.")
    term.close()

    term, term_errors = open_terminal(context, server.url, counter="1")
    assert act(term, "open")["ok"]
    assert act(term, "next")["ok"] and current_code(term) == "1001"

    # Gọi lại: announced again (a new seq), shown as a recall, counted on the terminal
    ack = act(term, "recall", key="l")
    assert ack["ok"] and "Đã gọi lại số 1001" in ack["text"]
    display.wait_for_function("window.qmsAnnouncer.log.length === 2")
    assert display.is_visible("#hl-recall")
    wait_text(term, "#current-recalls", "Gọi lại 1 lần")

    # Vắng: the counter is free, the display's counter cell empties
    ack = act(term, "no_show", key="v")
    assert ack["ok"] and "vắng" in ack["text"]
    assert current_code(term) == "—"
    term.wait_for_selector("#history-body tr[data-status='no_show'] >> text=1001")
    wait_text(display, "#counters [data-counter='1'] .c-code", "—")

    # Chuyển: search without diacritics finds the service; the transfer is acknowledged and shown
    assert act(term, "next")["ok"] and current_code(term) == "1002"
    term.keyboard.press("c")
    term.wait_for_selector("#dlg-transfer[open]")
    term.fill("#transfer-search", "ho chieu")
    assert term.eval_on_selector_all("#transfer-list .target", "els => els.map(e => e.dataset.id)") == ["passport"]
    term.fill("#transfer-search", "cong an")  # the department's name finds its services (not the ticket's own)
    assert term.eval_on_selector_all("#transfer-list .target", "els => els.map(e => e.dataset.id)") == ["passport"]
    term.click("#dlg-transfer .tab[data-tab='counter']")
    term.fill("#transfer-search", "QUAY 2")
    assert term.eval_on_selector_all("#transfer-list .target", "els => els.map(e => e.dataset.id)") == ["2"]
    term.click("#dlg-transfer .tab[data-tab='service']")
    term.fill("#transfer-search", "hộ chiếu")
    n = term.evaluate("window.qmsTerminal.ackCount")
    term.click("#transfer-list .target[data-id='passport']")
    term.click("#transfer-go")  # the tap chose; the confirm sends
    term.wait_for_function(f"window.qmsTerminal.ackCount > {n}")
    ack = term.evaluate("window.qmsTerminal.lastAck")
    assert ack["ok"] and ack["text"].endswith("Đã chuyển số 1002 sang Hộ chiếu.")
    assert current_code(term) == "—"
    term.wait_for_selector("#history-body tr[data-ticket] >> text=Đã chuyển")
    term.wait_for_function("document.querySelector('#waiting-body tr[data-service=passport] td.num').textContent === '1'")

    # it kept its place by issue time: the next call at this counter (which serves passports too) is 1002
    assert act(term, "next")["ok"] and current_code(term) == "1002"
    assert term.inner_text("#current-service") == "Hộ chiếu"

    # Tạm giữ, then call another, then resume the parked one (the open one is finished automatically)
    assert act(term, "park", key="g")["ok"] and current_code(term) == "—"
    term.wait_for_selector("#parked-list button[data-resume]")
    assert act(term, "next")["ok"] and current_code(term) == "1003"
    n = term.evaluate("window.qmsTerminal.ackCount")
    term.click("#parked-list button[data-resume]")
    term.wait_for_function(f"window.qmsTerminal.ackCount > {n}")
    assert term.evaluate("window.qmsTerminal.lastAck.ok") and current_code(term) == "1002"
    term.wait_for_selector("#parked-card", state="hidden")

    # Bắt đầu / Hoàn thành with the running timer
    assert act(term, "start", key="b")["ok"]
    wait_text(term, "#current-status", "Đang phục vụ")
    assert term.inner_text("#current-timer").startswith("Đang phục vụ 00:")
    save_shot(term, "counter-terminal-serving.png", "counter.png")
    assert term.is_disabled("#actions .act[data-op='recall']")  # only for a ticket just called
    assert act(term, "finish", key="h")["ok"] and current_code(term) == "—"

    # Gọi số: a given number
    term.keyboard.press("s")
    term.wait_for_selector("#dlg-call[open]")
    term.fill("#call-code", "1004")
    n = term.evaluate("window.qmsTerminal.ackCount")
    term.click("#call-submit")
    term.wait_for_function(f"window.qmsTerminal.ackCount > {n}")
    assert term.evaluate("window.qmsTerminal.lastAck.ok") and current_code(term) == "1004"

    # Tạm nghỉ and back: while on break "next" is disabled with the reason, a key press sends nothing
    assert act(term, "break", key="t")["ok"]
    wait_text(term, "#counter-state", "Tạm nghỉ")
    assert term.is_disabled("#actions .act[data-op='next']")
    assert "tạm nghỉ" in term.get_attribute("#actions .act[data-op='next']", "title")
    presses = term.evaluate("window.qmsTerminal.presses.length")
    term.keyboard.press("n")
    assert term.evaluate("window.qmsTerminal.presses.length") == presses
    assert act(term, "back", key="t")["ok"]
    wait_text(term, "#counter-state", "Đang mở")

    # a refusal is shown with the server's message
    ack = act(term, "next")
    assert ack["ok"] is False and ack["code"] == "nothing_waiting" and "Không còn ai chờ ở quầy 1" in ack["text"]

    # the display announced every call of this counter exactly once, in order (recall and resume included)
    seqs = [e["seq"] for e in call_events(server, sup)]
    assert len(seqs) == 7
    display.wait_for_function(f"window.qmsAnnouncer.log.length === {len(seqs)}")
    assert [e["seq"] for e in announced(display)] == seqs

    # a reload keeps the session and the counter; English is one tap away; signing out returns to sign-in
    term.reload()
    term.wait_for_function("window.qmsTerminal.conn === 'online' && window.qmsTerminal.counter !== null")
    assert term.inner_text("#counter-name") == "Quầy 1"
    term.click("#btn-lang")
    assert term.inner_text("#actions .act[data-op='next'] span") == "Next"
    term.click("#btn-lang")
    save_shot(term, "counter-terminal-flows.png")
    term.set_viewport_size({"width": 800, "height": 1280})  # a 10-inch tablet held upright
    save_shot(term, "counter-terminal-portrait.png")
    term.click("#btn-logout")
    term.wait_for_selector("#view-signin:not([hidden])")
    assert display_errors == [] and term_errors == []
