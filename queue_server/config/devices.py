"""The devices of the centre: printers, kiosks, displays, LED boards, keypads, dispensers and the agents
that drive them from a PC beside them."""
from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from queue_server.config.base import ID_PATTERN, Model


class Printer(Model):
    id: str = Field(pattern=ID_PATTERN)
    backend: Literal["preview", "network", "usb", "serial", "cups", "file"] = "preview"
    host: str = ""
    port: int = Field(9100, ge=1, le=65535)
    device: str = ""
    usb_vendor: int | None = None
    usb_product: int | None = None
    baudrate: int = 19200
    cups_printer: str = ""
    timeout_seconds: float = Field(5, gt=0, le=60)
    profile: str = "default"
    # ticket_printer (docs/printing.md): where slips are printed and how failures are bounded
    via_agent: bool = False  # printed by a printer agent on the kiosk PC, not by the server
    output_dir: str = "prints"  # preview backend: PNG + raw bytes land here (relative: beside the database)
    status_query: bool = True  # ask the printer's status (DLE EOT) before and after a job (network/serial/usb)
    retries: int = Field(0, ge=0, le=3)  # extra attempts after a failed job, before reporting it failed
    agent_timeout_seconds: float = Field(20, ge=2, le=300)  # an agent's job not done by then is failed
    check_seconds: float = Field(30, ge=1, le=600)  # an idle printer's state is checked this often
    max_reprints: int = Field(3, ge=0, le=20)  # reprints allowed per ticket


class Kiosk(Model):
    id: str = Field(pattern=ID_PATTERN)
    name: str = ""
    name_en: str = ""
    setup_pin: str = Field("", pattern=r"^([0-9]{4,12})?$")  # staff PIN that opens the kiosk's setup screen
    token: str = Field(min_length=8)
    printer: str | None = None
    departments: list[str] = []  # empty: all
    idle_seconds: int = Field(20, ge=5, le=600)


class Display(Model):
    id: str = Field(pattern=ID_PATTERN)
    name: str = ""
    kind: Literal["hall", "counter"] = "hall"
    token: str = Field("", min_length=0)
    zone: str = ""
    departments: list[str] = []  # empty: all
    counter: str | None = None
    notice: str = ""
    last_calls: int = Field(8, ge=1, le=30)
    voice: bool = True
    show_extra: list[Literal["staff_name", "priority_group"]] = []  # what a public screen hides unless asked


class LedBoard(Model):
    id: str = Field(pattern=ID_PATTERN)
    counter: str
    port: str
    unit_id: int = Field(1, ge=1, le=247)
    holding_register: int = Field(0, ge=0, le=65535)
    baudrate: int = 9600
    run_in: Literal["agent", "server"] = "agent"  # who drives it: an LED agent (python -m displays.led) or the server
    agent: str = ""  # the agent id that drives it (run_in agent); empty: any agent of kind led or any
    encoding: Literal["number", "bcd", "ascii"] = "number"
    registers: int = Field(1, ge=1, le=16)  # consecutive holding registers from holding_register
    blank_value: int = Field(0xFFFF, ge=0, le=0xFFFF)  # number/bcd: no ticket, or the counter closed
    break_value: int = Field(0xFFFF, ge=0, le=0xFFFF)  # number/bcd: the counter on break
    timeout_seconds: float = Field(0.5, gt=0, le=10)  # wait for the board's answer
    retries: int = Field(2, ge=0, le=10)  # further tries of a write that got no (good) answer
    expect_reply: bool = True  # false for write-only boards that never answer

    @model_validator(mode="after")
    def _registers(self):
        if self.encoding in ("number", "bcd") and self.registers > 2:
            raise ValueError(f"encoding {self.encoding} uses 1 or 2 registers, got registers: {self.registers}")
        if self.holding_register + self.registers > 0x10000:
            raise ValueError("holding_register + registers runs past register 65535")
        return self


class KeypadFrame(Model):
    """Layout of an rs485-frame keypad's binary frame (positions count from 0, the start byte)."""

    start: int = Field(0xAA, ge=0, le=255)
    end: int | None = Field(0x55, ge=0, le=255)
    length: int = Field(5, ge=2, le=64)
    address_at: int = Field(1, ge=1, le=63)
    button_at: int = Field(2, ge=1, le=63)
    checksum: Literal["sum8", "xor8", "crc8", "crc16-modbus", "none"] = "sum8"
    checksum_at: int = Field(3, ge=1, le=63)
    checksum_from: int = Field(1, ge=0, le=63)
    checksum_to: int = Field(3, ge=1, le=64)

    @model_validator(mode="after")
    def _inside(self):
        size = {"crc16-modbus": 2, "none": 0}.get(self.checksum, 1)
        for name in ("address_at", "button_at"):
            if getattr(self, name) >= self.length:
                raise ValueError(f"{name} {getattr(self, name)} is outside a frame of length {self.length}")
        if size and (self.checksum_at + size > self.length or self.checksum_to > self.length
                     or self.checksum_from >= self.checksum_to):
            raise ValueError("checksum_at and checksum_from..checksum_to must lie inside the frame")
        used = [0, self.address_at, self.button_at, *range(self.checksum_at, self.checksum_at + size)]
        used += [self.length - 1] if self.end is not None else []
        if len(set(used)) != len(used):
            raise ValueError("start, address_at, button_at, checksum_at (and its bytes) and end must be at different positions")
        return self


KEYPAD_DECODERS = ("qms-line", "ascii-line", "rs485-frame", "keyboard")


class Keypad(Model):
    id: str = Field(pattern=ID_PATTERN)
    counter: str
    port: str
    decoder: str = "qms-line"  # one of KEYPAD_DECODERS, or package.module:Class of a plug-in decoder
    device_id: str = ""
    baudrate: int = 9600
    address: int | None = Field(None, ge=0, le=255)  # rs485-frame: the keypad's bus address
    pattern: str = r"^\s*(?P<device>K\d{1,3})\s*,\s*(?P<button>\d{1,2})\s*$"  # ascii-line
    frame: KeypadFrame = KeypadFrame()  # rs485-frame
    options: dict[str, Any] = {}  # extra options of a plug-in decoder
    ack: bool = True  # qms-line: acknowledge each stored press
    run_in: Literal["agent", "server"] = "agent"
    agent: str | None = None  # the agent that reads it (None: any keypad agent asking for all)
    debounce_ms: int = Field(300, ge=0, le=5000)
    silent_seconds: float = Field(0, ge=0, le=86400)  # > 0: report missing when nothing is heard this long

    @field_validator("decoder")
    @classmethod
    def _decoder(cls, v):
        if v not in KEYPAD_DECODERS and not re.match(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$", v):
            raise ValueError(f"decoder must be one of {', '.join(KEYPAD_DECODERS)} or package.module:Class")
        return v

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, v):
        try:
            rx = re.compile(v)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        if not set(rx.groupindex) & {"button", "level"}:
            raise ValueError("the pattern needs a (?P<button>...) or (?P<level>...) group")
        if set(rx.groupindex) - {"button", "level", "device"}:
            raise ValueError("pattern groups may only be device, button and level")
        return v

    def match_id(self) -> str:
        """What the keypad's messages name it by: its bus address (rs485-frame) or device_id ("" = any)."""
        return str(self.address) if self.address is not None else self.device_id


class Agent(Model):
    id: str = Field(pattern=ID_PATTERN)
    name: str = ""
    token: str = Field(min_length=8)
    kind: Literal["printer", "led", "keypad", "any"] = "any"


class Dispenser(Model):
    """A push-button ticket dispenser with no screen: a serial button box, one button per service."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = ""
    port: str
    baudrate: int = 9600
    kiosk: str  # issues as this kiosk: its token, its printer
    protocol: Literal["line", "byte"] = "line"
    buttons: dict[str, str] = Field(min_length=1)  # button -> service id
    debounce_ms: int = Field(1000, ge=0, le=10_000)
    reply: bool = True
    agent: str | None = None  # reports its state to the supervisors with this agent's token

    @field_validator("buttons", mode="before")
    @classmethod
    def _button_keys(cls, v):
        return {str(k): val for k, val in v.items()} if isinstance(v, dict) else v

    @field_validator("buttons")
    @classmethod
    def _button_names(cls, v):
        for k in v:
            if not re.fullmatch(r"[A-Za-z0-9]{1,8}", k):
                raise ValueError(f"button {k!r}: use 1-8 letters or digits")
        return v


class DevicesConfig(Model):
    printers: list[Printer] = []
    kiosks: list[Kiosk] = []
    displays: list[Display] = []
    led_boards: list[LedBoard] = []
    keypads: list[Keypad] = []
    agents: list[Agent] = []
    dispensers: list[Dispenser] = []
    timeouts: dict[str, float] = {}

    def agent_kind(self, agent_id: str) -> str:
        """The kind of agent `agent_id` (an agent with a stored token that config.yaml does not list: any)."""
        return next((a.kind for a in self.agents if a.id == agent_id), "any")

    def agent_devices(self, agent_id: str) -> frozenset[tuple[str, str]]:
        """The one rule of which devices an agent owns, as (kind, id): itself; the LED boards it drives (its
        own, or those naming no agent if it is an led or any agent); the keypads it reads (likewise, keypad or
        any); every printer if it is a printer or any agent (printers name no agent); the dispensers naming it.
        It may report only these devices' states, and join only their counters' rooms (`agent_counters`)."""
        kind = self.agent_kind(agent_id)
        out = {("agent", agent_id)}
        out |= {("led_board", b.id) for b in self.led_boards if b.run_in == "agent"
                and (b.agent == agent_id or (b.agent == "" and kind in ("led", "any")))}
        out |= {("keypad", k.id) for k in self.keypads if k.run_in == "agent" and k.port != "page"
                and (k.agent == agent_id or (k.agent is None and kind in ("keypad", "any")))}
        if kind in ("printer", "any"):
            out |= {("printer", p.id) for p in self.printers}
        out |= {("dispenser", d.id) for d in self.dispensers if d.agent == agent_id}
        return frozenset(out)

    def agent_counters(self, agent_id: str) -> frozenset[str]:
        """The counters of the LED boards and keypads an agent owns: the `counter:<id>` rooms it may join."""
        owned = self.agent_devices(agent_id)
        return frozenset([b.counter for b in self.led_boards if ("led_board", b.id) in owned]
                         + [k.counter for k in self.keypads if ("keypad", k.id) in owned])
