"""The displays' server part: the hall and counter display pages, the voice clip packs they play, and the
LED boards' routes (and, for boards with `run_in: server`, the driver run inside the server).

Plugged into the server by `init_app(app, ctx)` (the contract in docs/architecture.md); the LED agent
(`displays/agent/`) never imports this package.
"""
from __future__ import annotations


def init_app(app, ctx):
    """Register the display pages, clip packs and LED routes; return what starts the in-server LED driver."""
    from displays.server.clips_web import bp as clips_bp
    from displays.server.led_server import bp as led_bp, start_in_server
    from displays.server.pages import bp as pages_bp

    for bp in (clips_bp, led_bp, pages_bp):
        app.register_blueprint(bp)
    return lambda: start_in_server(ctx)
