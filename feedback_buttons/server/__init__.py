"""The rating devices' server part: the rating recorder (the core's attribution rule, through the store), the
keypads' REST routes, the rating tablet's page, and (for keypads with `run_in: server`) the reader run inside
the server.

Plugged into the server by `init_app(app, ctx)` (the contract in docs/architecture.md); the keypad agent
(`feedback_buttons/agent/`) never imports this package.
"""
from __future__ import annotations


def init_app(app, ctx):
    """Register the recorder and the routes; return what starts the in-server keypad reader."""
    from feedback_buttons.server.routes import init_app as init_routes, start_keypads

    init_routes(app, ctx)
    return lambda: start_keypads(app, ctx)
