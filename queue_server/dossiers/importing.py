"""`qms import-dossiers FILE`: the daily export of dossiers (CSV or XLSX) into the store, for dossiers.source:
file. Every bad row is reported by its line, and nothing is imported when any row is bad. The applicant's name
is masked before it is stored; a phone or ID column is never read.

Columns (first row; English or Vietnamese names, any order): code/ma_ho_so, status/trang_thai,
procedure/thu_tuc, received/ngay_tiep_nhan, appointment/ngay_hen_tra, collect_at/noi_tra_ket_qua,
applicant/chu_ho_so. code and status are required.
"""
from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from queue_server.core import dossiers as rules
from queue_server.core.dossiers import DossierDataError

ALIASES = {"ma_ho_so": "code", "trang_thai": "status", "thu_tuc": "procedure", "ngay_tiep_nhan": "received",
           "ngay_hen_tra": "appointment", "noi_tra_ket_qua": "collect_at", "chu_ho_so": "applicant"}
MAX_ROWS = 200_000


class DossierFileError(Exception):
    def __init__(self, source: str, problems: list[tuple[int | None, str]]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}:{line}: {msg}" if line else f"{source}: {msg}" for line, msg in problems))


def _rows_csv(data: bytes, source: str):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise DossierFileError(source, [(line, 'the file is not UTF-8 text (save it as "CSV UTF-8")')]) from None
    sample = text[:4096]
    delimiter = ";" if sample.split("\n", 1)[0].count(";") > sample.split("\n", 1)[0].count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for row in reader:
        yield reader.line_num, row


def _rows_xlsx(data: bytes, source: str):
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a file that is not a workbook
        raise DossierFileError(source, [(None, "the file is not an Excel workbook (.xlsx)")]) from None
    sheet = book.worksheets[0]
    for n, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        yield n, ["" if v is None else (v.date().isoformat() if hasattr(v, "date") else str(v)) for v in row]


def parse(data: bytes, source: str, status_values: dict[str, str]) -> list[rules.Dossier]:
    """The file's dossiers, or DossierFileError naming every bad row's line."""
    if source.lower().endswith(".xlsx"):
        rows = _rows_xlsx(data, source)
    elif source.lower().endswith(".csv"):
        rows = _rows_csv(data, source)
    else:
        raise DossierFileError(source, [(None, "the file name must end in .csv or .xlsx")])
    problems: list[tuple[int | None, str]] = []
    header: list[str | None] | None = None
    out: list[rules.Dossier] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        if header is None:
            names = [str(c).strip().lower().replace(" ", "_") for c in row]
            header = [ALIASES.get(n, n) if ALIASES.get(n, n) in rules.FIELDS else None for n in names]
            missing = [f for f in ("code", "status") if f not in header]
            if missing:
                raise DossierFileError(source, [(line, f"the first row must name the columns; missing: {', '.join(missing)}")])
            continue
        if not any(str(c).strip() for c in row):
            continue
        if len(out) + len(problems) >= MAX_ROWS:
            problems.append((line, f"more than {MAX_ROWS} rows"))
            break
        fields = {name: str(value).strip() for name, value in zip(header, row) if name}
        code = rules.clean_code(fields.get("code", ""))
        if code is None:
            problems.append((line, f"code {fields.get('code', '')[:60]!r} is not a dossier code"))
            continue
        if code in seen:
            problems.append((line, f"code {code} is also on line {seen[code]}"))
            continue
        seen[code] = line
        try:
            out.append(rules.make(fields, status_values, code=code))
        except DossierDataError as exc:
            problems.append((line, str(exc)))
    if header is None:
        raise DossierFileError(source, [(None, "the file is empty")])
    if problems:
        raise DossierFileError(source, problems)
    return out


def read_file(path: str | Path, status_values: dict[str, str]) -> list[rules.Dossier]:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DossierFileError(str(path), [(None, f"cannot read the file: {exc.strerror}")]) from None
    return parse(data, str(path), status_values)


def import_file(store, path: str | Path, *, actor: str) -> dict:
    from queue_server.store import dossiers as dossier_rows

    found = read_file(path, dict(store.config.dossiers.status_values))
    return dossier_rows.replace_all(store, [tuple(getattr(d, c) for c in dossier_rows.COLUMNS) for d in found],
                                    source=Path(path).name, actor=actor)


def cli_import(config, db_path: str | None, file: str, *, check_only: bool = False, out=None, err=None) -> int:
    """`qms import-dossiers FILE`: 0 imported (or checked), 2 bad file (every bad row named, nothing imported)."""
    from queue_server.store import Store

    out, err = out or sys.stdout, err or sys.stderr
    try:
        found = read_file(file, dict(config.dossiers.status_values))
    except DossierFileError as exc:
        print(f"{exc}\n{len(exc.problems)} problem(s); nothing was imported.", file=err)
        return 2
    if check_only:
        print(f"{file}: OK — {len(found)} dossiers (checked only, not imported)", file=out)
        return 0
    store = Store(db_path or config.server.db_path, config)
    try:
        got = import_file(store, file, actor="cli")
    finally:
        store.close()
    note = "" if config.dossiers.source == "file" else " (dossiers.source is not file: look-ups do not read them)"
    print(f"{file}: imported {got['count']} dossiers into {store.path} (replacing {got['replaced']}){note}", file=out)
    return 0


def add_command(sub, load, default_config: str) -> None:
    p = sub.add_parser("import-dossiers", help="replace the dossiers looked up at the kiosk from a CSV or XLSX "
                                               "export (every bad row is reported by line; nothing is imported on error)")
    p.add_argument("file")
    p.add_argument("--check", action="store_true", help="check the file only, import nothing")
    p.add_argument("--config", default=default_config)
    p.add_argument("--db", help="database file (default: server.db_path of the config)")
    p.set_defaults(fn=lambda args: cli_import(load(args.config), args.db, args.file, check_only=args.check))
