"""The keypad agent's settings read from a local config.yaml (`--config`), without the server: the same
answer the server gives to GET /api/v1/keypads (the keypads with run_in: agent, the rating buttons and levels,
the reconnect cap), taken as plain values from the file. The server checks the whole file (`qms check-config`);
the agent checks what it uses and names what is wrong."""
from __future__ import annotations

from pathlib import Path

from device_kit.settings import SettingsError, read_config_file  # noqa: F401 - SettingsError re-exported


def keypads_from_file(path: str | Path) -> dict:
    raw = read_config_file(path)
    devices = raw.get("devices") or {}
    rating = raw.get("rating") or {}
    keypads = []
    for i, k in enumerate(devices.get("keypads") or []):
        if not isinstance(k, dict) or any(not k.get(key) for key in ("id", "counter", "port")):
            raise SettingsError(f"{path}: devices.keypads[{i}] needs id, counter and port")
        if k.get("run_in", "agent") == "agent":
            keypads.append(k)
    try:
        levels = [int(lv["value"]) for lv in rating.get("levels") or []]
        buttons = {str(b): int(v) for b, v in (rating.get("buttons") or {}).items()}
        reconnect_max = float((devices.get("timeouts") or {}).get("serial_reconnect_max_seconds", 30))
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise SettingsError(f"{path}: rating.levels[].value, rating.buttons and devices.timeouts must be numbers "
                            f"({exc})") from None
    if len(levels) < 2:
        raise SettingsError(f"{path}: rating.levels needs at least 2 levels")
    return {"keypads": keypads, "rating": {"buttons": buttons, "levels": levels},
            "timeouts": {"serial_reconnect_max_seconds": reconnect_max}, "agent": None}
