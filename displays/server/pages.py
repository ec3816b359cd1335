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
  ?token=<display token>     identify the screen with its device token from config.yaml: given once (e.g. in
                             the TV browser's start URL), the page keeps it in localStorage and takes it out of
                             the address bar; the server never writes it into the page

Every display page (and its 404) is sent with `Referrer-Policy: no-referrer`, so an address that still carries a
token is never passed on to another site.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, current_app, make_response, render_template, request, url_for

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


def start_url() -> str:
    """This page's address without its token: what the page shows as the TV browser's start command."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
    return request.base_url + ("?" + urlencode(args) if args else "")


def device_page(html: str, status: int = 200):
    """A device page's response: its address may carry a device token, so no Referer ever names it."""
    resp = make_response(html, status)
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp


@bp.get("/display/<display_id>")
def display(display_id: str):
    cfg = current_app.extensions["qms"].config
    disp = next((d for d in cfg.devices.displays if d.id == display_id), None)
    if disp is None:
        return device_page(render_template("displays/missing.html", centre=cfg.centre, display_id=display_id,
                                           displays=cfg.devices.displays), 404)
    page = {"display": disp.id, "kind": disp.kind, "counter": disp.counter, "tz": cfg.centre.timezone,
            "voice_engine": cfg.voice.engine, "voice_enabled": disp.voice, "clips_base": "/clips"}
    name = "displays/counter.html" if disp.kind == "counter" else "displays/board.html"
    remote_qr = disp.kind == "hall" and disp.id in cfg.remote.displays  # remote walk-in numbers' QR code box
    return device_page(render_template(name, centre=cfg.centre, disp=disp, page=page, asset=asset, vendor=vendor,
                                       start_url=start_url(), remote_qr=remote_qr))
