"""Device states for the supervisors: kiosks, printers, displays, LED boards, keypads, agents.

Adapters and agents report what they see (`report`), an agent only for the devices it owns (`may_report`); a
socket that connects with a display's or kiosk's own token counts as that device being online. A state change is written to the event log (`device.state`) and pushed to the
supervisors as `device.updated`; a heartbeat only refreshes last seen. A device not heard from within
devices.timeouts.missing_seconds (default 120) shows as missing.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from queue_server.core.errors import DomainError
from queue_server.store import devices as device_rows

KINDS = ("kiosk", "printer", "display", "led_board", "keypad", "agent", "dispenser")
STATE_PATTERN = re.compile(r"^[a-z][a-z_]{1,23}$")
PROBLEM_STATES = frozenset({"error", "missing", "offline", "disconnected", "failed", "paper_out", "timeout"})
DEFAULT_MISSING_SECONDS = 120


@dataclass
class DeviceUpdated:
    kind: str
    device_id: str
    state: str
    detail: str
    last_seen_ms: int
    changed_ms: int
    problem: bool
    seq: int | None = None
    event = "device.updated"


class DeviceStates:
    """The state of every device, as reported and as configured (config.devices lists them; `Devices` in
    config.py is that list, this is what they last said)."""

    def __init__(self, store, push):
        self.store = store
        self.push = push

    @property
    def config(self):
        return self.store.config

    def configured(self) -> list[tuple[str, str, str]]:
        """(kind, id, name) of every device config.yaml lists."""
        d = self.config.devices
        out = [("kiosk", k.id, k.name) for k in d.kiosks]
        out += [("printer", p.id, p.id) for p in d.printers]
        out += [("display", x.id, x.name) for x in d.displays]
        out += [("led_board", x.id, f"counter {x.counter}") for x in d.led_boards]
        out += [("keypad", x.id, f"counter {x.counter}") for x in d.keypads]
        out += [("agent", x.id, x.name) for x in d.agents]
        out += [("dispenser", x.id, x.name or x.port) for x in d.dispensers if x.agent]  # those that report
        return out

    def may_report(self, p, kind: str, device_id: str) -> None:
        """Who may report which device: a supervisor any configured device; an agent only the devices it owns
        (`DevicesConfig.agent_devices`); a kiosk or display only itself. An unknown device is refused (404)."""
        if kind not in KINDS:
            raise DomainError("bad_request", detail=f"device kind must be one of {', '.join(KINDS)}")
        mine = p.kind == "device" and p.device_kind == kind and p.device_id == device_id
        if not mine and (kind, device_id) not in {(k, i) for k, i, _ in self.configured()}:
            raise DomainError("device_unknown", kind=kind, device=device_id)
        if p.kind != "device" or mine:
            return
        if p.device_kind != "agent":
            raise DomainError("forbidden", reason="a device reports only its own state")
        if (kind, device_id) not in self.config.devices.agent_devices(p.device_id):
            raise DomainError("forbidden", reason=f"{kind} {device_id} is not a device of agent {p.device_id}")

    def missing_after_ms(self) -> int:
        return int(self.config.devices.timeouts.get("missing_seconds", DEFAULT_MISSING_SECONDS) * 1000)

    def report(self, kind: str, device_id: str, state: str, detail: str = "", *, actor: str | None = None) -> dict:
        """Record what a device or its adapter reports. Returns the device's row."""
        if kind not in KINDS:
            raise DomainError("bad_request", detail=f"device kind must be one of {', '.join(KINDS)}")
        if not isinstance(state, str) or not STATE_PATTERN.match(state):
            raise DomainError("bad_request", detail="state must be a short lowercase word such as online, error, missing")
        if not isinstance(device_id, str) or not device_id or len(device_id) > 60:
            raise DomainError("bad_request", detail="device id must be text of at most 60 characters")
        detail = str(detail or "")[:300]
        w = device_rows.report(self.store, kind, device_id, state, detail, actor=actor)
        payload = DeviceUpdated(kind, device_id, state, detail, w.last_seen_ms, w.changed_ms, state in PROBLEM_STATES,
                                w.seq)
        if w.changed:
            self.push.send_device(payload)
        return asdict(payload)

    def states(self) -> list[dict]:
        """Every configured or reporting device with its state; silent ones past the limit are missing."""
        now = self.store.now_ms()
        limit = self.missing_after_ms()
        rows: dict = device_rows.all_states(self.store)
        out = []
        names = {}
        for kind, dev_id, name in self.configured():
            names[(kind, dev_id)] = name
            rows.setdefault((kind, dev_id), None)
        for (kind, dev_id), row in sorted(rows.items()):
            if row is None:
                state, detail, seen, changed = "unknown", "never reported", None, None
            else:
                state, detail, seen, changed = row["state"], row["detail"], row["last_seen_ms"], row["changed_ms"]
                if state not in PROBLEM_STATES and now - seen > limit:
                    state, detail = "missing", f"not heard from for {round((now - seen) / 1000)} s"
            out.append({"kind": kind, "device_id": dev_id, "name": names.get((kind, dev_id), dev_id), "state": state,
                        "detail": detail, "last_seen_ms": seen, "changed_ms": changed,
                        "problem": state in PROBLEM_STATES, "configured": (kind, dev_id) in names})
        bus = getattr(self.push, "bus", None)
        if bus is not None:  # the link to the other server processes, as this process sees it
            h = bus.health()
            state = {"up": "online", "down": "offline"}.get(h["state"], "unknown")
            out.append({"kind": "message_queue", "device_id": "redis", "name": "Redis", "state": state,
                        "detail": h["last_error"] if state != "online" else f"{h['queued']} queued",
                        "last_seen_ms": None, "changed_ms": h["since_ms"], "problem": state == "offline",
                        "configured": True})
        return out

    def sweep(self, connected: set[tuple[str, str]] = frozenset()) -> list[dict]:
        """Mark devices silent for too long as missing (those with a live socket here are not silent)."""
        now = self.store.now_ms()
        limit = self.missing_after_ms()
        stale = [(kind, dev_id, r["last_seen_ms"]) for (kind, dev_id), r in device_rows.all_states(self.store).items()
                 if r["state"] not in PROBLEM_STATES and now - r["last_seen_ms"] > limit
                 and (kind, dev_id) not in connected]
        out = []
        for kind, dev_id, seen in stale:
            seq = device_rows.mark_missing(self.store, kind, dev_id, f"not heard from since {seen}", now)
            payload = DeviceUpdated(kind, dev_id, "missing", "not heard from", seen, now, True, seq)
            self.push.send_device(payload)
            out.append(asdict(payload))
        return out

    def last_state(self, kind: str, device_id: str) -> dict | None:
        """What a device last reported (its row), or None if it never did."""
        return device_rows.state_of(self.store, kind, device_id)
