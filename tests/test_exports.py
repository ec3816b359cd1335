"""Exports written, then opened back with csv and openpyxl and compared with the report they came from."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from queue_server import exports
from queue_server import reports as R
from test_reports import DAY, day_store, names  # noqa: F401 - day_store is a fixture


@pytest.fixture
def rep(day_store):  # noqa: F811
    s, _ = day_store
    return R.build_report(s, DAY, DAY, "service", staff_names=names(s))


def expected_table(rep):
    """What every export must hold, computed here from the report's own numbers."""
    head = ["Dịch vụ", "Số lượt", "Số phát", "Chuyển đến", "Đã gọi", "Đã phục vụ", "Vắng mặt", "Chuyển đi", "Đã hủy",
            "Không được phục vụ", "Bỏ về (tổng)", "Đang xử lý", "Chờ trung bình (phút)", "Chờ trung vị (phút)",
            "Chờ P90 (phút)", "Gọi trong thời gian chờ mục tiêu (%)", "Phục vụ trung bình (phút)",
            "Phục vụ trung vị (phút)", "Phục vụ P90 (phút)", "Rất hài lòng (lượt)", "Hài lòng (lượt)",
            "Chưa hài lòng (lượt)", "Số phiếu được đánh giá", "Tỷ lệ hài lòng (%)", "Lượt bấm lặp lại",
            "Lượt bấm bị gắn cờ", "Lượt bấm không gắn được số"]
    rows = []
    for r in [*rep["rows"], rep["total"]]:
        minutes = [None if r[k] is None else round(r[k] / 60, 2) for k in ("wait_avg_s", "wait_median_s", "wait_p90_s")]
        serve = [None if r[k] is None else round(r[k] / 60, 2) for k in ("serve_avg_s", "serve_median_s", "serve_p90_s")]
        rows.append([r["label"], r["tickets"], r["issued"], r["transferred_in"], r["called"], r["served"], r["no_show"],
                     r["transferred"], r["cancelled"], r["unserved"], r["abandoned"], r["active"], *minutes,
                     None if r["within_target"] is None else round(r["within_target"] * 100, 1), *serve,
                     r["rating_levels"]["3"], r["rating_levels"]["2"], r["rating_levels"]["1"], r["rated_tickets"],
                     None if r["satisfaction_rate"] is None else round(r["satisfaction_rate"] * 100, 1),
                     r["ratings_repeat"], r["ratings_flagged"], r["ratings_unattributed"]])
    return head, rows


def test_csv_round_trip(rep, tmp_path):
    path = tmp_path / "bao-cao.csv"
    path.write_bytes(exports.to_csv(rep))
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the file as UTF-8
    with open(path, encoding="utf-8-sig", newline="") as f:
        got = list(csv.reader(f))
    head, rows = expected_table(rep)
    assert got[0] == head
    assert len(got) == len(rows) + 1
    for line, row in zip(got[1:], rows):
        assert line == ["" if v is None else str(v) for v in row]
    by_label = {line[0]: line for line in got[1:]}
    cccd = by_label["Cấp đổi căn cước"]
    assert cccd[head.index("Chờ trung bình (phút)")] == "7.0" and cccd[head.index("Chờ P90 (phút)")] == "12.2"
    assert cccd[head.index("Gọi trong thời gian chờ mục tiêu (%)")] == "40.0"
    assert by_label["Toàn trung tâm"][head.index("Tỷ lệ hài lòng (%)")] == "75.0"
    assert by_label["Đăng ký đất đai"][head.index("Chờ trung bình (phút)")] == ""  # nobody called: no figure
    assert "Sở Nông nghiệp" not in raw.decode("utf-8-sig")  # grouped by service, not department


def test_xlsx_round_trip(rep, tmp_path):
    path = tmp_path / "bao-cao.xlsx"
    path.write_bytes(exports.to_xlsx(rep))
    wb = load_workbook(path)
    assert wb.sheetnames == ["Báo cáo", "Giờ cao điểm", "Định nghĩa"]
    ws = wb["Báo cáo"]
    assert ws["A1"].value == "Báo cáo: Trung tâm Kiểm thử"
    assert ws["A2"].value == "Thời gian: 25/11/2026 – 25/11/2026" and ws["A3"].value == "Theo: Dịch vụ"
    values = [list(r) for r in ws.iter_rows(min_row=6, values_only=True)]
    head, rows = expected_table(rep)
    assert values[0] == head
    assert values[1:] == rows
    cccd = next(r for r in ws.iter_rows(min_row=7) if r[0].value == "Cấp đổi căn cước")
    wait_cell = cccd[head.index("Chờ trung bình (phút)")]
    assert wait_cell.value == 7 and wait_cell.number_format == "0.00"  # a number (Excel keeps 7.0 as 7), not text
    assert isinstance(cccd[head.index("Số phát")].value, int)
    heat = wb["Giờ cao điểm"]
    rows_heat = [list(r) for r in heat.iter_rows(min_row=2, values_only=True)]
    assert rows_heat[0] == [None, "09:00", "10:00", "Tổng"]
    assert rows_heat[3] == ["Thứ Tư", 9, 1, 10] and rows_heat[1] == ["Thứ Hai", 0, 0, 0]
    definitions = [r[0] for r in wb["Định nghĩa"].iter_rows(values_only=True)]
    assert any("Thời gian chờ: từ lúc vào hàng chờ" in line for line in definitions)


def test_english_headers(rep, day_store, tmp_path):  # noqa: F811
    s, _ = day_store
    en = R.build_report(s, DAY, DAY, "department", staff_names=names(s), lang="en")
    text = exports.to_csv(en, "en").decode("utf-8-sig")
    got = list(csv.reader(io.StringIO(text)))
    assert got[0][:3] == ["Department", "Tickets (legs)", "Issued"] and "Very satisfied (presses)" in got[0]
    assert [line[0] for line in got[1:]] == ["Provincial Police", "Department of Justice",
                                             "Department of Agriculture and Environment", "(unknown)", "Whole centre"]
    wb = load_workbook(io.BytesIO(exports.to_xlsx(en, "en")))
    assert wb.sheetnames == ["Report", "Busiest hours", "Definitions"]


def test_terminal_table(rep):
    text = exports.to_text(rep)
    lines = text.splitlines()
    assert lines[0] == "Trung tâm Kiểm thử — 25/11/2026 – 25/11/2026"
    assert lines[1].split()[:3] == ["Dịch", "vụ", "Phát"]
    total = next(line for line in lines if line.startswith("Toàn trung tâm"))
    # issued 10, served 5, no-show 2, transferred 1, abandoned 5, wait 15.0 / 38.0 min, 40 %, serving 10.6, 75 %
    assert total.split()[3:] == ["10", "5", "2", "1", "5", "15.0", "38.0", "40.0", "10.6", "75.0"]
