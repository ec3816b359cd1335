"""The centre's links outward: signed webhooks (queue_server/webhooks/, docs/integrations.md)."""
from __future__ import annotations

import re
from fnmatch import fnmatchcase

from pydantic import Field, field_validator, model_validator

from queue_server.config.base import ID_PATTERN, Model

# The events a webhook may ask for, by name; a group (`ticket.*`, `booking.*`) takes every event of it.
WEBHOOK_EVENTS = ("ticket.issued", "ticket.called", "ticket.finished", "ticket.no_show", "ticket.cancelled",
                  "ticket.transferred", "ticket.unserved", "rating.recorded", "day.closed")
WEBHOOK_GROUPS = ("ticket.*", "rating.*", "day.*", "booking.*")
_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s]*)?$")


class Webhook(Model):
    """One receiver: events are POSTed to `url`, signed with `secret` (HMAC-SHA256)."""

    id: str = Field(pattern=ID_PATTERN)
    url: str = Field(max_length=2000)
    secret: str = Field(min_length=16, max_length=200)
    events: list[str] = Field(min_length=1)
    timeout: float = Field(5, gt=0, le=60)
    max_attempts: int = Field(12, ge=1, le=100)
    retry_seconds: float = Field(10, gt=0, le=3600)
    retry_max_seconds: float = Field(900, gt=0, le=86_400)
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not _URL.match(v):
            raise ValueError("write a full http:// or https:// address, e.g. https://portal.example.gov.vn/qms")
        return v

    @field_validator("events")
    @classmethod
    def _events(cls, v: list[str]) -> list[str]:
        unknown = [e for e in v if e not in WEBHOOK_EVENTS and e not in WEBHOOK_GROUPS]
        if unknown:
            raise ValueError(f"unknown events {unknown}; use {', '.join(WEBHOOK_EVENTS + WEBHOOK_GROUPS)}")
        if len(set(v)) != len(v):
            raise ValueError("an event is listed twice")
        return v

    @model_validator(mode="after")
    def _retry_order(self):
        if self.retry_max_seconds < self.retry_seconds:
            raise ValueError("retry_max_seconds must be at least retry_seconds")
        return self

    def wants(self, event_type: str) -> bool:
        """Whether an event of this type goes to this receiver."""
        return self.enabled and any(fnmatchcase(event_type, pattern) for pattern in self.events)


class Integrations(Model):
    webhooks: list[Webhook] = []

    @field_validator("webhooks")
    @classmethod
    def _unique_ids(cls, v: list[Webhook]) -> list[Webhook]:
        ids = [w.id for w in v]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"webhook ids listed twice: {twice}")
        return v
