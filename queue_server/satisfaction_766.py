"""The satisfaction export in the shape provinces ask for under Decision 766/QĐ-TTg: for a period, per agency
(department), per field (lĩnh vực) and per officer, the rated tickets, the counted presses per level and the
satisfaction rate, with the centre and the period. XLSX (one sheet per grouping) and JSON.

The figures are the report's (queue_server/reports.py): one counted rating per ticket, repeats and presses
flagged as suspicious left out, satisfied = a level marked `positive`. A field is the sum of its services
(`departments[].services[].field`, default the service's name). The headers are settings
(`satisfaction_766.headers`, defaults in config/words_766.py); docs/reports.md shows the layout.
"""
from __future__ import annotations

import io
import json

from queue_server import reports
from queue_server.config.words_766 import HEADER_KEYS
from queue_server.core.report_math import is_flagged, share
from queue_server.store import dossiers as dossier_rows
from queue_server.exports import _append, _dmy, made_at

GROUPINGS = ("department", "field", "officer", "dossier")


def _header(config, key: str, lang: str) -> str:
    custom = config.satisfaction_766.headers.get(key)
    if custom and lang != "en":
        return custom
    vi, en = HEADER_KEYS[key]
    return en if lang == "en" else vi


def _row(label: str, levels: dict[str, int], positive_levels: set[int], extra: dict | None = None) -> dict:
    counted = sum(levels.values())
    positive = sum(n for v, n in levels.items() if int(v) in positive_levels)
    rate = share(positive, counted)
    return {"label": label, **(extra or {}), "rated_tickets": counted, "levels": levels, "positive": positive,
            "satisfaction_rate": None if rate is None else round(100 * rate, 1)}  # percent, one decimal


def build(store, day_from: str, day_to: str, *, staff_names, usernames=None, lang: str = "vi", pause=None) -> dict:
    """The export's figures for a range of local days."""
    config = store.config
    positive_levels = {lv.value for lv in config.rating.levels if lv.positive}
    by = {g: reports.build_report(store, day_from, day_to, g, staff_names=staff_names, lang=lang, pause=pause,
                                  derive=(g == "department"))
          for g in ("department", "service", "officer")}

    def levels_of(row) -> dict[str, int]:
        return {str(lv.value): row["rating_levels"].get(str(lv.value), 0) for lv in config.rating.levels}

    departments = [_row(r["label"], levels_of(r), positive_levels, {"key": r["key"]})
                   for r in by["department"]["rows"] if r["ratings_counted"]]
    fields: dict[str, dict[str, int]] = {}
    owner: dict[str, str] = {}
    services = config.services()
    for r in by["service"]["rows"]:
        if not r["ratings_counted"] or r["key"] not in services:
            continue
        dept, svc = services[r["key"]]
        name = svc.field or (svc.name_en if lang == "en" and svc.name_en else svc.name)
        acc = fields.setdefault(name, {str(lv.value): 0 for lv in config.rating.levels})
        for v, n in levels_of(r).items():
            acc[v] += n
        owner.setdefault(name, dept.name_en if lang == "en" and dept.name_en else dept.name)
    field_rows = [_row(name, lv, positive_levels, {"department": owner[name]}) for name, lv in fields.items()]
    officers = [_row(r["label"], levels_of(r), positive_levels,
                     {"username": (usernames(r["key"]) if usernames and isinstance(r["key"], int) else "")})
                for r in by["officer"]["rows"] if r["ratings_counted"] and isinstance(r["key"], int)]
    total = _row(_header(config, "total", lang), levels_of(by["department"]["total"]), positive_levels)
    dossiers = _per_dossier(store, day_from, day_to, config, positive_levels)
    return {"kind": "satisfaction-766", "title": config.satisfaction_766.title, "centre": config.centre.name,
            "from": day_from, "to": day_to, "timezone": config.centre.timezone,
            "generated_ms": by["department"]["generated_ms"],
            "levels": [{"value": lv.value, "label": lv.label_en if lang == "en" and lv.label_en else lv.label,
                        "positive": lv.positive} for lv in config.rating.levels],
            "headers": {k: _header(config, k, lang) for k in HEADER_KEYS},
            "department": departments, "field": field_rows, "officer": officers, "dossier": dossiers, "total": total}


def _per_dossier(store, day_from: str, day_to: str, config, positive_levels: set[int]) -> list[dict]:
    """Tickets an officer linked to a dossier (the counter terminal), per dossier code: tickets, and their
    counted ratings as in the other sheets (presses flagged as suspicious left out)."""
    tickets = {r["code"]: r["tickets"] for r in dossier_rows.tickets_per_dossier(store, day_from, day_to)}
    levels = {code: {str(lv.value): 0 for lv in config.rating.levels} for code in tickets}
    for code, level, flags in dossier_rows.ratings_per_dossier(store, day_from, day_to):
        if not is_flagged(json.loads(flags) if isinstance(flags, str) else flags) and str(level) in levels.get(code, {}):
            levels[code][str(level)] += 1
    return [_row(code, levels[code], positive_levels, {"tickets": n}) for code, n in tickets.items()]


def to_json(export: dict) -> bytes:
    return json.dumps(export, ensure_ascii=False, indent=1).encode("utf-8")


def to_xlsx(export: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    h = export["headers"]
    wb = Workbook()
    wb.remove(wb.active)
    level_heads = [lv["label"] for lv in export["levels"]]
    for grouping in GROUPINGS:
        ws = wb.create_sheet(h[f"sheet_{grouping}"][:31])
        _append(ws, [export["title"]])
        ws["A1"].font = Font(bold=True, size=13)
        _append(ws, [h["centre"], export["centre"]])
        _append(ws, [h["period"], f"{_dmy(export['from'])} – {_dmy(export['to'])}"])
        _append(ws, [h["made_at"], f"{made_at(export):%d/%m/%Y %H:%M}"])
        _append(ws, [])
        extra = {"field": ["department"], "officer": ["username"], "dossier": ["tickets"]}.get(grouping, [])
        _append(ws, [h[grouping], *(h[x] for x in extra), h["rated_tickets"], *level_heads, h["positive"],
                     h["satisfaction_rate"]])
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
        for r in [*export[grouping], *([] if grouping == "dossier" else [export["total"]])]:
            _append(ws, [r["label"], *(r.get(x, "") for x in extra), r["rated_tickets"],
                         *(r["levels"][str(lv["value"])] for lv in export["levels"]), r["positive"],
                         r["satisfaction_rate"]])
        if grouping != "dossier":
            for cell in ws[ws.max_row]:
                cell.font = Font(bold=True)
        ws.column_dimensions["A"].width = 48
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def export(rep: dict, fmt: str) -> tuple[bytes, str, str]:
    """(data, MIME type, file name ending) in `xlsx` or `json`."""
    if fmt == "json":
        return to_json(rep), "application/json", ".json"
    return to_xlsx(rep), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"
