"""Remote walk-in numbers (docs/remote-numbers.md): a công dân already in the hall takes a walk-in number on
the phone, for services with `remote_walk_in: true`, after scanning the QR code a hall display shows. The
section says which displays show that code and how the numbers are limited."""
from __future__ import annotations

from pydantic import Field

from queue_server.config.base import ID_PATTERN, Model


class Remote(Model):
    displays: list[str] = Field(default_factory=list)  # hall displays that show the QR code; empty: none (the feature is off)
    page_minutes: int = Field(10, ge=1, le=60)  # after a scan, how long the phone page may take its number
    per_address: int = Field(6, ge=1, le=10_000)  # tries to take a number per client address in window_minutes
    window_minutes: int = Field(10, ge=1, le=1440)


def remote_problems(cfg) -> list[tuple[tuple, str]]:
    """Rules across keys: each display in remote.displays is a configured hall display with a token (it fetches
    its code with it) that shows at least one service with remote_walk_in."""
    import re

    problems: list[tuple[tuple, str]] = []
    displays = {d.id: d for d in cfg.devices.displays}
    seen: set[str] = set()
    for i, did in enumerate(cfg.remote.displays):
        loc = ("remote", "displays", i)
        disp = displays.get(did)
        if not re.match(ID_PATTERN, did) or disp is None:
            problems.append((loc, f"unknown display {did!r}"))
            continue
        if did in seen:
            problems.append((loc, f"display {did!r} is listed twice"))
        seen.add(did)
        if disp.kind != "hall":
            problems.append((loc, f"display {did!r} is a counter display; the QR code is shown on hall displays"))
        if not disp.token:
            problems.append((loc, f"display {did!r} has no token: it fetches its QR code with its device token"))
        depts = [d for d in cfg.departments if (not disp.departments or d.id in disp.departments)
                 and (not disp.zone or d.zone == disp.zone)]
        if not any(s.remote_walk_in for d in depts for s in d.services):
            problems.append((loc, f"display {did!r} shows no service with remote_walk_in: true"))
    return problems
