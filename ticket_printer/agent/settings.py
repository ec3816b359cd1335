"""The dispenser's settings as the agent keeps them: plain values taken from config.yaml (its entry of
devices.dispensers, its kiosk's token, its agent's token, the server's address and devices.timeouts).

They come from a mapping: the file read as YAML (`python -m ticket_printer.agent.dispenser`, no server code
installed), or the dump of the configuration the server already validated (`qms dispenser`)."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from device_kit.settings import SettingsError, read_config_file  # noqa: F401 - SettingsError re-exported


@dataclass(frozen=True)
class DispenserSettings:
    id: str
    port: str
    kiosk: str
    buttons: dict[str, str]  # button -> service id
    name: str = ""
    baudrate: int = 9600
    protocol: str = "line"  # line | byte
    debounce_ms: int = 1000
    reply: bool = True
    agent: str | None = None

    @classmethod
    def from_dict(cls, d: dict) -> "DispenserSettings":
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in d.items() if k in known}
        values["buttons"] = {str(b): str(s) for b, s in (d.get("buttons") or {}).items()}
        return cls(**values)


@dataclass(frozen=True)
class DispenserRun:
    dispenser: DispenserSettings
    server: str
    kiosk_token: str
    agent_token: str | None
    timeouts: dict = field(default_factory=dict)


def read_config(path: str | Path) -> dict:
    return read_config_file(path)


def dispenser_run(config: dict, dispenser_id: str, server: str | None = None) -> DispenserRun:
    """What `dispenser_id` needs to run, from the whole configuration as a mapping."""
    devices = config.get("devices") or {}
    entries = [d for d in devices.get("dispensers") or [] if isinstance(d, dict)]
    entry = next((d for d in entries if d.get("id") == dispenser_id), None)
    if entry is None:
        known = ", ".join(str(d.get("id")) for d in entries) or "none"
        raise SettingsError(f"no dispenser {dispenser_id!r} in devices.dispensers (configured: {known})")
    missing = [k for k in ("port", "kiosk", "buttons") if not entry.get(k)]
    if missing:
        raise SettingsError(f"devices.dispensers {dispenser_id}: {', '.join(missing)} missing")
    settings = DispenserSettings.from_dict(entry)
    kiosk = next((k for k in devices.get("kiosks") or [] if k.get("id") == settings.kiosk), None)
    if kiosk is None or not kiosk.get("token"):
        raise SettingsError(f"dispenser {dispenser_id}: kiosk {settings.kiosk!r} is not configured with a token")
    agent_token = None
    if settings.agent:
        agent = next((a for a in devices.get("agents") or [] if a.get("id") == settings.agent), None)
        if agent is None or not agent.get("token"):
            raise SettingsError(f"dispenser {dispenser_id}: agent {settings.agent!r} is not configured with a token")
        agent_token = agent["token"]
    if server is None:
        srv = config.get("server") or {}
        host = srv.get("host", "127.0.0.1")
        host = host if host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        server = f"http://{host}:{srv.get('port', 5000)}"
    return DispenserRun(settings, server, kiosk["token"], agent_token, dict(devices.get("timeouts") or {}))
