"""The reports page and the admin page in Debian's chromium at a counter PC's 1366x768, on the big city centre
(tests/fixtures/big_centre.yaml: names of 80+ characters; the test centre's reports page is in
test_supervisor_page.py), measured as a person sees them:

- no page wider than the window; the report table, in column groups, scrolls inside its card and its first
  column (the group's name, wrapped, never cut) stays in view while it scrolls;
- the charts lie horizontally, one row per group, every name within the chart;
- the XLSX is offered first; it says when it was made in the centre's time; a semicolon CSV is offered;
- the admin page names roles, device kinds and audit-log changes in words, Vietnamese, then English.

The pages use REST only, so the browser's requests are answered by the server in this process (Flask's test
client behind Playwright's request routing): no server process, the test clock, one app per centre.
"""
from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
from openpyxl import load_workbook
from PIL import Image

from conftest import ARTIFACTS, Clock
from inproc import make_big_server

pytestmark = pytest.mark.browser

BASE = "http://qms.test"
VIEWPORT = {"width": 1366, "height": 768}


def serve_each_service(site) -> None:
    """For every service: a counter serving it opens, two tickets are issued, one is called and finished."""
    store = site.ctx.store
    opened = set()
    for service in site.ctx.config.services():
        counter = next((c for c in site.ctx.config.counters if service in c.services), None)
        if counter is None:
            continue
        if counter.id not in opened:
            store.set_counter_state(counter.id, "open")
            opened.add(counter.id)
        store.issue(service)
        store.issue(service)
        site.clock.advance(90)
        ticket = store.call_next(counter.id).ticket
        site.clock.advance(240)
        store.finish(ticket["id"], counter.id)


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    site = make_big_server(tmp_path_factory.mktemp("big"), Clock())
    serve_each_service(site)
    yield site
    site.close()


def routed_context(chromium, site, **kw):
    """A browser context whose requests to BASE are answered by `site` in this process."""
    context = chromium.new_context(viewport=VIEWPORT, locale="vi-VN", accept_downloads=True, **kw)

    def answer(route):
        req = route.request
        url = urlsplit(req.url)
        reply = site.http.open(url.path + ("?" + url.query if url.query else ""), method=req.method,
                               headers=dict(req.headers), data=req.post_data_buffer)
        headers = {k: v for k, v in reply.headers.items() if k.lower() != "content-length"}
        route.fulfill(status=reply.status_code, headers=headers, body=reply.get_data())

    context.route(BASE + "/**", answer)
    return context


def sign_in(page, path, username, password):
    page.goto(BASE + path)
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#signin-btn")


WIDTHS = """() => ({page: document.documentElement.scrollWidth, window: window.innerWidth,
  cards: [...document.querySelectorAll('#view-main .card:not(.table-wrap)')].filter((c) => c.scrollWidth > c.clientWidth + 1)
    .map((c) => c.id || c.className)})"""

TABLE = """() => {
  const wrap = document.querySelector('.table-wrap');
  const before = wrap.querySelector('tbody tr th.first').getBoundingClientRect().left;
  wrap.scrollLeft = 1000;
  const first = wrap.querySelector('tbody tr th.first').getBoundingClientRect();
  const far = wrap.querySelector('tbody tr td[data-col="serve_p90_s"]').getBoundingClientRect();
  const box = wrap.getBoundingClientRect();
  const cut = [...wrap.querySelectorAll('th.first')].filter((c) => c.scrollWidth > c.clientWidth + 1).map((c) => c.textContent);
  return {scrollWidth: wrap.scrollWidth, clientWidth: wrap.clientWidth, scrolled: wrap.scrollLeft, before,
          firstLeft: first.left, boxLeft: box.left, firstRight: first.right, farLeft: far.left, cut,
          groups: [...wrap.querySelectorAll('thead tr.groups th.group')].map((th) => [th.textContent, th.colSpan]),
          columns: wrap.querySelectorAll('tbody tr.total > *').length};
}"""

CHARTS = """(ids) => ids.map((id) => {
  const c = Chart.getChart(id); const y = c.scales.y;
  const card = document.getElementById(id).closest('.card');
  return {id, axis: c.options.indexAxis, labels: y.ticks.length, rows: c.data.labels.length,
          widest: y._getLabelSizes().widest.width, room: y.width, left: y.left,
          canvas: c.canvas.getBoundingClientRect().width, card: card.clientWidth,
          names: c.data.labels.map((l) => Array.isArray(l) ? l.join(' ') : l)};
})"""


def test_the_reports_page_fits_a_counter_pc(big, chromium):
    site = big
    context = routed_context(chromium, site)
    try:
        page = context.new_page()
        page.clock.set_fixed_time(site.clock())  # the page's "today" is the server's test day
        sign_in(page, "/reports", "super", "test-super")
        page.wait_for_selector("#report-table tbody tr.total")
        page.wait_for_function("() => !!Chart.getChart('chart-outcomes')")
        services = [svc.name for _, svc in site.ctx.config.services().values()]

        widths = page.evaluate(WIDTHS)
        assert widths["page"] <= widths["window"] == 1366, widths
        assert widths["cards"] == [], "a card's content is wider than the card"

        table = page.evaluate(TABLE)
        assert [g for g, _ in table["groups"]] == ["Lượt", "Thời gian chờ (phút)", "Thời gian phục vụ (phút)", "Đánh giá"]
        assert sum(n for _, n in table["groups"]) + 1 == table["columns"]
        assert table["scrollWidth"] > table["clientWidth"] and table["scrolled"] > 0, "the table scrolls in its card"
        assert abs(table["firstLeft"] - table["boxLeft"]) <= 2 and table["before"] == table["firstLeft"], \
            "the first column stays in view"
        assert table["farLeft"] >= table["firstRight"] - 1, "scrolled columns pass under it, not over it"
        assert table["cut"] == [], "a group's name is cut"
        assert set(services) <= {t.strip() for t in page.locator("#report-table tbody th.first").all_inner_texts()}

        charts = page.evaluate(CHARTS, ["chart-outcomes", "chart-waits", "chart-satisfaction"])
        for c in charts:
            assert c["axis"] == "y" and c["labels"] == c["rows"] == len(services), c
            assert c["widest"] <= c["room"] and c["left"] >= 0, f"{c['id']}: a name is cut"
            assert c["canvas"] <= c["card"], c
            assert set(c["names"]) == set(services)

        downloads = page.locator(".downloads button")
        assert downloads.first.get_attribute("id") == "btn-xlsx" and "XLSX" in downloads.first.inner_text()
        local = site.clock().astimezone(site.ctx.config.tz)
        with page.expect_download() as got:
            page.click("#btn-xlsx")
        sheet = load_workbook(io.BytesIO(open(got.value.path(), "rb").read())).worksheets[0]
        assert sheet["A4"].value == f"Lập lúc: {local:%d/%m/%Y %H:%M}"
        with page.expect_download() as got:
            page.click("#btn-csv-semicolon")
        assert open(got.value.path(), encoding="utf-8-sig").readline().startswith("Dịch vụ;Số lượt;Số phát")

        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "reports-1366-big-centre.png"
        page.evaluate("() => document.querySelector('.table-wrap').scrollIntoView()")
        page.screenshot(path=str(shot))
        image = Image.open(shot)
        assert image.size == (1366, 768)
        assert len(image.convert("RGB").getcolors(1 << 20) or []) > 20, "the screenshot shows the page"
    finally:
        context.close()


def test_the_admin_page_speaks_words_not_codes(big, chromium):
    site = big
    admin = site.login("admin", "test-admin")
    assert site.post("/api/v1/admin/staff", {"username": "canbo8", "full_name": "Đỗ Thị Tám", "role": "staff",
                                             "counters": ["108"], "password": "mat-khau-8"}, admin).status_code == 201
    assert site.post("/api/v1/admin/device-tokens", {"kind": "display", "device_id": "hall-a"}, admin).status_code in (200, 201)
    context = routed_context(chromium, site)
    try:
        page = context.new_page()
        sign_in(page, "/admin", "admin", "test-admin")
        page.wait_for_selector('#audit-body tr[data-type="admin.staff_created"]')
        page.wait_for_selector('#tokens-body tr[data-token]')
        roles = dict(zip(page.locator("#staff-body tr").evaluate_all("rows => rows.map((r) => r.dataset.user)"),
                         page.locator("#staff-body td[data-role]").all_inner_texts()))
        assert roles["admin"] == "Quản trị viên" and roles["super"] == "Giám sát viên" and roles["canbo8"] == "Cán bộ tiếp nhận"
        kinds = set(page.locator("#tokens-body td[data-kind]").all_inner_texts())
        assert {"Máy lấy số", "Màn hình"} <= kinds and not kinds & {"kiosk", "display", "agent"}
        assert page.locator("#new-role option").all_inner_texts() == ["Cán bộ tiếp nhận", "Giám sát viên", "Quản trị viên"]
        row = page.locator('#audit-body tr[data-type="admin.staff_created"]').first
        cells = row.locator("td").all_inner_texts()
        assert cells[1:] == ["admin", "Thêm tài khoản", "canbo8 (Đỗ Thị Tám): Cán bộ tiếp nhận, quầy 108"]
        shown = " ".join(page.locator("#audit-body").all_inner_texts())
        assert "admin." not in shown and "{" not in shown
        widths = page.evaluate(WIDTHS)
        assert widths["page"] <= widths["window"], widths

        page.click("#btn-lang")
        page.wait_for_function("() => document.querySelector('#audit-body tr[data-type=\"admin.staff_created\"] td:nth-child(3)')"
                               ".textContent === 'Account added'")
        assert page.locator('#staff-body tr[data-user="super"] td[data-role]').inner_text() == "Supervisor"
        assert "Kiosk" in page.locator("#token-kind option").all_inner_texts()
        assert page.locator('#audit-body tr[data-type="admin.staff_created"] td').nth(3).inner_text() == \
            "canbo8 (Đỗ Thị Tám): Counter officer, counters 108"
    finally:
        context.close()
