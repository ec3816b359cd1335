"""Notices to citizens' phones (queue_server/notices/, docs/notifications.md): the backend, one gateway adapter,
when "Sắp đến lượt" and the call are sent, how long phone numbers and texts are kept, and the retries.

The gateway is one HTTP request per message, described as data: an address, a method, headers (a value may
name an environment variable, "${SMS_TOKEN}", so a secret stays out of the file), a body template (JSON or a
form) whose text values may hold placeholders, and the rule that says the gateway took the message.
"""
from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, model_validator

from queue_server.config.base import Model

# What a body template, a header or the address may hold in braces; docs/notifications.md explains each.
PLACEHOLDERS = ("phone", "phone_intl", "text", "kind", "id", "lang", "ticket", "counter")
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
ENV_NAME = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")
_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s]*)?$")


def _strings(value: Any):
    """Every text inside a template (mapping values, list items), however deep."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _check_placeholders(texts, where: str) -> None:
    unknown = sorted({name for s in texts for name in PLACEHOLDER.findall(s) if name not in PLACEHOLDERS})
    if unknown:
        raise ValueError(f"{where}: unknown placeholders {unknown}; use {{{'}, {'.join(PLACEHOLDERS)}}}")


class Gateway(Model):
    """The one HTTP request that hands a message to an SMS or Zalo gateway."""

    url: str = Field(max_length=2000)
    method: Literal["POST", "PUT", "GET"] = "POST"
    headers: dict[str, str] = {}
    body_format: Literal["json", "form"] = "json"
    body: dict[str, Any] = {"to": "{phone}", "text": "{text}"}
    success_field: str | None = Field(None, max_length=200)  # a dotted path in the JSON answer, e.g. "error"
    success_value: str | int | bool | None = None  # the value it must have, e.g. 0
    timeout: float = Field(5, gt=0, le=60)

    @model_validator(mode="after")
    def _templates(self):
        if not _URL.match(self.url):
            raise ValueError("url: write a full http:// or https:// address, e.g. https://sms.example.vn/api/send")
        _check_placeholders([self.url], "url")
        _check_placeholders(self.headers.values(), "headers")
        _check_placeholders(_strings(self.body), "body")
        if self.body_format == "form" and any(not isinstance(v, (str, int, float)) for v in self.body.values()):
            raise ValueError("body: a form body has only text or number values (use body_format: json for nesting)")
        if self.success_value is not None and not self.success_field:
            raise ValueError("success_value needs success_field, the path in the answer it is read from")
        return self


class Retry(Model):
    """A failed message is tried again after first_seconds, then twice as long each time, never longer than
    max_seconds, each wait moved by up to ±jitter of itself; after max_attempts it is dead."""

    max_attempts: int = Field(6, ge=1, le=50)
    first_seconds: float = Field(10, gt=0, le=3600)
    max_seconds: float = Field(600, gt=0, le=86_400)
    jitter: float = Field(0.2, ge=0, le=0.5)


class Notifications(Model):
    # outbox: messages stay in the database, marked delivered to the outbox, for admins to read (the demo);
    # http: each goes to `gateway`.
    backend: Literal["outbox", "http"] = "outbox"
    channel: Literal["sms", "zalo"] = "sms"  # what the messages are marked as (the gateway decides the truth)
    gateway: Gateway | None = None
    near_ahead: int = Field(3, ge=0, le=100)  # "Sắp đến lượt" once a ticket has this many or fewer ahead
    send_on_call: bool = True
    retention_days: int = Field(30, ge=1, le=365)
    retry: Retry = Retry()
    # Only when centre.demo is true: the admin's outbox shows whole texts (one-time codes included).
    demo_show_bodies: bool = False

    @model_validator(mode="after")
    def _whole(self):
        problems = []
        if self.backend == "http" and self.gateway is None:
            problems.append("backend http needs a gateway (url, method, headers, body)")
        if self.retry.max_seconds < self.retry.first_seconds:
            problems.append("retry.max_seconds must be at least retry.first_seconds")
        if problems:
            raise ValueError("; ".join(problems))
        return self
