"""The web toolkit every blueprint uses, the device packages' server parts included: the context, the
caller (principal), the language, request bodies validated by one pydantic model per action, role checks,
and the JSON error answers."""
from __future__ import annotations

import logging

from flask import current_app, g, jsonify, request
from pydantic import BaseModel, ConfigDict, ValidationError
from werkzeug.exceptions import HTTPException

from queue_server.accounts import ANONYMOUS, Principal
from queue_server.core.errors import DomainError

log = logging.getLogger(__name__)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)



def ctx():
    return current_app.extensions["qms"]


def lang() -> str:
    if request.args.get("lang") in ("vi", "en"):
        return request.args["lang"]
    return request.accept_languages.best_match(["vi", "en"], default="vi")


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


def body(model: type[Body], *, optional: bool = False) -> Body:
    raw = request.get_data(cache=True)
    if not raw.strip():
        if optional:
            return model()
        raise DomainError("bad_request", detail="a JSON body is required")
    if not request.is_json:
        raise DomainError("bad_request", detail="send JSON with Content-Type: application/json")
    data = request.get_json(silent=True)
    if data is None and raw.strip() != b"null":
        raise DomainError("bad_request", detail="the body is not valid JSON")
    if not isinstance(data, dict):
        raise DomainError("bad_request", detail="the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            where = ".".join(str(x) for x in err["loc"]) or "body"
            msg = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
            parts.append(f"{where}: {msg}")
        raise DomainError("bad_request", detail="; ".join(parts)) from None



def install_error_handlers(app) -> None:
    """A DomainError answers with its code and HTTP status; 404/405 likewise; anything else is logged and 500."""

    @app.errorhandler(DomainError)
    def domain_error(err: DomainError):
        return jsonify(err.to_dict(lang())), err.http_status

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
