"""What every config model shares: strict, frozen, stripped models; the id pattern; issuing windows."""
from __future__ import annotations

from datetime import time

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


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
