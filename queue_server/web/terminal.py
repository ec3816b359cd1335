"""The counter terminal page (GET /counter): sign in, pick one of your counters, then call and serve.

The page itself is static HTML + JavaScript (templates/terminal.html, static/terminal.js, static/terminal.css).
It signs in with POST /api/v1/login, joins the Socket.IO room counter:<id> with the staff token, and sends
every press as the socket event `action` with an acknowledgement (see docs/api.md).
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, render_template, url_for

bp = Blueprint("terminal", __name__)

STATIC = Path(__file__).parent / "static"


def asset(filename: str) -> str:
    """URL of an app static file with its modification time, so a browser never keeps an old copy."""
    try:
        v = int((STATIC / filename).stat().st_mtime)
    except OSError:
        v = 0
    return url_for("static", filename=filename, v=v)


@bp.get("/counter")
def counter_terminal():
    cfg = current_app.extensions["qms"].config
    page = {"centre": cfg.centre.name, "centre_en": cfg.centre.name_en, "tz": cfg.centre.timezone,
            "chime": cfg.terminal.chime, "confirm_next": cfg.terminal.confirm_next,
            "next_with_open_ticket": cfg.queue.next_with_open_ticket}
    return render_template("terminal.html", centre=cfg.centre, page=page, asset=asset)
