"""The report downloads and the admin page's words, in process (docs/api.md "GET /api/v1/reports/export"):

- the XLSX says when it was made in the centre's local time, not the server machine's (UTC);
- a semicolon CSV with a decimal comma (Excel set to Vietnamese) besides the comma CSV; both UTF-8 with a BOM,
  names that look like formulas neutralised; the XLSX offered first;
- the report's columns come in groups that cover every column once;
- the audit log reads as words in the page's language (the change, and a sentence of details), not codes or JSON.
"""
from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook

from conftest import Clock
from queue_server import exports
from server_util import KIOSK
from test_export_injection import STARTS


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One in-process server for the module: the test centre, counter 1 has served one cccd ticket of two."""
    from inproc import make_server

    clock = Clock()
    site = make_server(tmp_path_factory.mktemp("downloads"), clock)
    serve_two(site)
    yield site
    site.close()


def supervisor(site) -> dict:
    return site.login("super", "test-super")


def serve_two(site) -> None:
    sup = supervisor(site)
    assert site.post("/api/v1/counters/1/open", headers=sup).status_code == 200
    for _ in range(2):
        assert site.post("/api/v1/tickets", {"service": "cccd"}, KIOSK).status_code == 201
    site.clock.advance(200)
    assert site.post("/api/v1/counters/1/next", headers=sup).status_code == 200
    site.clock.advance(130)
    assert site.post("/api/v1/counters/1/next", headers=sup).status_code == 200  # finishes the first


def test_the_xlsx_is_made_at_the_centres_time(served):
    site, clock = served, served.clock
    clock.set_local("2026-11-25 16:45")  # 09:45 UTC; the test centre's zone is UTC+7 (server_util.morning_zone)
    local = clock().astimezone(site.ctx.config.tz)
    r = site.get("/api/v1/reports/export?format=xlsx&group_by=service&date=2026-11-25&period=day", supervisor(site))
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).worksheets[0]
    assert sheet["A4"].value == f"Lập lúc: {local:%d/%m/%Y %H:%M}"
    assert local.utcoffset().total_seconds() != 0, "a centre whose time is not UTC"
    en = site.get("/api/v1/reports/export?format=xlsx&group_by=service&lang=en", supervisor(site))
    assert load_workbook(io.BytesIO(en.content)).worksheets[0]["A4"].value == f"Made: {local:%d/%m/%Y %H:%M}"


def test_a_semicolon_csv_with_a_decimal_comma_for_vietnamese_excel(served):
    site = served
    sup = supervisor(site)
    r = site.get("/api/v1/reports/export?format=csv-semicolon&group_by=service", sup)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert r.headers["Content-Disposition"].endswith('-dau-cham-phay.csv"')
    assert r.content.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark"
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"), newline=""), delimiter=";"))
    head = lines[0]
    assert head[:3] == ["Dịch vụ", "Số lượt", "Số phát"]
    cccd = next(line for line in lines if line[0] == "Cấp đổi căn cước")
    col = dict(zip(head, cccd))
    assert col["Số phát"] == "2" and col["Đã phục vụ"] == "1"
    assert col["Chờ trung bình (phút)"] == "4,42", "(200 + 330) / 2 s in minutes, with a decimal comma"
    assert all(re.fullmatch(r"-?\d+(,\d+)?|", c) for line in lines[1:] for c in line[1:]), "figures are numbers"
    comma = site.get("/api/v1/reports/export?format=csv&group_by=service", sup).content.decode("utf-8-sig")
    assert comma.splitlines()[0].startswith("Dịch vụ,Số lượt,Số phát") and ",4.42," in comma


HOSTILE = ('=HYPERLINK("http://x","y")', "+1 Cấp đổi căn cước", "-2+3 Hộ chiếu", "@SUM(A1)", "\t=1+1 Hộ tịch")


def test_the_semicolon_csv_shows_formula_like_names_as_text(served):
    """The report of the served centre with every group's name made to start like a formula (as a name typed in
    config.yaml or the admin page may): each is written as text, in both CSV variants."""
    for lang in ("vi", "en"):
        rep = served.get(f"/api/v1/reports?group_by=service&lang={lang}", supervisor(served)).json()
        rep["rows"] = [{**rep["rows"][0], "label": name} for name in HOSTILE]
        for fmt, delimiter in (("csv-semicolon", ";"), ("csv", ",")):
            data, _, _ = exports.export(rep, fmt, lang)
            lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter))
            labels = [line[0] for line in lines[1:]]
            assert not any(text.startswith(STARTS) for text in [*lines[0], *labels])
            assert {"'" + n for n in HOSTILE} <= set(labels)


def test_an_unknown_format_is_refused_and_the_columns_come_in_groups_that_cover_each_once(served):
    site = served
    r = site.get("/api/v1/reports/export?format=ods", supervisor(site))
    assert r.status_code == 400 and "xlsx, csv-semicolon, csv" in r.text
    assert list(exports.FORMATS)[0] == "xlsx", "the XLSX is offered first"
    rep = site.get("/api/v1/reports?group_by=service", supervisor(site)).json()
    keys = [k for g in rep["column_groups"] for k in g["keys"]]
    assert [g["label"] for g in rep["column_groups"]] == ["Lượt", "Thời gian chờ (phút)", "Thời gian phục vụ (phút)",
                                                          "Đánh giá"]
    assert sorted(k for k in keys if k != "levels") == sorted(c["key"] for c in rep["columns"])
    assert keys.count("levels") == 1 and len(keys) == len(set(keys))
    assert all(c["short"] for c in rep["columns"])
    en = site.get("/api/v1/reports?group_by=service&lang=en", supervisor(site)).json()
    assert en["column_groups"][1]["label"] == "Waiting (min)"


CODE = re.compile(r"\b(admin|service|counter)\.[a-z_]+\b")


def test_the_audit_log_reads_as_words(served):
    site = served
    admin = site.login("admin", "test-admin")
    sup = supervisor(site)
    assert site.post("/api/v1/admin/staff", {"username": "canbo7", "full_name": "Phạm Thị Bảy", "role": "supervisor",
                                             "counters": ["3"], "password": "mat-khau-7"}, admin).status_code == 201
    assert site.request("PATCH", "/api/v1/admin/staff/canbo7", {"active": False}, admin).status_code == 200
    assert site.post("/api/v1/admin/device-tokens", {"kind": "kiosk", "device_id": "kiosk-1", "note": "sảnh"},
                     admin).status_code in (200, 201)
    assert site.put("/api/v1/admin/notices/hall-a", {"text": "Nghỉ trưa 11:30", "text_en": "Lunch 11:30"},
                    admin).status_code == 200
    assert site.post("/api/v1/services/passport", {"state": "closed"}, sup).status_code == 200
    events = site.get("/api/v1/admin/audit?lang=vi", admin).json()["events"]
    by_type = {e["type"]: e for e in events}
    assert by_type["admin.staff_created"]["label"] == "Thêm tài khoản"
    assert by_type["admin.staff_created"]["detail"] == "canbo7 (Phạm Thị Bảy): Giám sát viên, quầy 3"
    assert by_type["admin.staff_disabled"]["label"] == "Khóa tài khoản"
    assert by_type["admin.device_token_created"]["detail"] == "Máy lấy số kiosk-1 (ghi chú: sảnh)"
    assert "Nghỉ trưa 11:30" in by_type["admin.notice_set"]["detail"]
    assert by_type["service.updated"]["detail"] == "Hộ chiếu: đóng thủ công"
    assert by_type["admin.staff_created"]["who"] == "admin" and by_type["service.updated"]["who"] == "super"
    for e in events:
        shown = e["label"] + " " + e["detail"]
        assert not CODE.search(shown) and "{" not in shown and '"' not in shown, shown
    en = {e["type"]: e for e in site.get("/api/v1/admin/audit", {**admin, "Accept-Language": "en"}).json()["events"]}
    assert en["admin.staff_created"]["label"] == "Account added"
    assert en["admin.staff_created"]["detail"] == "canbo7 (Phạm Thị Bảy): Supervisor, counters 3"
    assert en["service.updated"]["detail"] == "Passport: closed by hand"
    assert "Lunch 11:30" in en["admin.notice_set"]["detail"]
