"""The gateway adapter: one message as the HTTP request the config describes, and the rule that says the
gateway took it (config/notifications.py `Gateway`; presets in docs/notifications.md).

Placeholders in braces are filled from the message (`values`); "${NAME}" in a header, a body value or the
address is the environment variable NAME, read at send time so a secret never sits in config.yaml. A missing
variable is a failed attempt with a clear error, never a request with an empty secret.
"""
from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request

from queue_server.config.notifications import ENV_NAME, PLACEHOLDER


class GatewaySetupError(Exception):
    """The request cannot be made (an environment variable the config names is not set)."""


def phone_intl(phone: str) -> str:
    """A Vietnamese mobile number in the international form gateways ask for: 0912345678 -> 84912345678."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if phone.strip().startswith("+"):
        return digits
    return "84" + digits[1:] if digits.startswith("0") else digits


def message_values(msg: dict, ticket_code: str = "", counter: str = "") -> dict[str, str]:
    """What the placeholders of a template stand for, for one row of the outbox."""
    return {"phone": msg["to_phone"], "phone_intl": phone_intl(msg["to_phone"]), "text": msg["body"],
            "kind": msg["kind"], "id": str(msg["id"]), "lang": msg["lang"], "ticket": ticket_code, "counter": counter}


def _env(text: str) -> str:
    def one(m):
        value = os.environ.get(m.group(1))
        if value is None:
            raise GatewaySetupError(f"environment variable {m.group(1)} is not set")
        return value
    return ENV_NAME.sub(one, text)


def fill(template, values: dict[str, str]):
    """The template with every {placeholder} and ${VARIABLE} replaced, however deep (text values only)."""
    if isinstance(template, str):
        return _env(PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template))
    if isinstance(template, dict):
        return {k: fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, values) for v in template]
    return template


def build_request(gw, values: dict[str, str]) -> urllib.request.Request:
    """The request for one message. GET puts the body's fields in the query string."""
    url = fill(gw.url, values)
    headers = {k: fill(v, values) for k, v in gw.headers.items()}
    body = fill(gw.body, values)
    data = None
    if gw.method == "GET":
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode(body)
    elif gw.body_format == "json":
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers.setdefault("Content-Type", "application/json; charset=utf-8")
    else:
        data = urllib.parse.urlencode(body).encode("ascii")
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
    return urllib.request.Request(url, data=data, method=gw.method, headers=headers)


def accepted(gw, status: int | None, answer: bytes) -> tuple[bool, str]:
    """(the gateway took the message, the error if not): a 2xx, and when `success_field` is set, that path of
    the JSON answer equal to `success_value` (or true-ish when no value is given)."""
    if status is None or not 200 <= status < 300:
        return False, f"HTTP {status}" if status is not None else "no answer"
    if not gw.success_field:
        return True, ""
    try:
        found = json.loads(answer.decode("utf-8"))
        for part in gw.success_field.split("."):
            found = found[int(part)] if isinstance(found, list) else found[part]
    except (ValueError, KeyError, IndexError, TypeError, UnicodeDecodeError):
        return False, f"answer has no {gw.success_field}"
    ok = bool(found) if gw.success_value is None else (found == gw.success_value or str(found) == str(gw.success_value))
    return ok, "" if ok else f"{gw.success_field} = {str(found)[:80]}"
