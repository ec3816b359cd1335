"""The web toolkit every blueprint uses, the device packages' server parts included: the context, the
caller (principal), the language, request bodies validated by one pydantic model per action, role checks,
and the JSON error answers."""
from __future__ import annotations

import logging

from flask import current_app, g, jsonify, request
from pydantic import BaseModel, ConfigDict, ValidationError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from queue_server.accounts import ANONYMOUS, Principal
from queue_server.core.addresses import client_of
from queue_server.core.errors import DomainError

log = logging.getLogger(__name__)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)



LARGEST_ID = 2**53  # the largest whole number in a URL or a query (what SQLite and JavaScript hold exactly)
MAX_BODY_BYTES = 64 * 1024  # the largest request body (Flask's MAX_CONTENT_LENGTH): 413 body_too_large beyond


class WholeNumber(IntegerConverter):
    """`<int:...>` in a URL: a whole number the database can hold. A larger one matches no route (404), where
    it used to reach SQLite and fail with a 500."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(map, *args, **kwargs)


def ctx():
    return current_app.extensions["qms"]


def lang() -> str:
    if request.args.get("lang") in ("vi", "en"):
        return request.args["lang"]
    return request.accept_languages.best_match(["vi", "en"], default="vi")


def client_address() -> str:
    """The client's address, for every limit counted per address and for the sign-in throttle: the peer's, or,
    when the peer is one of `server.trusted_proxies`, the first untrusted hop of X-Forwarded-For from the right
    (core/addresses.py). The one place that reads the request's remote address (tests/test_client_addresses.py)."""
    return client_of(request.remote_addr, request.headers.getlist("X-Forwarded-For"),
                     tuple(ctx().config.server.trusted_proxies))


def client_tag() -> str:
    """The client's address as the event log may keep it: its keyed hash, "ip:3fa9..." (Accounts.client_tag)."""
    return ctx().accounts.client_tag(client_address())


def bearer() -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        return auth[7:].strip() or None
    return None


def principal() -> Principal:
    """The caller; an invalid or expired token is an error, no token is anonymous."""
    if "principal" not in g:
        token = bearer()
        if token is None:
            g.principal = ANONYMOUS
        else:
            p = ctx().accounts.principal_for(token)
            if p is None:
                raise DomainError("unauthenticated")
            g.principal = p
    return g.principal


def json_object(*, optional: bool = False) -> dict:
    """The request's JSON body, an object ({} for an empty body when `optional`)."""
    raw = request.get_data(cache=True)
    if request.content_length is None and len(raw) >= (current_app.config.get("MAX_CONTENT_LENGTH") or MAX_BODY_BYTES):
        raise RequestEntityTooLarge()  # a chunked body is cut at the cap as it is read: refuse it, not its first part
    if not raw.strip():
        if optional:
            return {}
        raise DomainError("bad_request", detail="a JSON body is required")
    if not request.is_json:
        raise DomainError("bad_request", detail="send JSON with Content-Type: application/json")
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # the JSON parser gives up on a body nested thousands deep
        raise DomainError("bad_request", detail="the JSON body is nested too deeply") from None
    if data is None and raw.strip() != b"null":
        raise DomainError("bad_request", detail="the body is not valid JSON")
    if not isinstance(data, dict):
        raise DomainError("bad_request", detail="the body must be a JSON object")
    return data


def unicode_text(value: object) -> bool:
    """Whether `value` (made text) can be written as UTF-8: JSON and Socket.IO let a lone surrogate (\\ud800)
    through, which SQLite, hashing and logs cannot take."""
    try:
        str(value).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def whole_number_arg(name: str, default: int, *, low: int = 0, high: int = LARGEST_ID, clamp: bool = False) -> int:
    """The query parameter `name` as a whole number from `low` to `high` (`default` when absent or empty; with
    `clamp`, a whole number outside is brought within); anything else is a bad_request naming the parameter and
    its bounds."""
    raw = request.args.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is not None and clamp:
        return min(high, max(low, value))
    if value is None or not low <= value <= high:
        raise DomainError("bad_request", detail=f"{name} must be a whole number from {low} to {high}")
    return value


def validate(model: type[Body], data: dict) -> Body:
    """`data` checked by `model`; a bad field is a bad_request naming each field and what is wrong with it."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            where = ".".join(str(x) for x in err["loc"]) or "body"
            msg = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
            parts.append(f"{where}: {msg}")
        raise DomainError("bad_request", detail="; ".join(parts)) from None


def body(model: type[Body], *, optional: bool = False) -> Body:
    data = json_object(optional=optional)
    if not data and optional:
        return model()
    return validate(model, data)


ROLES = ("anonymous", "signed_in", "device", "kiosk", "display", "agent", "staff", "supervisor", "admin")


def require(*roles: str, p: Principal | None = None, reason: str | None = None) -> Principal:
    """The caller (the request's unless `p` is given) if it has one of `roles`, else unauthenticated/forbidden.

    anonymous: anybody; signed_in: any staff or device token; device: any device, or one kind of them
    (kiosk, display, agent); staff: any staff account (supervisors and admins too); supervisor: supervisors
    and admins; admin: admins. `reason` says who may, in the forbidden answer (default: from the roles).
    """
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"require() takes roles among {ROLES}, not {sorted(unknown) or 'none'}")
    p = principal() if p is None else p
    if "anonymous" in roles:
        return p
    if p.kind == "anonymous":
        raise DomainError("unauthenticated")
    if "signed_in" in roles:
        return p
    if p.kind == "device" and ("device" in roles or p.device_kind in roles):
        return p
    if p.kind == "staff" and ("staff" in roles or ("supervisor" in roles and p.is_supervisor)
                              or ("admin" in roles and p.role == "admin")):
        return p
    names = {"device": "devices", "kiosk": "kiosks", "display": "displays", "agent": "agents", "staff": "staff",
             "supervisor": "supervisors", "admin": "admins"}
    if reason is None:
        words = [names[r] for r in roles]
        reason = (words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}") + " only"
    raise DomainError("forbidden", reason=reason)


# Every page's scripts are files the server serves (no inline script, no eval); styles may be inline (<style>
# in a few templates); slips' QR codes and the announcer's clips may be blob: or data: URLs; no page may be framed.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "media-src 'self' blob: data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'")


def install_security_headers(app) -> None:
    """The headers every answer carries; pages (HTML) also a Content-Security-Policy that forbids inline script
    and being framed by another site."""

    @app.after_request
    def security_headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        if resp.mimetype == "text/html":
            resp.headers.setdefault("Content-Security-Policy", CSP)
            resp.headers.setdefault("X-Frame-Options", "DENY")
        return resp


def install_error_handlers(app) -> None:
    """A DomainError answers with its code and HTTP status; 404/405 likewise; anything else is logged and 500."""

    @app.errorhandler(DomainError)
    def domain_error(err: DomainError):
        retry = err.params.get("retry_after")  # a 429 also says when to try again in the standard header
        headers = {"Retry-After": str(retry)} if isinstance(retry, int) else {}
        return jsonify(err.to_dict(lang())), err.http_status, headers

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(err: RequestEntityTooLarge):
        limit = current_app.config.get("MAX_CONTENT_LENGTH") or MAX_BODY_BYTES
        message = (f"Nội dung gửi lên quá lớn: tối đa {limit // 1024} KB." if lang() == "vi"
                   else f"The request body is too large: at most {limit // 1024} KB.")
        return jsonify(error="body_too_large", message=message, limit_bytes=limit), 413

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(err.code)
        if code:
            e = DomainError(code)
            return jsonify(e.to_dict(lang())), err.code
        return jsonify(error="bad_request", message=err.description), err.code

    @app.errorhandler(Exception)
    def unexpected(err: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        return jsonify(error="internal", message="internal error; it was logged"), 500
