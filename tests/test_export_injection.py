"""Names that look like spreadsheet formulas, exported: every CSV and XLSX the server and `qms report` write shows
them as text. The centre's names (staff, services, counters, departments, rating levels, the centre itself) are
typed by people; a staff name `=HYPERLINK("http://x","y")` must reach the spreadsheet as that text, never as a
formula. Each file is read back (csv, openpyxl) and every cell checked; figures stay numbers.
"""
from __future__ import annotations

import csv
import io

import pytest
import yaml
from openpyxl import load_workbook

from conftest import FIXTURES
from inproc import InProcessServer
from queue_server import exports
from queue_server import reports as R
from queue_server.accounts import Accounts
from queue_server.config import load_config
from queue_server.store import Store
from server_util import server_config

STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet reads as the start of a formula
HYPERLINK = '=HYPERLINK("http://x","y")'

# Every name a report shows, each starting like a formula; Vietnamese letters behind the dangerous start.
CENTRE = '=cmd|" /C calc"!A0'
DEPARTMENTS = {"police": ("-2+3 Công an tỉnh", "@Police"), "justice": ('=IMPORTXML("http://x","//a")', "+Justice"),
               "land": ("+Sở Nông nghiệp và Môi trường", "=1+1 Agriculture")}
SERVICES = {"cccd": ("+1", "=1+1"), "passport": (HYPERLINK, "-Passport"), "civil": ("-Hộ tịch", "@Civil"),
            "records": ("@SUM(A1)", "@SUM(B1)"), "land": ("=2*3 Đăng ký đất đai", "=2*3")}
COUNTERS = {"1": "@SUM(A1)", "2": HYPERLINK, "3": "=3", "4": "+84 912 345 678", "5": "-5"}
STAFF = {"canbo1": HYPERLINK, "canbo3": "+Trần Thị Bình", "canbo5": "\x01=1+1 Lê Văn Cường"}
LEVELS = {1: ("-Chưa hài lòng", "@Not satisfied")}
# config.yaml trims the spaces around a name; an account made in the admin page keeps a leading tab or CR.
ADMIN_STAFF = {"canbo6": "\t=1+1 Phạm Thị Dung", "canbo7": "\r@SUM(A1) Hoàng Văn Em"}
GROUPINGS = ("department", "service", "counter", "officer")


def hostile(data: dict) -> dict:
    """The test centre's config (yaml data) with every name above put in."""
    data["centre"]["name"] = CENTRE
    data["queue"]["always_open"] = True  # tickets can be issued whenever the test runs
    for d in data["departments"]:
        d["name"], d["name_en"] = DEPARTMENTS[d["id"]]
        for s in d["services"]:
            s["name"], s["name_en"] = SERVICES[s["id"]]
    for c in data["counters"]:
        if c["id"] in COUNTERS:
            c["name"] = COUNTERS[c["id"]]
    data["staff"].append({"username": "canbo5", "password": "test-staff", "counters": ["4", "5"]})
    for s in data["staff"]:
        if s["username"] in STAFF:
            s["full_name"] = STAFF[s["username"]]
    for lv in data["rating"]["levels"]:
        if lv["value"] in LEVELS:
            lv["label"], lv["label_en"] = LEVELS[lv["value"]]
    return data


def write_config(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(hostile(data), allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def serve_everyone(store: Store) -> None:
    """Each of the five named counters opened by its officer, calls a ticket of each of its services, finishes it."""
    accounts = Accounts(store, store.config)
    accounts.seed_from_config()
    ids = {u["username"]: u["id"] for u in accounts.users()}
    officer = {"1": "canbo1", "2": "canbo1", "3": "canbo3", "4": "canbo5", "5": "canbo5"}
    for c in store.config.counters:
        if c.id not in officer:
            continue
        staff = ids[officer[c.id]]
        store.set_counter_state(c.id, "open", staff_id=staff)
        for service in c.services:
            store.issue(service)
            called = store.call_next(c.id, staff_id=staff).ticket
            store.finish(called["id"], c.id, staff_id=staff)


def neutral(name: str) -> str:
    """What the file must show for a name: the name, an apostrophe before it when it starts like a formula, and
    without the control characters no XLSX file can hold."""
    name = name.replace("\x01", "")
    return "'" + name if name.startswith(STARTS) else name


def expected_labels(group_by: str, lang: str, more: tuple[str, ...] = ()) -> set[str]:
    en = lang == "en"
    names = {"department": [vi_en[1 if en else 0] for vi_en in DEPARTMENTS.values()],
             "service": [vi_en[1 if en else 0] for vi_en in SERVICES.values()],
             "counter": list(COUNTERS.values()), "officer": list(STAFF.values())}[group_by]
    return {neutral(n) for n in [*names, *more]}


def check_csv(data: bytes, group_by: str, lang: str, more: tuple[str, ...] = ()) -> list[list[str]]:
    """Every cell of a CSV export: none starts like a formula, the figures are numbers, the names are all there."""
    got = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(got) >= 3
    for text in [*got[0], *(line[0] for line in got[1:])]:  # the headers and the names: text
        assert not text.startswith(STARTS), f"a formula in the CSV: {text!r}"
    for line in got[1:]:
        for cell in line[1:]:
            assert cell == "" or _is_number(cell), f"a figure that is not a number: {cell!r}"
    assert expected_labels(group_by, lang, more) <= {line[0] for line in got[1:]}
    level = LEVELS[1][1 if lang == "en" else 0]
    assert neutral(f"{level} ({'presses' if lang == 'en' else 'lượt'})") in got[0]
    return got


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_xlsx(data: bytes, group_by: str, lang: str, more: tuple[str, ...] = ()) -> None:
    """Every cell of every sheet: no formula (type "f"), no text starting like one; the table's figures are numbers."""
    wb = load_workbook(io.BytesIO(data))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"a formula in {ws.title}!{cell.coordinate}: {cell.value!r}"
                if isinstance(cell.value, str):
                    assert cell.data_type == "s" and not cell.value.startswith(STARTS), (ws.title, cell.value)
    table = wb.worksheets[0]
    assert table["A1"].value == ("Report: " if lang == "en" else "Báo cáo: ") + CENTRE
    rows = [list(r) for r in table.iter_rows(min_row=7, values_only=True)]
    for r in rows:
        assert all(v is None or isinstance(v, (int, float)) for v in r[1:]), r
    # XML reads a carriage return back as a line feed: the apostrophe before it is what counts
    assert {n.replace("\r", "\n") for n in expected_labels(group_by, lang, more)} <= {r[0] for r in rows}
    for r in wb.worksheets[1].iter_rows(min_row=3, values_only=True):  # busiest hours: counts
        assert all(isinstance(v, int) for v in r[1:])


# ------------------------------------------------------------------ the exports module, every grouping and language
@pytest.fixture
def hostile_store(tmp_path, clock):
    cfg = load_config(write_config(tmp_path / "centre.yaml",
                                   yaml.safe_load((FIXTURES / "centre.yaml").read_text(encoding="utf-8"))))
    s = Store(tmp_path / "qms.sqlite3", cfg, clock=clock)
    serve_everyone(s)
    yield s
    s.close()


def build(store: Store, group_by: str, lang: str) -> dict:
    day = store.today()
    return R.build_report(store, day, day, group_by, staff_names=Accounts(store, store.config).staff_name, lang=lang)


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("group_by", GROUPINGS)
def test_csv_shows_formula_like_names_as_text(hostile_store, group_by, lang):
    check_csv(exports.to_csv(build(hostile_store, group_by, lang), lang), group_by, lang)


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("group_by", GROUPINGS)
def test_xlsx_holds_no_formula(hostile_store, group_by, lang):
    check_xlsx(exports.to_xlsx(build(hostile_store, group_by, lang), lang), group_by, lang)


def test_negative_numbers_stay_numbers(hostile_store):
    """Only text is neutralised: a figure below zero is written as the number it is, in both formats."""
    rep = build(hostile_store, "counter", "vi")
    rep["rows"][0]["issued"] = -3
    rep["total"]["wait_avg_s"] = -90.0
    head = exports.headers(rep)
    got = check_csv(exports.to_csv(rep), "counter", "vi")
    assert got[1][head.index("Số phát")] == "-3" and got[-1][head.index("Chờ trung bình (phút)")] == "-1.5"
    table = load_workbook(io.BytesIO(exports.to_xlsx(rep))).worksheets[0]
    rows = list(table.iter_rows(min_row=7))
    first, total = rows[0][head.index("Số phát")], rows[-1][head.index("Chờ trung bình (phút)")]
    assert (first.value, first.data_type) == (-3, "n") and (total.value, total.data_type) == (-1.5, "n")


# ------------------------------------------------------------------ GET /api/v1/reports/export
@pytest.fixture
def hostile_site(tmp_path, clock):
    path = server_config(tmp_path, now=clock())
    write_config(path, yaml.safe_load(path.read_text(encoding="utf-8")))
    srv = InProcessServer(path, tmp_path / "qms.sqlite3", clock)
    serve_everyone(srv.ctx.store)
    admin = srv.login("admin", "test-admin")
    for (username, full_name), counter in zip(ADMIN_STAFF.items(), ("6", "7")):
        r = srv.post("/api/v1/admin/staff", {"username": username, "password": "test-staff", "full_name": full_name,
                                             "counters": [counter]}, headers=admin)
        assert r.status_code in (200, 201), r.text
        staff = next(u["id"] for u in srv.ctx.accounts.users() if u["username"] == username)
        srv.ctx.store.set_counter_state(counter, "open", staff_id=staff)
        srv.ctx.store.issue("cccd")
        called = srv.ctx.store.call_next(counter, staff_id=staff).ticket
        srv.ctx.store.finish(called["id"], counter, staff_id=staff)
    yield srv
    srv.close()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("group_by", GROUPINGS)
def test_report_download_shows_formula_like_names_as_text(hostile_site, fmt, group_by):
    auth = hostile_site.login("super", "test-super")
    for lang in ("vi", "en"):
        r = hostile_site.get(f"/api/v1/reports/export?format={fmt}&group_by={group_by}&lang={lang}", headers=auth)
        assert r.status_code == 200, r.text[:300]
        more = tuple(ADMIN_STAFF.values()) if group_by == "officer" else ()
        (check_csv if fmt == "csv" else check_xlsx)(r.content, group_by, lang, more)


# ------------------------------------------------------------------ qms report --format csv|xlsx
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_cli_report_shows_formula_like_names_as_text(tmp_path, fmt):
    cfg = write_config(tmp_path / "centre.yaml", yaml.safe_load((FIXTURES / "centre.yaml").read_text(encoding="utf-8")))
    db = tmp_path / "cli.sqlite3"
    s = Store(db, load_config(cfg))
    serve_everyone(s)
    today = s.today()
    s.close()
    from queue_server.cli.commands import main  # `qms report`'s own entry, in this process (one file per grouping)

    for group_by in GROUPINGS:
        out = tmp_path / f"{group_by}.{fmt}"
        assert main(["report", "--config", str(cfg), "--db", str(db), "--day", today, "--group-by", group_by,
                     "--format", fmt, "--out", str(out)]) == 0
        (check_csv if fmt == "csv" else check_xlsx)(out.read_bytes(), group_by, "vi")


def test_safe_cell_rule():
    """The one rule every writer uses, on each dangerous start and on what must pass unchanged."""
    for start in STARTS:
        assert exports.safe_cell(start + "x") == "'" + start + "x"
    assert exports.safe_cell("\x02=1+1") == "'=1+1"  # a control character first does not hide the formula
    for same in ("Nguyễn Văn An", "'=already quoted", "a=b", " 1", "", -3, -1.5, 0, None):
        assert exports.safe_cell(same) == same
