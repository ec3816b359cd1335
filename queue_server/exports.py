"""Report exports: XLSX (openpyxl), the one offered first, and CSV (UTF-8 with a byte-order mark, so Excel shows
Vietnamese correctly) in two variants: comma-separated with a dot as decimal separator (`csv`), and
semicolon-separated with a decimal comma (`csv-semicolon`), the list and decimal separators of Excel set to
Vietnamese, which reads a comma CSV as one column.

All hold the same table: one row per group and a last row for the whole centre, Vietnamese headers (English
with lang="en"). Durations are in minutes, shares in percent. The XLSX file holds real numbers with formats, so a
spreadsheet in any locale shows them its own way; its "made at" time is the centre's local time.

Every cell of both goes through `safe_cell`: text a spreadsheet would take for a formula (a name typed by an
admin or in config.yaml: staff, service, counter, department, rating level, centre) is neutralised, numbers stay
numbers. The rule and the reason for its form are in docs/reports.md ("Names that look like formulas").
"""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from queue_server.reports import COLUMNS, GROUP_HEADERS, WEEKDAYS_EN, WEEKDAYS_VI

CSV_MIME = "text/csv; charset=utf-8"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# format: (file name ending, MIME type); the XLSX first, as the reports page offers them
FORMATS = {"xlsx": (".xlsx", XLSX_MIME), "csv-semicolon": ("-dau-cham-phay.csv", CSV_MIME), "csv": (".csv", CSV_MIME)}
# Columns shown by `qms report --format table` (a terminal is narrow).
TERMINAL_COLUMNS = {  # key: (Vietnamese, English) short headers
    "issued": ("Phát", "Issued"), "served": ("Phục vụ", "Served"), "no_show": ("Vắng", "No-show"),
    "transferred": ("Chuyển", "Transf."), "abandoned": ("Bỏ về", "Abandoned"), "wait_avg_s": ("Chờ TB'", "Wait avg'"),
    "wait_p90_s": ("Chờ P90'", "Wait p90'"), "within_target": ("Đúng hạn %", "On target %"),
    "serve_avg_s": ("PV TB'", "Serve avg'"), "satisfaction_rate": ("Hài lòng %", "Satisfied %"),
}


# A cell whose text starts with one of these is read by Excel, LibreOffice or Google Sheets as a formula (or a
# DDE command): "=HYPERLINK(...)", "+1", "-2+3", "@SUM(A1)", a tab or a carriage return before any of them.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Control characters an XLSX file cannot hold (openpyxl refuses them); tab, line feed and carriage return stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def safe_cell(value):
    """A value as it may go into a spreadsheet cell. Text loses the control characters no XLSX file can hold and,
    if it then starts like a formula, gets a leading apostrophe, so a spreadsheet shows it as the text it is
    (`=HYPERLINK("http://x","y")` -> `'=HYPERLINK("http://x","y")`). Numbers (a negative one too) and empty cells
    are returned as they are: only text is neutralised."""
    if not isinstance(value, str):
        return value
    value = _CONTROL.sub("", value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _append(ws, values) -> None:
    """One row of an XLSX sheet: every value through `safe_cell`, every text cell written as a string cell (type
    "s"), so no cell of the file is ever a formula."""
    values = [safe_cell(v) for v in values]
    ws.append(values)
    for column, v in enumerate(values, 1):  # a row with values is the sheet's last row now
        if isinstance(v, str):
            ws.cell(row=ws.max_row, column=column).data_type = "s"


def headers(report: dict, lang: str = "vi") -> list[str]:
    """The table's headers: the group, every figure, then one count per satisfaction level (after rated)."""
    en = lang == "en"
    out = [GROUP_HEADERS[report["group_by"]][1 if en else 0]]
    for key, vi, eng, _ in COLUMNS:
        out.append(eng if en else vi)
        if key == "serve_p90_s":
            for lv in report["rating_levels"]:
                label = (lv["label_en"] or lv["label"]) if en else lv["label"]
                out.append(f"{label} ({'presses' if en else 'lượt'})")
    return out


def _value(kind: str, v):
    if v is None:
        return None
    if kind == "seconds":
        return round(v / 60, 2)
    if kind == "share":
        return round(v * 100, 1)
    return v


def rows(report: dict) -> list[list]:
    """Every group's row, then the whole centre's, as plain values (minutes, percents, counts)."""
    out = []
    for row in [*report["rows"], report["total"]]:
        values = [row["label"]]
        for key, _, _, kind in COLUMNS:
            values.append(_value(kind, row[key]))
            if key == "serve_p90_s":
                values.extend(row["rating_levels"].get(str(lv["value"]), 0) for lv in report["rating_levels"])
        out.append(values)
    return out


def _kinds(report: dict) -> list[str]:
    kinds = ["label"]
    for key, _, _, kind in COLUMNS:
        kinds.append(kind)
        if key == "serve_p90_s":
            kinds.extend("count" for _ in report["rating_levels"])
    return kinds


def to_csv(report: dict, lang: str = "vi", *, delimiter: str = ",") -> bytes:
    """The table as CSV. With `delimiter=";"` numbers take a decimal comma (12,5), as Excel set to Vietnamese
    reads them; with "," a decimal dot."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow([safe_cell(h) for h in headers(report, lang)])
    for r in rows(report):
        w.writerow([_csv_value(safe_cell(v), delimiter) for v in r])
    return buf.getvalue().encode("utf-8-sig")


def _csv_value(v, delimiter: str):
    if v is None:
        return ""
    if isinstance(v, float) and delimiter == ";":
        return repr(v).replace(".", ",")
    return v


def export(report: dict, fmt: str, lang: str = "vi") -> tuple[bytes, str, str]:
    """(data, MIME type, file name ending) of the report in a format of FORMATS."""
    ending, mime = FORMATS[fmt]
    if fmt == "xlsx":
        return to_xlsx(report, lang), mime, ending
    return to_csv(report, lang, delimiter=";" if fmt == "csv-semicolon" else ","), mime, ending


def made_at(report: dict) -> datetime:
    """When the report was made, in the centre's local time (its `generated_ms` in its `timezone`)."""
    return datetime.fromtimestamp(report["generated_ms"] / 1000, ZoneInfo(report["timezone"]))


def to_xlsx(report: dict, lang: str = "vi", generated: datetime | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    en = lang == "en"
    wb = Workbook()
    ws = wb.active
    ws.title = "Report" if en else "Báo cáo"
    title = (f"{'Report' if en else 'Báo cáo'}: {report['centre']}")
    _append(ws, [title])
    ws["A1"].font = Font(bold=True, size=14)
    _append(ws, [("Period" if en else "Thời gian") + f": {_dmy(report['from'])} – {_dmy(report['to'])}"])
    _append(ws, [("Grouped by" if en else "Theo") + f": {GROUP_HEADERS[report['group_by']][1 if en else 0]}"])
    when = generated or made_at(report)
    _append(ws, [("Made" if en else "Lập lúc") + f": {when:%d/%m/%Y %H:%M}" +
               ("" if report.get("ratings_available", True) else
                (" — no ratings table yet" if en else " — chưa có bảng đánh giá"))])
    _append(ws, [])
    head = headers(report, lang)
    _append(ws, head)
    header_row = ws.max_row
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="F2DCDB")
    for cell in ws[header_row]:
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    kinds = _kinds(report)
    for r in rows(report):
        _append(ws, r)
        for cell, kind in zip(ws[ws.max_row], kinds):
            if kind == "seconds":
                cell.number_format = "0.00"
            elif kind == "share":
                cell.number_format = "0.0"
    for cell in ws[ws.max_row]:
        cell.font = bold
    ws.freeze_panes = ws.cell(row=header_row + 1, column=2)
    ws.column_dimensions["A"].width = 34
    for i in range(2, len(head) + 1):
        ws.column_dimensions[get_column_letter(i)].width = 14
    ws.row_dimensions[header_row].height = 48

    heat = wb.create_sheet("Busiest hours" if en else "Giờ cao điểm")
    _append(heat, ["Tickets issued by weekday and hour" if en else "Số phiếu phát theo thứ và giờ"])
    heat["A1"].font = Font(bold=True, size=13)
    hours = report["heatmap"]["hours"] or list(range(7, 18))
    _append(heat, [""] + [f"{h:02d}:00" for h in hours] + ["Total" if en else "Tổng"])
    for cell in heat[2]:
        cell.font = bold
    names = WEEKDAYS_EN if en else WEEKDAYS_VI
    counts = report["heatmap"]["counts"]
    for wd in range(7):
        _append(heat, [names[wd]] + [counts[wd][h] for h in hours] + [sum(counts[wd])])
    heat.column_dimensions["A"].width = 14

    info = wb.create_sheet("Definitions" if en else "Định nghĩa")
    for line in DEFINITIONS_EN if en else DEFINITIONS_VI:
        _append(info, [line])
    info.column_dimensions["A"].width = 120
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _dmy(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


DEFINITIONS_VI = (
    "Định nghĩa các chỉ số (chi tiết: docs/reports.md)",
    "Lượt: mỗi lần một số vào hàng chờ của một dịch vụ (khi phát số, hoặc khi được chuyển đến).",
    "Thời gian chờ: từ lúc vào hàng chờ đến lần gọi đầu tiên của lượt đó; gọi lại không tính.",
    "Thời gian phục vụ: từ lúc bắt đầu phục vụ (hoặc lúc gọi nếu không bấm bắt đầu) đến lúc hoàn thành, trừ thời gian tạm giữ.",
    "Trung vị và P90: nội suy tuyến tính giữa hai hạng gần nhất (như PERCENTILE.INC của Excel).",
    "Gọi trong thời gian chờ mục tiêu: số lượt được gọi trong thời gian mục tiêu của dịch vụ, chia cho số lượt đã gọi "
    "cộng số lượt bỏ về sau khi đã chờ quá thời gian mục tiêu.",
    "Bỏ về (tổng) = vắng mặt + đã hủy + không được phục vụ (còn chờ khi hết ngày).",
    "Tỷ lệ hài lòng: số lượt bấm ở các mức hài lòng chia cho số lượt bấm hợp lệ; bấm lặp lại, bị gắn cờ hoặc không "
    "gắn được số được tính riêng.",
)
DEFINITIONS_EN = (
    "Definitions of the figures (in full: docs/reports.md)",
    "Leg: each time a ticket joins the queue of a service (when issued, or when transferred to it).",
    "Waiting time: from joining the queue to the first call of that leg; recalls do not count.",
    "Serving time: from the start of service (or the call, when start was not pressed) to the finish, without time parked.",
    "Median and P90: linear interpolation between the closest ranks (Excel PERCENTILE.INC).",
    "Called within target: legs called within the service's target wait, out of legs called plus legs that left "
    "after waiting longer than the target.",
    "Abandoned (total) = no-show + cancelled + unserved (still waiting when the day closed).",
    "Satisfaction rate: presses on the satisfied levels out of the counted presses; repeated, flagged and "
    "unattributed presses are shown apart.",
)


def to_text(report: dict, lang: str = "vi") -> str:
    """A narrow table for a terminal (`qms report`)."""
    en = lang == "en"
    cols = [(k, TERMINAL_COLUMNS[k][1 if en else 0], kind) for k, _, _, kind in COLUMNS if k in TERMINAL_COLUMNS]
    head = [GROUP_HEADERS[report["group_by"]][1 if en else 0]] + [label for _, label, _ in cols]
    body = []
    for row in [*report["rows"], report["total"]]:
        cells = [str(row["label"])]
        for key, _, kind in cols:
            v = _value(kind, row[key])
            cells.append("–" if v is None else (f"{v:.1f}" if isinstance(v, float) else str(v)))
        body.append(cells)
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    widths = [min(w, 40) for w in widths]

    def line(cells):
        first = cells[0][:widths[0]].ljust(widths[0])
        return "  ".join([first] + [c.rjust(w) for c, w in zip(cells[1:], widths[1:])])

    title = (f"{report['centre']} — {_dmy(report['from'])} – {_dmy(report['to'])}")
    out = [title, line(head), "  ".join("-" * w for w in widths)]
    legend = "(' = minutes)" if en else "(' = phút)"
    out += [line(r) for r in body[:-1]]
    out += ["  ".join("-" * w for w in widths), line(body[-1])]
    out.append(legend)
    if not report.get("ratings_available", True):
        out.append("(no ratings table yet: satisfaction shows zero)" if en else "(chưa có bảng đánh giá: mức hài lòng bằng 0)")
    return "\n".join(out)
