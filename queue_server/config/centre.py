"""The centre itself: its name and time zone, opening hours, departments with their services and number
ranges, counters, priority groups, staff accounts and the procedure catalogue."""
from __future__ import annotations

from datetime import date, time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from queue_server.config.base import ID_PATTERN, Model, Window


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

    prefix: str = Field("", pattern=r"^[A-Z]{0,4}$")
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
    field: str = ""  # lĩnh vực: the field the satisfaction export counts it in (default: the service's name)
    remote_walk_in: bool = False  # a công dân in the hall may take a number on the phone (config/remote.py)


class Department(Model):
    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    name_en: str = ""
    short_name: str = ""
    zone: str = ""
    numbering: Numbering | None = None
    services: list[Service] = Field(min_length=1)


class CounterConfig(Model):
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
    # A công dân this old or older (by the date of birth on their CCCD, scanned at the kiosk) takes a priority
    # ticket of this group without staff (core/age_priority.py); None: the group is chosen by staff only.
    min_age: int | None = Field(None, ge=1, le=130)


class Priority(Model):
    groups: list[PriorityGroup] = []
    max_consecutive: int = Field(3, ge=1, le=100)
    kiosk_self_service: bool = False


class StaffAccount(Model):
    username: str = Field(pattern=r"^[a-z0-9_.-]{2,40}$")
    password: str = Field(min_length=6)
    full_name: str = ""
    role: Literal["admin", "supervisor", "staff"] = "staff"
    counters: list[str] = []


class Catalogue(Model):
    """The procedure catalogue searched at the kiosk (ticket_printer/server/catalogue.py)."""

    file: str = ""  # CSV or YAML; empty: none (import one with `qms import-procedures FILE`)
    import_when_empty: bool = True
