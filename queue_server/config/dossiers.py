"""Dossier look-up (tra cứu hồ sơ): where dossiers come from and which service returns results."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from queue_server.config.base import Model

DOSSIER_STATUSES = ("received", "processing", "supplement", "ready", "returned", "rejected")
DossierStatus = Literal["received", "processing", "supplement", "ready", "returned", "rejected"]
DOSSIER_FIELDS = ("code", "status", "procedure", "received", "appointment", "collect_at", "applicant")


class DossierHttp(Model):
    """The province's one-stop system, asked over HTTP for one dossier at a time."""

    url: str  # with {code}, e.g. https://motcua.example.gov.vn/api/hoso/{code}
    headers: dict[str, str] = {}  # e.g. {Authorization: "Bearer ..."}
    timeout_seconds: float = Field(2.0, gt=0, le=2.5)  # the kiosk answers within 3 s, whatever the source does
    cache_seconds: int = Field(60, ge=0, le=3600)  # an answer is reused this long (0: never)
    fields: dict[str, str]  # our field -> dotted path in the answer ("data.trangThai.ma", "result.0.state")
    status_values: dict[str, DossierStatus] = {}  # the source's status values -> ours (empty: it uses ours)
    not_found_http_status: list[int] = [404]  # answers that mean "no such dossier"

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")) or "{code}" not in v:
            raise ValueError("the url must start with http:// or https:// and hold {code}")
        return v

    @field_validator("fields")
    @classmethod
    def _fields(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - set(DOSSIER_FIELDS))
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; ours are {', '.join(DOSSIER_FIELDS)}")
        if "status" not in v:
            raise ValueError("the mapping needs at least a path for status")
        for name, path in v.items():
            if not path or any(not step for step in path.split(".")):
                raise ValueError(f"{name}: {path!r} is not a dotted path like data.trangThai.ma")
        return v

    @field_validator("status_values", mode="before")
    @classmethod
    def _value_keys(cls, v):
        return {str(k): val for k, val in v.items()} if isinstance(v, dict) else v


class Dossiers(Model):
    source: Literal["none", "http", "file", "fake"] = "none"
    http: DossierHttp | None = None
    return_service: str | None = None  # the return-of-results service the kiosk offers a ticket for
    status_values: dict[str, DossierStatus] = {}  # for source: file, the file's status words -> ours
    lookups_per_minute: int = Field(20, ge=1, le=1000)  # per client address without a kiosk's or staff token

    @field_validator("status_values", mode="before")
    @classmethod
    def _value_keys(cls, v):
        return {str(k): val for k, val in v.items()} if isinstance(v, dict) else v

    @model_validator(mode="after")
    def _http_needs_its_section(self):
        if self.source == "http" and self.http is None:
            raise ValueError("source: http needs a dossiers.http section (url, fields)")
        return self
