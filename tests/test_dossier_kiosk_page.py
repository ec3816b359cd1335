"""The kiosk's dossier look-up in chromium against a real server process and the fake one-stop server as a
process: a scanner types a receipt's code and Enter on the start screen, the dossier shows with the applicant's
name masked and nothing wider than its box, one touch takes the return-of-results ticket; a source that hangs is
said so within 3 s with that ticket offered anyway; a code typed in the field, an unknown one, English. The
phone status page's look-up; the counter terminal attaching a scanned code to the ticket it serves."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from dossier_util import TOKEN, dossier_config, http_a
from queue_server.dossiers import fake_data
from server_util import ROOT, ServerProcess, free_port

pytestmark = pytest.mark.browser

READY, PROCESSING = fake_data.DOSSIERS[2], fake_data.DOSSIERS[1]
PRIVATE = [v for d in fake_data.DOSSIERS for v in d[6:]]  # full names, phones, ID numbers


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dossier-kiosk")
    port = free_port()
    onestop = subprocess.Popen([sys.executable, "-m", "queue_server.dossiers.fake_server", "--port", str(port),
                                "--token", TOKEN, "--slow-seconds", "10"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert "fake one-stop system on http://127.0.0.1:" in onestop.stdout.readline()
    srv = ServerProcess(dossier_config(tmp, http_a(f"http://127.0.0.1:{port}", timeout_seconds=1)),
                        tmp / "qms.sqlite3", "eventlet").start()
    yield srv
    srv.stop()
    onestop.terminate()
    onestop.wait(10)


def overflowing(page) -> list[str]:
    """Texts of the dossier card and the ticket button wider than their box, or boxes past the viewport."""
    return page.evaluate("""() => {
        const out = [], vw = document.documentElement.clientWidth;
        for (const e of document.querySelectorAll('#screen-dossier .value, #dossier-state, .dossier-card, #dossier-ticket, #dossier-status')) {
            const r = e.getBoundingClientRect();
            if (e.scrollWidth > e.clientWidth + 1 || r.right > vw + 1 || r.left < -1) out.push(e.id || e.className);
        }
        return out; }""")


def test_a_scanned_receipt_shows_the_dossier_and_takes_the_return_ticket(chromium, server):
    import requests

    context = chromium.new_context(viewport={"width": 1080, "height": 1920}, locale="vi-VN", has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{server.url}/kiosk/kiosk-1?token=test-kiosk-token-1")
        page.wait_for_selector("#departments [data-department]")
        page.wait_for_selector("#dossier-open:not([hidden])")
        assert "Tra cứu hồ sơ" in page.locator("#dossier-open").inner_text()

        # The scanner: the code's keystrokes and Enter, with nothing focused on the start screen.
        page.keyboard.type(READY[0])
        page.keyboard.press("Enter")
        page.wait_for_selector("#dossier-state")
        assert page.locator("#screen-dossier").is_visible() and not page.locator("#screen-home").is_visible()
        assert page.locator("#dossier-state").inner_text() == "Đã có kết quả, mời nhận"
        assert page.locator("#dossier-applicant").inner_text() == "Lê H. M."
        assert page.locator("#dossier-procedure").inner_text() == READY[2]
        assert page.locator("#dossier-received").inner_text() == "15/11/2026"
        assert page.locator("#dossier-appointment").inner_text() == "25/11/2026"
        assert page.locator("#dossier-collect").inner_text() == READY[5]
        shown = page.locator("body").inner_text()
        assert not [p for p in PRIVATE if p in shown]
        assert overflowing(page) == []

        take = page.locator("#dossier-ticket")
        assert take.inner_text() == "Lấy số nhận kết quả: Trả kết quả"
        with page.expect_response(lambda r: r.url.endswith("/api/v1/tickets") and r.request.method == "POST") as info:
            take.tap()
        assert info.value.status == 201 and info.value.json()["service"] == "tra_ket_qua"
        # the ticket carries the dossier's code: the officer who calls it has the dossier at once
        assert info.value.request.post_data_json == {"service": "tra_ket_qua", "dossier": READY[0]}
        sup = server.login("super", "test-super")
        attached = requests.get(f"{server.url}/api/v1/tickets/{info.value.json()['id']}/dossiers", headers=sup, timeout=10)
        assert attached.json()["codes"] == [READY[0]]
        page.wait_for_selector("#screen-ticket:not([hidden])")
        assert page.locator("#ticket-code").inner_text() == "R001"
        assert READY[0] in page.locator("#ticket-procedure").inner_text()
        assert not page.locator("#screen-dossier").is_visible()
        page.locator("#ticket-done").tap()
        page.wait_for_selector("#screen-home:not([hidden])")

        # A source that hangs: the kiosk says so within 3 s and offers the ticket anyway.
        started = time.monotonic()
        page.keyboard.type("000.00.12.H59-000000-SLOW")
        page.keyboard.press("Enter")
        page.wait_for_selector("#dossier-status.dossier-down", timeout=3000)
        waited = time.monotonic() - started
        assert waited < 3.0, waited
        assert "không trả lời" in page.locator("#dossier-status").inner_text()
        assert page.locator("#dossier-ticket").is_visible() and overflowing(page) == []

        # Typed in the field (the on-screen keyboard's field) with Enter: a dossier in progress has no ticket.
        page.locator("#dossier-input").fill(PROCESSING[0].lower())
        page.locator("#dossier-input").press("Enter")
        page.wait_for_function("document.querySelector('#dossier-state')?.textContent === 'Đang giải quyết'")
        assert page.locator("#dossier-ticket").count() == 0
        assert page.locator("#dossier-applicant").inner_text() == "Trần T. B. N."
        page.locator("#lang-en").tap()
        page.wait_for_function("document.querySelector('#dossier-state')?.textContent === 'Being processed'")
        assert "Procedure" in page.locator(".dossier-card").inner_text()
        page.locator("#lang-vi").tap()

        page.locator("#dossier-input").fill("000.00.12.H59-000000-9999")
        page.locator("#dossier-find").tap()
        page.wait_for_selector("#dossier-status.dossier-missing")
        assert "Không tìm thấy hồ sơ" in page.locator("#dossier-status").inner_text()
        page.locator("#screen-dossier .back").tap()
        assert page.locator("#screen-home").is_visible() and not page.locator("#screen-dossier").is_visible()
    finally:
        context.close()
    assert not errors, errors


def test_the_phone_status_page_looks_up_a_dossier_masked(chromium, server):
    import requests

    ticket = requests.post(server.url + "/api/v1/tickets", json={"service": "tra_ket_qua"},
                           headers={"Authorization": "Bearer test-kiosk-token-1"}, timeout=10).json()
    context = chromium.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN", has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{server.url}/t/{ticket['token']}")
        page.wait_for_selector("#pd:not([hidden])")
        assert page.locator("#pd .status-text").inner_text() == "Tra cứu hồ sơ"
        page.locator("#pd-code").fill(READY[0])
        page.locator("#pd-code").press("Enter")
        page.wait_for_selector("#pd-state")
        assert page.locator("#pd-state").inner_text() == "Đã có kết quả, mời nhận"
        result = page.locator("#pd-result").inner_text()
        assert "Lê H. M." in result and "25/11/2026" in result and READY[5] in result
        assert not [p for p in PRIVATE if p in page.locator("body").inner_text()]
        wide = page.evaluate("""() => [...document.querySelectorAll('#pd, #pd-result, .pd-value, .pd-form input')]
            .filter(e => e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .map(e => e.id || e.className)""")
        assert wide == []
    finally:
        context.close()
    assert not errors, errors


def test_the_counter_attaches_a_scanned_dossier_code_to_the_ticket_it_serves(chromium, server):
    import requests

    requests.post(server.url + "/api/v1/tickets", json={"service": "cccd"},
                  headers={"Authorization": "Bearer test-kiosk-token-1"}, timeout=10).raise_for_status()
    sup = server.login("super", "test-super")
    before = {d["code"]: d["tickets"] for d in   # the kiosk's return ticket of the first test carries this code too
              requests.get(server.url + "/api/v1/reports/dossiers", headers=sup, timeout=10).json()["dossiers"]}
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(server.url + "/counter")
        page.fill("#username", "canbo1")
        page.fill("#password", "test-staff")
        page.click("#signin-btn")
        page.click("#counter-list .pick[data-counter='1']")
        page.wait_for_function("window.qmsTerminal.conn === 'online' && window.qmsTerminal.counter !== null", timeout=10_000)
        assert page.locator("#td-box").is_hidden()  # no ticket at the counter: nothing to attach to
        if page.locator("#actions .act[data-op='open']").is_visible():
            page.click("#actions .act[data-op='open']")
        page.click("#actions .act[data-op='next']")
        page.wait_for_selector("#td-box:not([hidden])")
        assert page.locator("#td-codes").inner_text() == "chưa gắn mã hồ sơ"
        page.locator("#td-code").focus()
        page.keyboard.type(READY[0].lower())  # the scanner, then Enter
        page.keyboard.press("Enter")
        page.wait_for_function(f"document.querySelector('#td-codes').textContent === '{READY[0]}'")
        ticket = page.locator("#current-code").get_attribute("data-ticket")
        assert requests.get(f"{server.url}/api/v1/tickets/{ticket}/dossiers", headers=sup, timeout=10).json()["codes"] == [READY[0]]
        counts = {d["code"]: d["tickets"] for d in
                  requests.get(server.url + "/api/v1/reports/dossiers", headers=sup, timeout=10).json()["dossiers"]}
        assert counts[READY[0]] == before.get(READY[0], 0) + 1
        page.locator("#td-code").fill("a b")
        page.locator("#td-code").press("Enter")
        page.wait_for_function("document.querySelector('#td-note').textContent.includes('code')")
        assert page.locator("#td-codes").inner_text() == READY[0]
        wide = page.evaluate("""() => [...document.querySelectorAll('#td-box, #td-codes, #td-note')]
            .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.id)""")
        assert wide == []
    finally:
        context.close()
    assert not errors, errors
