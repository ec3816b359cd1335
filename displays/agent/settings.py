"""What the LED agent needs to know of one board: the entry of devices.led_boards[] that the server sends
(GET /api/v1/led_boards). The server validated it against config.yaml; the agent keeps the plain values."""
from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class BoardSettings:
    id: str
    counter: str
    port: str
    unit_id: int = 1
    holding_register: int = 0
    baudrate: int = 9600
    encoding: str = "number"  # number | bcd | ascii
    registers: int = 1
    blank_value: int = 0xFFFF
    break_value: int = 0xFFFF
    timeout_seconds: float = 0.5
    retries: int = 2
    expect_reply: bool = True

    @classmethod
    def from_dict(cls, d: dict) -> "BoardSettings":
        """The board's settings from its JSON (keys the agent does not use, such as run_in, are left out)."""
        known = {f.name for f in fields(cls)}
        missing = {"id", "counter", "port"} - set(d)
        if missing:
            raise ValueError(f"LED board settings lack {', '.join(sorted(missing))}: {d!r}")
        return cls(**{k: v for k, v in d.items() if k in known})
