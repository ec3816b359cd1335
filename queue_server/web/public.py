"""Public open data (queue_server/open_data.py): the portal's feed and the citizens' "when is it quiet" page.

  GET /api/v1/open/today        per department today: issued, served, waiting now, waits, satisfaction (30 s cache)
  GET /api/v1/open/best-time    per department, the usual wait by weekday and hour over 8 weeks (10 min cache)
  GET /thoi-gian-cho            that, as a page for a phone (linked from the ticket status page)
"""
from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify, render_template

from queue_server import open_data
from queue_server.web.toolkit import ctx, lang

bp = Blueprint("public", __name__)
TODAY_SECONDS = 30
BEST_TIME_SECONDS = 600
WEEKDAYS = {"vi": ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật"],
            "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]}


def _cached(name: str, seconds: int, build):
    """One answer per process for `seconds` (the figures of groups change slowly; a portal may poll often)."""
    c = ctx()
    cache = current_app.extensions.setdefault("qms_open_data", {})
    hit = cache.get(name)
    if hit is not None and time.monotonic() - hit[0] < seconds and hit[2] is c.config:  # a reload: a new config
        return hit[1]
    value = build(c)
    cache[name] = (time.monotonic(), value, c.config)
    return value


def _today(c):
    return open_data.today(c.store, c.read, pause=lambda: c.socketio.sleep(0))


def _best_time(c):
    return open_data.best_time(c.store, pause=lambda: c.socketio.sleep(0))


@bp.get("/api/v1/open/today")
def open_today():
    resp = jsonify(_cached("today", TODAY_SECONDS, _today))
    resp.headers["Cache-Control"] = f"public, max-age={TODAY_SECONDS}"
    resp.headers["Access-Control-Allow-Origin"] = "*"  # the province's portal reads it from its own site
    return resp


@bp.get("/api/v1/open/best-time")
def open_best_time():
    resp = jsonify(_cached("best_time", BEST_TIME_SECONDS, _best_time))
    resp.headers["Cache-Control"] = f"public, max-age={BEST_TIME_SECONDS}"
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


def _level(minutes) -> str:
    if minutes is None:
        return "none"
    return "low" if minutes < 10 else "mid" if minutes < 30 else "high"


@bp.get("/thoi-gian-cho")
def best_time_page():
    data = _cached("best_time", BEST_TIME_SECONDS, _best_time)
    now = _cached("today", TODAY_SECONDS, _today)
    wait_now = {d["id"]: d["wait_now_minutes"] for d in now["departments"]}
    en = lang() == "en"
    return render_template("best_time.html", data=data, wait_now=wait_now, en=en, centre=ctx().config.centre,
                           weekdays=WEEKDAYS["en" if en else "vi"], level=_level)
