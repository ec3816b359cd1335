"""Online bookings (`booking:`): which services take them, the days and slots, each slot's capacity, the limits
against hoarding, the one-time code, the no-show block, the arrival window and how long personal data is kept.
The rules themselves are in core/booking.py; docs/booking.md explains them."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from queue_server.config.base import ID_PATTERN, Model


class BookingOtp(Model):
    """The one-time code sent by SMS to confirm a booking."""

    digits: int = Field(6, ge=4, le=8)
    ttl_seconds: int = Field(300, ge=30, le=3600)  # the code, and the slot's hold, expire after this
    max_attempts: int = Field(5, ge=1, le=20)  # wrong codes before the booking is dropped (429 otp_attempts)
    resend_after_seconds: int = Field(60, ge=10, le=3600)  # the least time between two codes for one booking
    max_sends: int = Field(3, ge=1, le=10)  # codes sent for one booking at most (the first one included)


class NoShowBlock(Model):
    """Citizens who book and do not come: `count` no-shows within `within_days` block booking for `block_days`."""

    count: int = Field(3, ge=1, le=100)
    within_days: int = Field(30, ge=1, le=366)
    block_days: int = Field(14, ge=0, le=366)  # 0: never blocked


class Booking(Model):
    enabled: bool = False
    services: list[str] | None = None  # the services that take bookings; None (absent): every service
    days_ahead: int = Field(7, ge=1, le=60)  # working days open for booking, today included when it is one
    slot_minutes: int = Field(30, ge=5, le=240)
    # places per slot of a service; a service not listed gets the derived capacity (docs/booking.md):
    # floor(counters serving it x slot_minutes / its avg_service_minutes x share_for_bookings)
    capacity: dict[str, Annotated[int, Field(ge=0, le=10_000)]] = {}
    share_for_bookings: float = Field(0.5, ge=0, le=1)  # the share of a slot's serving time offered to bookings
    per_id_per_day: int = Field(2, ge=1, le=20)
    per_id_per_service_per_day: int = Field(1, ge=1, le=20)
    per_phone_per_day: int = Field(2, ge=1, le=20)
    per_phone_per_service_per_day: int = Field(1, ge=1, le=20)
    otp: BookingOtp = BookingOtp()
    no_show_block: NoShowBlock = NoShowBlock()
    arrive_before_minutes: int = Field(15, ge=0, le=240)  # check-in opens this long before the slot's start
    arrive_after_minutes: int = Field(15, ge=0, le=240)  # and closes this long after it (then: a no-show)
    identity_retention_days: int = Field(90, ge=1, le=3650)  # keyed hashes of the CCCD and the phone, and the phone
    booking_retention_days: int = Field(365, ge=1, le=3650)  # the booking row itself (no personal data left in it)
    attempts_per_minute: int = Field(30, ge=1, le=100_000)  # booking requests one client address may make a minute

    @field_validator("services")
    @classmethod
    def _ids(cls, v: list[str] | None) -> list[str] | None:
        import re

        for sid in v or []:
            if not re.fullmatch(ID_PATTERN, sid):
                raise ValueError(f"{sid!r} is not a service id")
        return v

    @model_validator(mode="after")
    def _retention(self):
        if self.booking_retention_days < self.identity_retention_days:
            raise ValueError("booking_retention_days must be at least identity_retention_days")
        block = self.no_show_block
        if block.within_days + block.block_days > self.identity_retention_days:
            raise ValueError("no_show_block.within_days + block_days must not exceed identity_retention_days "
                             "(the no-show block reads the hashes kept that long)")
        return self


def booking_problems(cfg) -> list[tuple[tuple, str]]:
    """Rules across keys: `booking.services` and `booking.capacity` name services of the centre."""
    known = cfg.services()
    out: list[tuple[tuple, str]] = []
    for i, sid in enumerate(cfg.booking.services or []):
        if sid not in known:
            out.append((("booking", "services", i), f"unknown service {sid!r}"))
    for sid in cfg.booking.capacity:
        if sid not in known:
            out.append((("booking", "capacity", sid), f"unknown service {sid!r}"))
    return out
