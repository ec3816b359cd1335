"""The centre's configuration: config.yaml, validated by pydantic.

Every problem is reported once, with its key path and (where the YAML gives it) its line, and nothing
starts on a bad file. Cross-field rules (overlapping number ranges, a counter naming an unknown service,
duplicate ids) are checked here too, so the engine can trust what it is given.
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import date, time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ConfigError(Exception):
    """A config file that cannot be used; `problems` is a list of (key path, line or None, message)."""

    def __init__(self, source: str, problems: list[tuple[str, int | None, str]]):
        self.source = source
        self.problems = problems
        lines = []
        for path, line, msg in problems:
            where = f"{source}:{line}: " if line else f"{source}: "
            lines.append(f"{where}{path or '(top level)'}: {msg}")
        super().__init__("\n".join(lines))


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Window(Model):
    """An issuing window, local time, e.g. 07:30-11:15."""

    start: time
    end: time

    @field_validator("start", "end", mode="before")
    @classmethod
    def _text_time(cls, v):
        if isinstance(v, (int, float)):
            raise ValueError('write the time as text, e.g. "07:30"')
        return v

    @model_validator(mode="after")
    def _order(self):
        if self.end <= self.start:
            raise ValueError(f"end {self.end:%H:%M} must be after start {self.start:%H:%M}")
        return self


class Hours(Model):
    weekdays: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = ["mon", "tue", "wed", "thu", "fri"]
    windows: list[Window] = Field(default_factory=lambda: [Window(start=time(7, 30), end=time(11, 15)),
                                                          Window(start=time(13, 15), end=time(16, 30))])
    holidays: list[date] = []
    close_day_at: time = time(17, 30)

    @field_validator("close_day_at", mode="before")
    @classmethod
    def _text_time(cls, v):
        if isinstance(v, (int, float)):
            raise ValueError('write the time as text, e.g. "17:30"')
        return v


class Numbering(Model):
    """A number range. Without a prefix numbers show as plain digits (1001); with one, as A001."""

    prefix: str = Field("", pattern=r"^[A-Z]{0,3}$")
    start: int = Field(ge=0, le=999_999)
    end: int = Field(ge=0, le=999_999)
    width: int = Field(0, ge=0, le=6)

    @model_validator(mode="after")
    def _order(self):
        if self.end < self.start:
            raise ValueError(f"end {self.end} must not be below start {self.start}")
        return self

    def code(self, number: int) -> str:
        return f"{self.prefix}{number:0{self.width}d}"


class Service(Model):
    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    name_en: str = ""
    numbering: Numbering | None = None
    daily_cap: int | None = Field(None, ge=1)
    windows: list[Window] | None = None
    avg_service_minutes: float = Field(10, gt=0, le=480)
    target_wait_minutes: float = Field(30, gt=0, le=1440)
    announce_en: bool = False


class Department(Model):
    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    name_en: str = ""
    short_name: str = ""
    zone: str = ""
    numbering: Numbering | None = None
    services: list[Service] = Field(min_length=1)


class Counter(Model):
    id: str = Field(pattern=ID_PATTERN)
    name: str = ""
    number: int = Field(ge=1, le=9999)
    department: str
    zone: str = ""
    services: list[str] = Field(min_length=1)
    policy: Literal["fifo", "order", "weighted"] = "fifo"
    weights: dict[str, float] = {}

    @field_validator("weights")
    @classmethod
    def _positive(cls, v):
        for k, w in v.items():
            if w <= 0:
                raise ValueError(f"weight of {k} must be positive")
        return v


class PriorityGroup(Model):
    id: str = Field(pattern=ID_PATTERN)
    name: str
    name_en: str = ""


class Priority(Model):
    groups: list[PriorityGroup] = []
    max_consecutive: int = Field(3, ge=1, le=100)
    kiosk_self_service: bool = False


class RatingLevel(Model):
    value: int = Field(ge=1, le=10)
    label: str
    label_en: str = ""
    positive: bool = False


class RatingFlags(Model):
    """Thresholds of the suspicious patterns shown to supervisors (feedback_buttons/ratings.py)."""

    near_finish_seconds: float = Field(1, ge=0, le=30)
    near_finish_share: float = Field(0.8, gt=0, le=1)
    min_ratings: int = Field(5, ge=1, le=1000)
    presses_per_ticket: int = Field(3, ge=2, le=100)
    max_presses_recorded: int = Field(10, ge=2, le=1000)
    silent_keypad_tickets: int = Field(10, ge=1, le=1000)


class Rating(Model):
    scale: Literal["3-level", "5-level", "stars"] = "3-level"
    levels: list[RatingLevel] = Field(min_length=2)
    buttons: dict[str, int] = {}
    window_seconds: int = Field(60, ge=5, le=3600)
    low_reasons: list[str] = []
    tablet_idle_seconds: int = Field(30, ge=1, le=600)  # the rating page goes back to idle after this
    tablet_token_required: bool = False  # true: the rating page needs a device token (?token=)
    flags: RatingFlags = RatingFlags()

    @field_validator("buttons", mode="before")
    @classmethod
    def _button_keys(cls, v):
        return {str(k): val for k, val in v.items()} if isinstance(v, dict) else v

    @model_validator(mode="after")
    def _buttons(self):
        expected = {"3-level": 3, "5-level": 5}.get(self.scale)
        if expected is not None and len(self.levels) != expected:
            raise ValueError(f"scale {self.scale} needs {expected} levels, got {len(self.levels)}")
        values = {lv.value for lv in self.levels}
        if len(values) != len(self.levels):
            raise ValueError("level values must be distinct")
        for button, value in self.buttons.items():
            if value not in values:
                raise ValueError(f"button {button} maps to level {value}, which is not a level of the scale")
        return self


class Queue(Model):
    next_with_open_ticket: Literal["finish", "refuse"] = "finish"
    on_range_exhausted: Literal["refuse", "wrap"] = "refuse"
    always_open: bool = False  # demo only: services open at any hour and any day
    repeat_press_seconds: float = Field(2, ge=0, le=30)  # a second "next" this soon is the same press


class Voice(Model):
    template: str = "Xin mời công dân có số thứ tự {number} đến quầy số {counter}"
    template_en: str = "Ticket number {number}, please come to counter {counter}"
    repeat: int = Field(2, ge=1, le=5)
    number_reading: Literal["digits", "words"] = "digits"
    thousand_word: Literal["nghìn", "ngàn"] = "nghìn"
    zero_tens_word: Literal["linh", "lẻ"] = "linh"
    four_word: Literal["tư", "bốn"] = "tư"  # the 4 after "mươi": 24 "hai mươi tư" (north) / "hai mươi bốn" (south)
    engine: Literal["clips", "browser"] = "clips"
    clip_pack: str = "default"

    @field_validator("template", "template_en")
    @classmethod
    def _placeholders(cls, v):
        unknown = set(re.findall(r"{(\w*)}", v)) - {"number", "counter"}
        if unknown:
            raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; use {{number}} and {{counter}}")
        return v


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


class Devices(Model):
    printers: list[Printer] = []
    kiosks: list[Kiosk] = []
    displays: list[Display] = []
    led_boards: list[LedBoard] = []
    keypads: list[Keypad] = []
    agents: list[Agent] = []
    dispensers: list[Dispenser] = []
    timeouts: dict[str, float] = {}


class StaffAccount(Model):
    username: str = Field(pattern=r"^[a-z0-9_.-]{2,40}$")
    password: str = Field(min_length=6)
    full_name: str = ""
    role: Literal["admin", "supervisor", "staff"] = "staff"
    counters: list[str] = []


class Server(Model):
    host: str = "127.0.0.1"
    port: int = Field(5000, ge=1, le=65535)
    db_path: str = "var/qms.sqlite3"
    async_mode: Literal["eventlet", "gevent"] = "eventlet"
    max_connections: int = Field(10_000, ge=100, le=100_000)
    message_queue: str | None = None
    coalesce_ms: int = Field(500, ge=50, le=5000)
    secret_key: str = Field(min_length=16)
    token_hours: float = Field(12, gt=0, le=24 * 30)


class Centre(Model):
    name: str
    name_en: str = ""
    address: str = ""
    timezone: str = "Asia/Ho_Chi_Minh"
    public_url: str = "http://127.0.0.1:5000"
    slip_footer: str = "Vui lòng giữ phiếu và chờ gọi số. Xin cảm ơn!"
    slip_footer_en: str = "Please keep this ticket and wait for your number. Thank you!"
    demo: bool = False

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v):
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v


class Catalogue(Model):
    """The procedure catalogue searched at the kiosk (ticket_printer/catalogue.py)."""

    file: str = ""  # CSV or YAML; empty: none (import one with `qms import-procedures FILE`)
    import_when_empty: bool = True


class CentreConfig(Model):
    centre: Centre
    server: Server
    hours: Hours = Hours()
    queue: Queue = Queue()
    priority: Priority = Priority()
    rating: Rating
    voice: Voice = Voice()
    departments: list[Department] = Field(min_length=1)
    counters: list[Counter] = Field(min_length=1)
    devices: Devices = Devices()
    staff: list[StaffAccount] = []
    catalogue: Catalogue = Catalogue()

    # ---- derived lookups (not config keys) ----
    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.centre.timezone)

    def services(self) -> dict[str, tuple[Department, Service]]:
        return {s.id: (d, s) for d in self.departments for s in d.services}

    def service(self, service_id: str) -> Service:
        return self.services()[service_id][1]

    def department_of(self, service_id: str) -> Department:
        return self.services()[service_id][0]

    def numbering_of(self, service_id: str) -> tuple[str, Numbering]:
        """(sequence key, range) a service draws its numbers from: its own, or its department's."""
        dept, svc = self.services()[service_id]
        if svc.numbering is not None:
            return f"service:{svc.id}", svc.numbering
        return f"department:{dept.id}", dept.numbering  # type: ignore[return-value]

    def counter(self, counter_id: str) -> Counter:
        for c in self.counters:
            if c.id == counter_id:
                return c
        raise KeyError(counter_id)

    def config_hash(self) -> str:
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _cross_check(cfg: CentreConfig) -> list[tuple[tuple, str]]:
    """Rules that span several keys. Returns (loc, message) pairs."""
    problems: list[tuple[tuple, str]] = []

    def dupes(items, loc_prefix, what):
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            key = item if isinstance(item, str) else item.id
            if key in seen:
                problems.append(((*loc_prefix, i, "id"), f"duplicate {what} id {key!r} (also at index {seen[key]})"))
            seen.setdefault(key, i)

    dupes(cfg.departments, ("departments",), "department")
    all_services = [(di, si, s) for di, d in enumerate(cfg.departments) for si, s in enumerate(d.services)]
    seen_svc: dict[str, tuple] = {}
    for di, si, s in all_services:
        if s.id in seen_svc:
            problems.append((("departments", di, "services", si, "id"), f"duplicate service id {s.id!r}"))
        seen_svc.setdefault(s.id, (di, si))
    dupes(cfg.counters, ("counters",), "counter")
    dupes(cfg.priority.groups, ("priority", "groups"), "priority group")

    # Every service needs a range, its own or its department's; ranges must not overlap.
    ranges: list[tuple[tuple, str, Numbering]] = []
    for di, d in enumerate(cfg.departments):
        if d.numbering is not None:
            ranges.append((("departments", di, "numbering"), f"department {d.id}", d.numbering))
        for si, s in enumerate(d.services):
            if s.numbering is not None:
                ranges.append((("departments", di, "services", si, "numbering"), f"service {s.id}", s.numbering))
            elif d.numbering is None:
                problems.append((("departments", di, "services", si),
                                 f"service {s.id!r} has no numbering and neither has its department {d.id!r}"))
    for a in range(len(ranges)):
        for b in range(a + 1, len(ranges)):
            (la, na, ra), (lb, nb, rb) = ranges[a], ranges[b]
            if ra.prefix == rb.prefix and ra.start <= rb.end and rb.start <= ra.end:
                shown = f"{ra.prefix}{max(ra.start, rb.start)}-{ra.prefix}{min(ra.end, rb.end)}"
                problems.append((lb, f"number range of {nb} overlaps {na} ({shown})"))

    services = cfg.services()
    dept_ids = {d.id for d in cfg.departments}
    counter_ids = {c.id for c in cfg.counters}
    numbers: dict[int, str] = {}
    for ci, c in enumerate(cfg.counters):
        if c.department not in dept_ids:
            problems.append((("counters", ci, "department"), f"unknown department {c.department!r}"))
        for k, sid in enumerate(c.services):
            if sid not in services:
                problems.append((("counters", ci, "services", k), f"counter {c.id!r} names unknown service {sid!r}"))
        if len(set(c.services)) != len(c.services):
            problems.append((("counters", ci, "services"), "a service is listed twice"))
        for sid in c.weights:
            if sid not in c.services:
                problems.append((("counters", ci, "weights", sid), f"weight for {sid!r}, which this counter does not serve"))
        if c.number in numbers:
            problems.append((("counters", ci, "number"), f"counter number {c.number} is also used by counter {numbers[c.number]!r}"))
        numbers.setdefault(c.number, c.id)

    dev = cfg.devices
    printer_ids = {p.id for p in dev.printers}
    for name, items in (("printers", dev.printers), ("kiosks", dev.kiosks), ("displays", dev.displays),
                        ("led_boards", dev.led_boards), ("keypads", dev.keypads), ("agents", dev.agents)):
        dupes(items, ("devices", name), name[:-1].replace("_", " "))
    for i, k in enumerate(dev.kiosks):
        if k.printer is not None and k.printer not in printer_ids:
            problems.append((("devices", "kiosks", i, "printer"), f"unknown printer {k.printer!r}"))
        for j, d in enumerate(k.departments):
            if d not in dept_ids:
                problems.append((("devices", "kiosks", i, "departments", j), f"unknown department {d!r}"))
    for i, disp in enumerate(dev.displays):
        for j, d in enumerate(disp.departments):
            if d not in dept_ids:
                problems.append((("devices", "displays", i, "departments", j), f"unknown department {d!r}"))
        if disp.kind == "counter" and disp.counter not in counter_ids:
            problems.append((("devices", "displays", i, "counter"), f"counter display needs a known counter, got {disp.counter!r}"))
    zones = {d.zone for d in cfg.departments if d.zone}
    for i, disp in enumerate(dev.displays):
        if disp.zone and disp.zone not in zones:
            problems.append((("devices", "displays", i, "zone"), f"no department is in zone {disp.zone!r} (zones: {sorted(zones)})"))
    for ci, c in enumerate(cfg.counters):
        if c.zone and c.zone not in zones:
            problems.append((("counters", ci, "zone"), f"no department is in zone {c.zone!r} (zones: {sorted(zones)})"))
    buses: dict[str, tuple[int, object]] = {}
    places: dict[tuple, int] = {}
    agent_kinds = {a.id: a.kind for a in dev.agents}
    for i, b in enumerate(dev.led_boards):  # boards on one port share one RS485 bus, driven by one process
        first = buses.setdefault(b.port, (i, b))[1]
        if first is not b:
            for key in ("baudrate", "run_in", "agent"):
                if getattr(b, key) != getattr(first, key):
                    problems.append((("devices", "led_boards", i, key), f"boards on port {b.port!r} share one bus: "
                                     f"{key} must equal that of {first.id!r} ({getattr(first, key)!r})"))
        place = (b.port, b.unit_id, b.holding_register)
        if place in places:
            problems.append((("devices", "led_boards", i, "unit_id"), f"unit {b.unit_id} register {b.holding_register} "
                             f"on {b.port!r} is already used by board {dev.led_boards[places[place]].id!r}"))
        places.setdefault(place, i)
        if b.agent and agent_kinds.get(b.agent) not in ("led", "any"):
            problems.append((("devices", "led_boards", i, "agent"), f"no agent {b.agent!r} of kind led or any"))
    for name, items in (("led_boards", dev.led_boards), ("keypads", dev.keypads)):
        for i, item in enumerate(items):
            if item.counter not in counter_ids:
                problems.append((("devices", name, i, "counter"), f"unknown counter {item.counter!r}"))
    problems.extend(_keypad_problems(dev))
    tokens: dict[str, str] = {}
    for name, items in (("kiosks", dev.kiosks), ("displays", dev.displays), ("agents", dev.agents)):
        for i, item in enumerate(items):
            if item.token:
                if item.token in tokens:
                    problems.append((("devices", name, i, "token"), f"token already used by {tokens[item.token]}"))
                tokens.setdefault(item.token, f"{name[:-1]} {item.id}")

    dupes(dev.dispensers, ("devices", "dispensers"), "dispenser")
    kiosk_ids = {k.id for k in dev.kiosks}
    agent_ids = {a.id for a in dev.agents}
    for i, disp in enumerate(dev.dispensers):
        if disp.kiosk not in kiosk_ids:
            problems.append((("devices", "dispensers", i, "kiosk"), f"unknown kiosk {disp.kiosk!r}"))
        for button, sid in disp.buttons.items():
            if sid not in services:
                problems.append((("devices", "dispensers", i, "buttons", button), f"unknown service {sid!r}"))
        if disp.agent is not None and disp.agent not in agent_ids:
            problems.append((("devices", "dispensers", i, "agent"), f"unknown agent {disp.agent!r}"))

    users: set[str] = set()
    for i, s in enumerate(cfg.staff):
        if s.username in users:
            problems.append((("staff", i, "username"), f"duplicate username {s.username!r}"))
        users.add(s.username)
        for j, c in enumerate(s.counters):
            if c not in counter_ids:
                problems.append((("staff", i, "counters", j), f"unknown counter {c!r}"))
    return problems


def _keypad_problems(dev: Devices) -> list[tuple[tuple, str]]:
    """Keypads sharing a port (a bus) must read it the same way and be told apart by their ids."""
    problems: list[tuple[tuple, str]] = []
    agents = {a.id for a in dev.agents}
    by_port: dict[str, list[tuple[int, Keypad]]] = {}
    for i, k in enumerate(dev.keypads):
        if k.agent is not None and k.agent not in agents:
            problems.append((("devices", "keypads", i, "agent"), f"unknown agent {k.agent!r}"))
        if k.port == "page" and k.decoder != "keyboard":
            problems.append((("devices", "keypads", i, "port"), 'port "page" is for decoder keyboard (keys typed into the rating page)'))
        if k.port != "page":
            by_port.setdefault(k.port, []).append((i, k))
    for port, items in by_port.items():
        if len(items) < 2:
            continue
        first = items[0][1]
        seen: dict[str, str] = {}
        for i, k in items:
            same = (k.decoder, k.baudrate, k.pattern, k.frame, k.run_in, k.agent) == \
                   (first.decoder, first.baudrate, first.pattern, first.frame, first.run_in, first.agent)
            if not same:
                problems.append((("devices", "keypads", i, "port"),
                                 f"keypads sharing port {port} must have the same decoder, baudrate, pattern, frame, run_in and agent as {first.id}"))
            if not k.match_id():
                problems.append((("devices", "keypads", i, "device_id"),
                                 f"keypads sharing port {port} need a device_id (or address) each"))
            elif k.match_id() in seen:
                problems.append((("devices", "keypads", i, "device_id"),
                                 f"keypad id {k.match_id()!r} on port {port} is also used by {seen[k.match_id()]}"))
            seen.setdefault(k.match_id(), k.id)
    return problems


def _line_of(root: yaml.Node | None, loc: tuple) -> int | None:
    """The 1-based line of the deepest YAML node along `loc` (keys and list indexes)."""
    node, line = root, None
    if node is not None:
        line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(part):
                    line = k.start_mark.line + 1
                    node = v
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _loc_str(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Loader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1's base-60 numbers, so an unquoted 13:15 stays the text "13:15"."""


_Loader.yaml_implicit_resolvers = {k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:int"]
                                   for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver("tag:yaml.org,2002:int",
                              re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
                              list("-+0123456789"))


def parse_config(text: str, source: str = "config.yaml") -> CentreConfig:
    try:
        root = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(source, [("", mark.line + 1 if mark else None, f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
    if not isinstance(data, dict):
        raise ConfigError(source, [("", None, "the file must be a mapping of sections (centre, server, departments, ...)")])
    try:
        cfg = CentreConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p in ("function-after",))))
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            elif err["type"] == "missing":
                msg = "required key is missing"
            problems.append((_loc_str(loc), _line_of(root, loc), msg))
        raise ConfigError(source, problems) from None
    cross = _cross_check(cfg)
    if cross:
        raise ConfigError(source, [(_loc_str(loc), _line_of(root, loc), msg) for loc, msg in cross])
    return cfg


def load_config(path: str | Path) -> CentreConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [("", None, f"cannot read the file: {exc.strerror}")]) from None
    return parse_config(text, str(path))


def documented_keys(model: type[BaseModel] = CentreConfig, prefix: str = "") -> list[str]:
    """Every config key as a dotted path (lists shown as []), for the documentation test."""
    keys = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        keys.append(path)
        for sub in _models_in(field.annotation):
            list_mark = "[]" if _is_list(field.annotation) else ""
            keys.extend(documented_keys(sub, f"{path}{list_mark}."))
    return keys


def _is_list(annotation: Any) -> bool:
    if getattr(annotation, "__origin__", None) is list:
        return True
    return any(_is_list(a) for a in getattr(annotation, "__args__", ()) or () if a is not type(None))


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out = []
    for arg in getattr(annotation, "__args__", ()) or ():
        out.extend(_models_in(arg))
    return out
