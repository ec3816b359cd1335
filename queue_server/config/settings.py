"""How the centre runs: the server, the queue's options, the called-number voice and the rating scale."""
from __future__ import annotations

import importlib.util
import re
from typing import Literal

from typing import Annotated
from ipaddress import ip_network

from pydantic import AfterValidator, Field, field_validator, model_validator

from queue_server.config.base import Model


DEFAULT_DEVICE_PARTS = ("ticket_printer", "displays", "feedback_buttons")


def _proxy(entry: str) -> str:
    """One of server.trusted_proxies: an address (10.0.0.5, ::1) or a network (10.0.0.0/8, fd00::/8)."""
    try:
        ip_network(entry, strict=True)
    except ValueError as e:
        raise ValueError(f"{entry!r} is not an IP address or network like 10.0.0.0/8 ({e})") from None
    return entry


ProxyAddress = Annotated[str, AfterValidator(_proxy)]


class LoginThrottle(Model):
    """Failed logins that lock an account or a client address for a while (queue_server/core/sign_in.py)."""

    failures: int = Field(5, ge=1, le=100)
    window_seconds: int = Field(300, ge=10, le=86_400)
    first_lock_seconds: int = Field(30, ge=1, le=86_400)
    max_lock_seconds: int = Field(900, ge=1, le=86_400)

    @model_validator(mode="after")
    def _lock_order(self):
        if self.max_lock_seconds < self.first_lock_seconds:
            raise ValueError("max_lock_seconds must be at least first_lock_seconds")
        return self


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
    # The device packages whose server parts this server runs: each is a package with a `server` module that
    # has init_app(app, ctx) (docs/architecture.md). A centre without ticket machines may drop ticket_printer.
    device_parts: list[str] = list(DEFAULT_DEVICE_PARTS)
    # Web origins besides the server's own that may open a live connection (e.g. https://hcc.example.gov.vn when
    # a proxy serves the pages under another name). Empty: the server's own origin only.
    allowed_origins: list[str] = []
    # The reverse proxies in front of the server (addresses or networks): only a request from one of them has
    # its X-Forwarded-For read, for the client's address (core/addresses.py). Empty: trust nobody.
    trusted_proxies: list[ProxyAddress] = []
    # Days a client's raw address is kept (table client_addresses) beside the hash the event log holds; 0: never.
    address_retention_days: int = Field(30, ge=0, le=3650)

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for o in origins:
            if o == "*" or not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?", o):
                raise ValueError(f"{o!r} is not an origin like https://host[:port] (no path, no '*')")
        return origins

    @field_validator("device_parts")
    @classmethod
    def _parts_exist(cls, names: list[str]) -> list[str]:
        if len(set(names)) != len(names):
            raise ValueError("a device part is listed twice")
        for name in names:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", name):
                raise ValueError(f"{name!r} is not a Python package name")
            try:
                found = importlib.util.find_spec(f"{name}.server") is not None
            except ModuleNotFoundError:
                found = False
            if not found:
                raise ValueError(f"no installed package {name} with a server part ({name}.server)")
        return names


class Queue(Model):
    next_with_open_ticket: Literal["finish", "refuse"] = "finish"
    on_range_exhausted: Literal["refuse", "wrap"] = "refuse"
    always_open: bool = False  # demo only: services open at any hour and any day
    repeat_press_seconds: float = Field(2, ge=0, le=30)  # a second "next" this soon is the same press
    walk_ins_per_booked: int = Field(2, ge=0, le=20)  # walk-ins a counter calls between two due booked tickets; 0: plain order


class Terminal(Model):
    """The counter terminal page (GET /counter)."""

    chime: bool = True  # a soft chime when a citizen starts waiting at an empty counter
    confirm_next: bool = True  # "Gọi tiếp" while a ticket is at the counter asks before finishing it


class Satisfaction766(Model):
    """The satisfaction export in the shape provinces ask for under Decision 766/QĐ-TTg (queue_server/satisfaction_766.py).
    Provinces word the headers differently: each is a setting."""

    title: str = "Báo cáo kết quả đánh giá mức độ hài lòng của công dân (Quyết định 766/QĐ-TTg)"
    headers: dict[str, str] = Field(default_factory=dict)  # key -> header text; unknown keys are refused

    @field_validator("headers")
    @classmethod
    def _known(cls, v):
        from queue_server.config.words_766 import HEADER_KEYS

        unknown = sorted(set(v) - set(HEADER_KEYS))
        if unknown:
            raise ValueError(f"unknown header keys {unknown}; known: {', '.join(HEADER_KEYS)}")
        return v


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
    tablet_token_required: bool | None = None  # the rating page needs a device token; default: not in a demo
    anonymous_per_minute: int = Field(10, ge=1, le=1000)  # ratings and reasons one address may send without a device token
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
