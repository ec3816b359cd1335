"""Supervision: the live dashboard (GET /supervisor), its state and alerts, and the reports page and API.

The pages are static HTML + JavaScript. They sign in with POST /api/v1/login (supervisor or admin accounts),
keep the token in sessionStorage, join the Socket.IO room `supervisors` (every change, device states, alerts)
and read GET /api/v1/supervisor/state again after a change. The supervisor's actions go through the existing
REST routes (POST /api/v1/services/<id>, PUT /api/v1/counters/<id>/services), which check the role and write
each change to the event log with who made it.

Alerts, most urgent first: a service with people waiting and no open counter serving it, a service whose
longest current wait is over its target, a device in a problem state (missing,
offline, error, paper out, ...). A background task looks every ALERT_CHECK_SECONDS and pushes
`alerts.updated` to the supervisors when the set changes; it also derives finished days for the reports.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from queue_server import exports
from queue_server import reports
from queue_server import satisfaction_766
from queue_server.store import queue_reads
from queue_server.web import forecasting
from queue_server.web.audit_words import DEVICE_KINDS
from queue_server.web.toolkit import lang, require
from queue_server.core.errors import DomainError

log = logging.getLogger(__name__)
bp = Blueprint("supervision", __name__)

ALERT_CHECK_SECONDS = 5
WARM_EVERY_CHECKS = 12  # derive a few finished days for the reports about once a minute
COUNTER_VIEW_STATES = ("serving", "idle", "break", "closed", "offline")


def ctx():
    return current_app.extensions["qms"]


def need_supervisor():
    return require("supervisor")


# ------------------------------------------------------------------ pages
def _page(template: str, title: str):
    c = ctx()
    cfg = c.config
    page = {"centre": cfg.centre.name, "centre_en": cfg.centre.name_en, "tz": cfg.centre.timezone, "title": title}
    return render_template(template, centre=cfg.centre, page=page)


@bp.get("/supervisor")
def supervisor_page():
    return _page("supervisor.html", "Giám sát")


@bp.get("/reports")
def reports_page():
    return _page("reports.html", "Báo cáo")


# ------------------------------------------------------------------ dashboard state
def terminal_counters(c) -> set[str]:
    """Counters with a counter terminal (a staff member's socket) connected to this server process."""
    out = set()
    if c.sockets is None:
        return out
    for client in list(c.sockets.clients.values()):
        room = client.get("room") or ""
        if room.startswith("counter:") and client["principal"].kind == "staff":
            out.add(room.split(":", 1)[1])
    return out


def counter_view_state(counter: dict, connected: bool) -> str:
    if counter["state"] == "closed":
        return "closed"
    if not connected:
        return "offline"
    if counter["state"] == "break":
        return "break"
    return "serving" if counter.get("current") else "idle"


def device_states(c) -> tuple[list[dict], str]:
    if c.devices is not None:
        return c.devices.states(), "reported"
    d = c.config.devices  # no device registry: what config.yaml lists, state unknown
    listed = [("kiosk", x.id, x.name) for x in d.kiosks] + [("printer", x.id, x.id) for x in d.printers] + \
        [("display", x.id, x.name) for x in d.displays] + [("led_board", x.id, x.counter) for x in d.led_boards] + \
        [("keypad", x.id, x.counter) for x in d.keypads]
    return [{"kind": k, "device_id": i, "name": n, "state": "unknown", "detail": "", "last_seen_ms": None,
             "problem": False, "configured": True} for k, i, n in listed], "config"


def dashboard_state(c) -> dict:
    store, read = c.store, c.read
    now, day = store.now_ms(), store.today()
    seq = store.last_seq()
    services = read.services()
    joined = queue_reads.oldest_waiting(store, day)
    manual = queue_reads.service_overrides(store)
    overrides = {r["id"]: r["services_override"] for r in queue_reads.counter_rows(store)}
    counters = [read.counter_state(k) for k in store.counters()]
    connected = terminal_counters(c)
    for k in counters:
        k["view_state"] = counter_view_state(k, k["id"] in connected)
        k["connected"] = k["id"] in connected
        k["configured_services"] = list(c.config.counter(k["id"]).services)
        k["reassigned"] = overrides.get(k["id"]) is not None
        cur = k.get("current")
        k["current_since_ms"] = (cur.get("started_ms") or cur.get("called_ms")) if cur else None
    serving_by_service = open_counters_by_service(counters)
    for s in services:
        first = joined.get(s["id"])
        s["oldest_waiting_ms"] = first if s["waiting"] else None
        s["longest_wait_s"] = round((now - first) / 1000) if first is not None and s["waiting"] else None
        s["over_target"] = s["longest_wait_s"] is not None and s["longest_wait_s"] > s["target_wait_minutes"] * 60
        s["manual"], s["cap_override"] = manual.get(s["id"], ("auto", None))
        s["configured_cap"] = c.config.service(s["id"]).daily_cap
        s["open_counters"] = serving_by_service.get(s["id"], [])
    devices, source = device_states(c)
    devices = localise_devices(devices)
    return {"now_ms": now, "day": day, "seq": seq, "services": services, "departments": read.departments(),
            "counters": counters, "devices": devices, "devices_source": source,
            "alerts": alerts(services, devices, now), "forecast": forecasting.of(c).current()}


DEVICE_STATES = {"missing": "mất tín hiệu", "offline": "mất kết nối", "disconnected": "mất kết nối", "error": "lỗi",
                 "failed": "hỏng", "paper_out": "hết giấy", "timeout": "không trả lời", "online": "đang hoạt động",
                 "unknown": "chưa rõ"}


# What devices.py and the agents write about a device, in English, read in both languages.
DEVICE_WORDS = [(re.compile(r"counter (\S+)"), "quầy {0}", "counter {0}"),
                (re.compile(r"(\d+) queued"), "{0} tin chờ gửi", "{0} queued"),
                (re.compile(r"disconnected"), "mất kết nối", "disconnected"),
                (re.compile(r"never reported"), "chưa báo trạng thái", "never reported"),
                (re.compile(r"not heard from for (\d+) s"), "không nhận được tín hiệu {0} giây", "not heard from for {0} s"),
                (re.compile(r"no printer agent connected for kiosk (.+)"), "chưa có máy trạm in phiếu nối với máy lấy số {0}",
                 "no printer agent connected for kiosk {0}"),
                (re.compile(r"no printer agent for kiosk (\S+) within (\S+) s"),
                 "không có máy trạm in phiếu của máy lấy số {0} trong {1} giây", "no printer agent for kiosk {0} within {1} s"),
                (re.compile(r"the printer agent did not report the slip printed within (\S+) s"),
                 "máy trạm in phiếu không báo đã in xong trong {0} giây",
                 "the printer agent did not report the slip printed within {0} s")]


def device_words(text: str) -> dict:
    """{vi, en} of a device's name or detail: a phrase the server writes is read in Vietnamese too."""
    text = text or ""
    for pattern, vi, en in DEVICE_WORDS:
        m = pattern.fullmatch(text)
        if m:
            return {"vi": vi.format(*m.groups()), "en": en.format(*m.groups())}
    return {"vi": text, "en": text}


def localise_devices(devices: list[dict]) -> list[dict]:
    return [{**d, "label": device_words(d.get("name") or ""), "detail_text": device_words(d.get("detail") or "")}
            for d in devices]


def open_counters_by_service(counters) -> dict[str, list]:
    """service id -> the numbers of the open counters that serve it."""
    out: dict[str, list] = {}
    for k in counters:
        if k["state"] == "open":
            for sid in k["services"]:
                out.setdefault(sid, []).append(k["number"])
    return out


def _waited(seconds: int, en: bool) -> str:
    if seconds < 120:
        return f"{seconds} s" if en else f"{seconds} giây"
    return f"{seconds // 60} min" if en else f"{seconds // 60} phút"


def alerts(services: list[dict], devices: list[dict], now_ms: int) -> list[dict]:
    """First the services with people waiting and no open counter, then waits over target, then devices.
    Each service carries `open_counters` (the numbers of the open counters serving it)."""
    out = []
    for s in services:
        if s["waiting"] and not s.get("open_counters"):
            out.append({"id": f"no_counter:{s['id']}", "kind": "no_counter", "level": "error", "service": s["id"],
                        "since_ms": s.get("oldest_waiting_ms"),
                        "message": f"{s['name']}: {s['waiting']} công dân chờ, không có quầy mở",
                        "message_en": f"{s['name_en'] or s['name']}: {s['waiting']} waiting, no counter open"})
    for s in services:
        if s.get("over_target"):
            waited = s["longest_wait_s"]
            out.append({"id": f"wait:{s['id']}", "kind": "wait", "level": "warning", "service": s["id"],
                        "since_ms": s["oldest_waiting_ms"] + int(s["target_wait_minutes"] * 60_000),
                        "message": f"{s['name']}: có công dân đã chờ {_waited(waited, False)} (mục tiêu "
                                   f"{s['target_wait_minutes']:g} phút), {s['waiting']} công dân đang chờ",
                        "message_en": f"{s['name_en'] or s['name']}: someone has waited {_waited(waited, True)} "
                                      f"(target {s['target_wait_minutes']:g} min), {s['waiting']} waiting"})
    for d in devices:
        if d.get("problem"):
            vi, en = DEVICE_KINDS.get(d["kind"], (d["kind"], d["kind"]))
            state_vi, state_en = DEVICE_STATES.get(d["state"], d["state"]), d["state"].replace("_", " ")
            words = device_words(d.get("detail") or "")
            detail_vi = f" ({words['vi']})" if words["vi"] and words["vi"] != state_vi else ""
            detail_en = f" ({words['en']})" if words["en"] and words["en"] != state_en else ""
            out.append({"id": f"device:{d['kind']}:{d['device_id']}", "kind": "device", "level": "error",
                        "device": d["device_id"], "device_kind": d["kind"], "since_ms": d.get("changed_ms"),
                        "message": f"{vi} {d['device_id']}: {state_vi}{detail_vi}",
                        "message_en": f"{en} {d['device_id']}: {state_en}{detail_en}"})
    return out


@dataclass
class AlertsUpdated:
    as_of: int
    alerts: list
    event = "alerts.updated"


def current_alerts(c) -> list[dict]:
    """The alerts without building the whole dashboard (the background check)."""
    store = c.store
    now, day = store.now_ms(), store.today()
    joined = queue_reads.oldest_waiting(store, day)
    waiting = store.waiting_counts(day)
    serving = open_counters_by_service(store.counters())
    services = []
    for d in c.config.departments:
        for s in d.services:
            first = joined.get(s.id)
            longest = round((now - first) / 1000) if first is not None and waiting.get(s.id) else None
            services.append({"id": s.id, "name": s.name, "name_en": s.name_en, "waiting": waiting.get(s.id, 0),
                             "target_wait_minutes": s.target_wait_minutes, "oldest_waiting_ms": first,
                             "longest_wait_s": longest, "open_counters": serving.get(s.id, []),
                             "over_target": longest is not None and longest > s.target_wait_minutes * 60})
    devices, _ = device_states(c)
    return alerts(services, devices, now)


def watch(c) -> None:
    """Background: push alerts.updated when the set of alerts changes; derive finished days for reports."""
    last: tuple | None = None
    checks = 0
    while True:
        c.socketio.sleep(ALERT_CHECK_SECONDS)
        try:
            now_alerts = current_alerts(c)
            keys = tuple(sorted(a["id"] for a in now_alerts))
            if keys != last:
                last = keys
                c.push.send_supervisors(AlertsUpdated(c.store.last_seq(), now_alerts))
            checks += 1
            if checks % WARM_EVERY_CHECKS == 0:
                reports.warm(c.store, max_days=3, pause=lambda: c.socketio.sleep(0))
        except Exception:  # noqa: BLE001 - the watcher must keep running
            log.exception("supervision watch failed")


def start(c) -> None:
    c.socketio.start_background_task(watch, c)
    c.socketio.start_background_task(forecasting.keep_refreshing, c)  # the forecast of today, every minute


@bp.get("/api/v1/forecast")
def forecast_json():
    """The latest forecast of today (made in the background, never by this request)."""
    need_supervisor()
    return jsonify(forecasting.of(ctx()).current())


@bp.get("/api/v1/supervisor/state")
def supervisor_state():
    need_supervisor()
    return jsonify(dashboard_state(ctx()))


# ------------------------------------------------------------------ reports
def _report_args() -> tuple[str, str, str]:
    a = request.args
    group_by = a.get("group_by", "service")
    try:
        if a.get("period"):
            return (*reports.period(a["period"], a.get("date") or ctx().store.today()), group_by)
        today = ctx().store.today()
        return a.get("from") or today, a.get("to") or a.get("from") or today, group_by
    except reports.ReportError as exc:
        raise DomainError("bad_request", detail=exc.message(lang())) from None
    except ValueError:
        raise DomainError("bad_request", detail=reports.ReportError(
            f"date must be YYYY-MM-DD, got {a.get('date')!r}", f"ngày phải viết YYYY-MM-DD, nhận được {a.get('date')!r}"
        ).message(lang())) from None


def _report() -> dict:
    need_supervisor()
    day_from, day_to, group_by = _report_args()
    c = ctx()
    try:
        return reports.build_report(c.store, day_from, day_to, group_by, staff_names=c.accounts.staff_name, lang=lang(),
                                    pause=lambda: c.socketio.sleep(0))  # other requests and pushes go on between days
    except reports.ReportError as exc:
        raise DomainError("bad_request", detail=exc.message(lang())) from None


@bp.get("/api/v1/reports")
def report_json():
    return jsonify(_report())


@bp.get("/api/v1/reports/satisfaction-766")
def satisfaction_766_export():
    """The satisfaction export for the province (Decision 766): `format` json (default) or xlsx."""
    need_supervisor()
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "xlsx"):
        raise DomainError("bad_request", detail="format must be json or xlsx")
    day_from, day_to, _ = _report_args()
    c = ctx()
    try:
        rep = satisfaction_766.build(c.store, day_from, day_to, staff_names=c.accounts.staff_name,
                                     usernames=c.accounts.staff_username, lang=lang(),
                                     pause=lambda: c.socketio.sleep(0))
    except reports.ReportError as exc:
        raise DomainError("bad_request", detail=exc.message(lang())) from None
    if fmt == "json":
        return jsonify(rep)
    data, mime, ending = satisfaction_766.export(rep, fmt)
    name = f"danh-gia-hai-long-766-{rep['from']}-{rep['to']}{ending}"
    return Response(data, mimetype=mime, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                  "Cache-Control": "no-store"})


@bp.get("/api/v1/reports/export")
def report_export():
    fmt = request.args.get("format", "csv")
    if fmt not in exports.FORMATS:
        raise DomainError("bad_request", detail="format must be " + ", ".join(exports.FORMATS))
    rep = _report()
    data, mime, ending = exports.export(rep, fmt, lang())
    name = f"bao-cao-{rep['group_by']}-{rep['from']}-{rep['to']}{ending}"
    return Response(data, mimetype=mime, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                  "Cache-Control": "no-store"})

