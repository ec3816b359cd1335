"""Display pages: the hall board (GET /display/<display_id>) and, for displays of kind "counter", the small
screen above one counter. Unknown ids get a 404 page listing the configured displays.

The pages are static HTML + JavaScript (displays/server/templates/displays/, displays/server/static/): they join the
Socket.IO room display:<id>, draw the snapshot, apply live events, and announce new calls through the
browser-side announcer (displays/server/static/announcer.js) from the clip pack served at /clips/<pack>/<name>.wav.

Query parameters a display page understands (all optional):
  ?voice=clips|browser|off   override voice.engine for this screen (browser: a vi-VN speechSynthesis voice
                             when the browser has one, else the clips); off: silent
  ?lang=vi|en                language of the server's messages (a refused connection); the board itself
                             shows Vietnamese first with small English labels
  ?token=<display token>     identify the screen with its device token from config.yaml
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, render_template, url_for

bp = Blueprint("display_pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/display-static")

STATIC = Path(__file__).parent / "static"


def asset(filename: str) -> str:
    try:
        v = int((STATIC / filename).stat().st_mtime)
    except OSError:
        v = 0
    return url_for("display_pages.static", filename=filename, v=v)


def vendor(filename: str) -> str:
    return url_for("static", filename=f"vendor/{filename}")


@bp.get("/display/<display_id>")
def display(display_id: str):
    cfg = current_app.extensions["qms"].config
    disp = next((d for d in cfg.devices.displays if d.id == display_id), None)
    if disp is None:
        return render_template("displays/missing.html", centre=cfg.centre, display_id=display_id,
                               displays=cfg.devices.displays), 404
    page = {"display": disp.id, "kind": disp.kind, "counter": disp.counter, "tz": cfg.centre.timezone,
            "voice_engine": cfg.voice.engine, "voice_enabled": disp.voice, "clips_base": "/clips"}
    name = "displays/counter.html" if disp.kind == "counter" else "displays/board.html"
    return render_template(name, centre=cfg.centre, disp=disp, page=page, asset=asset, vendor=vendor)
