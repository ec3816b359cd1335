"""The device packages' server parts, plugged in by one contract.

A part is a package `<name>.server` with `init_app(app, ctx)`: it registers its blueprints, Socket.IO events,
room kinds and hooks on the app and the context, and returns what starts its background work (a callable, or
None when it has none). The app factory calls `plug_in` for the parts named in `server.device_parts` and runs
their starts only when background tasks run. Nothing in web or push imports a device package by name.
"""
from __future__ import annotations

import importlib
from typing import Callable

Start = Callable[[], object]


def plug_in(app, ctx, names: list[str]) -> list[Start]:
    """Call each part's init_app in the configured order; return the starts they handed back."""
    starts: list[Start] = []
    for name in names:
        part = importlib.import_module(f"{name}.server")
        start = part.init_app(app, ctx)
        if start is not None:
            starts.append(start)
    return starts
