"""The supervisor dashboard, the reports page and the admin page in Debian's chromium, against a real server.

The supervisor signs in, sees services, counters and devices, gets alerts (a wait over its target, a printer
out of paper), reassigns a counter's services (the counter terminal page shows it at once), closes a service
(the kiosk page shows it closed) and changes a cap. Every action is in the event log with who made it.
"""
from __future__ import annotations

import io
import time

import pytest
import requests
import yaml
from openpyxl import load_workbook

from conftest import ARTIFACTS
from server_util import AGENT, KIOSK, ServerProcess, server_config

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("supervisor")
    path = server_config(tmp, extra_counters=2)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for d in data["departments"]:
        for s in d["services"]:
            if s["id"] == "passport":
                s["target_wait_minutes"] = 0.05  # 3 seconds: the alert comes during the test
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    srv = ServerProcess(path, tmp / "qms.sqlite3", "eventlet").start()
    yield srv
    srv.stop()


def issue(server, service):
    r = requests.post(server.url + "/api/v1/tickets", json={"service": service}, headers=KIOSK, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def sign_in(page, url, username, password):
    page.goto(url)
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#signin-btn")


def test_supervisor_watches_and_acts(server, chromium):
    for service in ("cccd", "cccd", "passport", "civil"):
        issue(server, service)
    counter_ctx = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="vi-VN")
    sup_ctx = chromium.new_context(viewport={"width": 1600, "height": 1200}, locale="vi-VN")
    kiosk_ctx = chromium.new_context(viewport={"width": 1080, "height": 1920}, locale="vi-VN")
    try:
        # the counter terminal of counter 1 (canbo1), showing the queues it serves
        counter = counter_ctx.new_page()
        sign_in(counter, server.url + "/counter", "canbo1", "test-staff")
        counter.click('button.pick[data-counter="1"]')
        counter.wait_for_selector('#waiting-body tr[data-service="cccd"]')
        assert counter.locator('#waiting-body tr[data-service="civil"]').count() == 0

        # the supervisor's dashboard
        sup = sup_ctx.new_page()
        sign_in(sup, server.url + "/supervisor", "super", "test-super")
        sup.wait_for_selector('#services-body tr[data-service="cccd"]')
        assert sup.locator('#services-body tr[data-service="cccd"] td.waiting').inner_text() == "2"
        assert sup.locator("#services-body tr[data-service]").count() == 5
        assert sup.locator("#counters .counter").count() == 7
        sup.wait_for_selector('#conn[data-state="on"]')
        # counter 1: its terminal is connected but the officer has not opened it yet
        assert sup.locator('.counter[data-counter="1"]').get_attribute("data-view-state") == "closed"
        counter.click('button[data-op="open"]')
        sup.wait_for_selector('.counter[data-counter="1"][data-view-state="idle"]', timeout=8000)
        assert "Nguyễn Văn An" in sup.locator('.counter[data-counter="1"]').inner_text()
        counter.click('button[data-op="next"]')
        sup.wait_for_selector('.counter[data-counter="1"][data-view-state="serving"]', timeout=8000)
        assert sup.locator('.counter[data-counter="1"] .current').inner_text() == "1001"
        # alert: passport's target is 3 s; its ticket has waited longer
        sup.wait_for_selector('.alert[data-alert="wait:passport"]', timeout=15000)
        assert "Hộ chiếu" in sup.locator('.alert[data-alert="wait:passport"]').inner_text()
        assert "over" in sup.locator('#services-body tr[data-service="passport"] td.longest').get_attribute("class")

        # reassign counter 1 to identity cards and civil status (an overloaded department gets help)
        card = sup.locator('.counter[data-counter="1"]')
        card.locator('button[data-act="reassign"]').click()
        card.locator('input[data-svc="civil"]').check()
        card.locator('input[data-svc="passport"]').uncheck()
        card.locator('button[data-act="save-services"]').click()
        t0 = time.monotonic()
        counter.wait_for_selector('#waiting-body tr[data-service="civil"]', timeout=8000)
        shown_after = time.monotonic() - t0
        assert counter.locator('#waiting-body tr[data-service="passport"]').count() == 0
        sup.wait_for_selector('.counter[data-counter="1"] .svc-list[data-services="cccd,civil"]')
        assert sup.locator('.counter[data-counter="1"] .reassigned').count() == 1
        assert shown_after < 5  # pushed to the open page (counter.updated), no reload; well under a second when idle

        # close a service: the kiosk shows it closed, and it issues no more
        kiosk = kiosk_ctx.new_page()
        kiosk.goto(server.url + "/kiosk/kiosk-1?token=test-kiosk-token-1")
        kiosk.click('[data-department="police"]')
        kiosk.wait_for_selector('button[data-service="cccd"][data-state="open"]')
        sup.locator('#services-body tr[data-service="cccd"] button[data-act="close"]').click()
        sup.wait_for_selector('#services-body tr[data-service="cccd"][data-state="closed"][data-manual="closed"]')
        kiosk.wait_for_selector('button[data-service="cccd"][data-state="closed"]', timeout=8000)
        r = requests.post(server.url + "/api/v1/tickets", json={"service": "cccd"}, headers=KIOSK, timeout=10)
        assert r.status_code == 409 and r.json()["reason"] == "closed_manually"
        # a daily cap, live: passport has issued 1, a cap of 1 makes it full
        row = sup.locator('#services-body tr[data-service="passport"]')
        row.locator("input.cap").fill("1")
        row.locator('button[data-act="cap"]').click()
        sup.wait_for_selector('#services-body tr[data-service="passport"][data-state="full"]')
        kiosk.wait_for_selector('button[data-service="passport"][data-state="full"]', timeout=8000)

        # a printer out of paper: the device panel and an alert
        r = requests.post(server.url + "/api/v1/devices/printer/printer-1/status", json={"state": "paper_out"},
                          headers=AGENT, timeout=10)
        assert r.status_code == 200, r.text
        sup.wait_for_selector('#devices-body tr[data-device="printer:printer-1"][data-state="paper_out"]', timeout=8000)
        sup.wait_for_selector('.alert[data-alert="device:printer:printer-1"]', timeout=15000)
        ARTIFACTS.mkdir(exist_ok=True)
        sup.screenshot(path=str(ARTIFACTS / "supervisor-dashboard.png"), full_page=True)

        # every action is in the event log with who made it
        headers = {"Authorization": "Bearer " + requests.post(server.url + "/api/v1/login", json={
            "username": "super", "password": "test-super"}, timeout=10).json()["token"]}
        events = requests.get(server.url + "/api/v1/events?since=0&limit=1000", headers=headers, timeout=10).json()["events"]
        mine = [(e["type"], e["data"]) for e in events if e["type"] in ("counter.services", "service.updated")]
        assert ("counter.services", {"counter": "1", "services": ["cccd", "civil"]}) in mine
        assert ("service.updated", {"service": "cccd", "manual": "closed"}) in mine
        assert ("service.updated", {"service": "passport", "manual": None, "cap_override": 1}) in mine
        import sqlite3

        conn = sqlite3.connect(f"file:{server.db}?mode=ro", uri=True)
        actors = set(conn.execute("SELECT actor FROM events WHERE type IN ('counter.services', 'service.updated')"))
        staff = set(conn.execute("""SELECT s.username FROM events e JOIN staff s ON s.id = e.staff_id
                                    WHERE e.type IN ('counter.services', 'service.updated')"""))
        conn.close()
        assert actors == {("staff:super",)} and staff == {("super",)}
    finally:
        for c in (counter_ctx, sup_ctx, kiosk_ctx):
            c.close()


def test_reports_page(server, chromium):
    ctx = chromium.new_context(viewport={"width": 1600, "height": 1200}, locale="vi-VN", accept_downloads=True)
    try:
        page = ctx.new_page()
        sign_in(page, server.url + "/reports", "super", "test-super")
        page.wait_for_selector('#report-table tbody tr[data-key="cccd"]')
        assert page.locator('#report-table tbody tr[data-key="cccd"] td[data-col="issued"]').inner_text() == "2"
        assert "Toàn trung tâm" in page.locator("#report-table tr.total").inner_text()
        for chart in ("chart-outcomes", "chart-waits", "chart-satisfaction", "chart-hours"):
            assert page.evaluate(f"() => !!Chart.getChart('{chart}')"), chart  # drawn by the locally served Chart.js
        assert page.locator("#heatmap table.heat td").count() > 0
        page.select_option("#group-by", "counter")
        page.click("#btn-show")
        page.wait_for_selector('#report-table tbody tr[data-key="1"]')
        with page.expect_download() as got:
            page.click("#btn-xlsx")
        wb = load_workbook(io.BytesIO(open(got.value.path(), "rb").read()))
        assert wb.sheetnames[0] == "Báo cáo" and wb["Báo cáo"]["A7"].value == "Quầy 1"
        with page.expect_download() as got:
            page.click("#btn-csv")
        text = open(got.value.path(), encoding="utf-8-sig").read()
        assert text.splitlines()[0].startswith("Quầy,Số lượt,Số phát")
        page.select_option("#period", "range")
        page.fill("#date-from", "2026-02-10")
        page.fill("#date-to", "2026-02-01")
        page.click("#btn-show")
        page.wait_for_function("() => document.querySelector('#report-error').textContent.includes('trước ngày bắt đầu')")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "reports-page.png"), full_page=True)
    finally:
        ctx.close()


def test_admin_page(server, chromium):
    ctx = chromium.new_context(viewport={"width": 1400, "height": 1000}, locale="vi-VN")
    try:
        page = ctx.new_page()
        sign_in(page, server.url + "/admin", "super", "test-super")
        page.wait_for_function("() => document.querySelector('#signin-error').textContent.length > 0")
        assert "không có quyền" in page.locator("#signin-error").inner_text()
        sign_in(page, server.url + "/admin", "admin", "test-admin")
        page.wait_for_selector('#staff-body tr[data-user="canbo1"]')
        page.fill("#new-username", "canbo7")
        page.fill("#new-fullname", "Phạm Thị Bảy")
        page.fill("#new-counters", "3")
        page.fill("#new-password", "mat-khau-7")
        page.click('#staff-form button[type="submit"]')
        page.wait_for_selector('#staff-body tr[data-user="canbo7"]')
        assert "Phạm Thị Bảy" in page.locator('#staff-body tr[data-user="canbo7"]').inner_text()
        page.click('#staff-body tr[data-user="canbo7"] button[data-act="disable"]')
        page.wait_for_selector('#staff-body tr[data-user="canbo7"][data-active="0"]')
        page.wait_for_selector('#audit-body tr[data-type="admin.staff_disabled"]')
        page.click("#btn-reload")
        page.wait_for_function("() => document.querySelector('#reload-result').textContent.includes('server.yaml')")
    finally:
        ctx.close()


def test_a_cap_being_typed_survives_live_updates(server, chromium):
    """The services table is drawn again on every push: a cap the supervisor has typed but not yet sent stays in
    its box (and keeps the focus), and the button sends it, not an empty box that would reset the cap."""
    ctx = chromium.new_context(viewport={"width": 1600, "height": 1200}, locale="vi-VN")
    try:
        sup = ctx.new_page()
        sign_in(sup, server.url + "/supervisor", "super", "test-super")
        row = '#services-body tr[data-service="civil"]'
        sup.wait_for_selector(row)
        before = sup.locator(row + " td.waiting").inner_text()
        sup.locator(row + " input.cap").fill("7")
        issue(server, "civil")  # a live update re-renders the row while the supervisor is typing
        sup.wait_for_function("([sel, n]) => document.querySelector(sel + ' td.waiting').textContent !== n",
                              arg=[row, before])
        assert sup.locator(row + " input.cap").input_value() == "7"
        assert sup.evaluate("document.activeElement && document.activeElement.classList.contains('cap')")
        sup.locator(row + ' button[data-act="cap"]').click()
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            services = requests.get(server.url + "/api/v1/services", timeout=10).json()["services"]
            civil = next(s for s in services if s["id"] == "civil")
            if civil.get("cap_override") == 7 or civil.get("daily_cap") == 7:
                break
            time.sleep(0.1)
        assert civil.get("cap_override") == 7 or civil.get("daily_cap") == 7, civil
    finally:
        ctx.close()
