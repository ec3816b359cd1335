"""Pages served to browsers. Each device family adds its own blueprint; this one holds the start page."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from queue_server.web.device_links import KIND_TITLES, device_links

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    ctx = current_app.extensions["qms"]
    cfg = ctx.config
    return render_template("index.html", centre=cfg.centre, links=device_links(cfg), titles=KIND_TITLES,
                           counters=cfg.counters, demo=cfg.centre.demo, booking=cfg.booking.enabled)
