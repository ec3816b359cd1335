"""What a simulated day is made of: demand per service, service times, staffing (docs/simulator.md).

Defaults come from config.yaml (services, their avg_service_minutes, the counters and the hours); a
calibration file (`qms calibrate`) replaces the demand and service times with the centre's own history; a
what-if file changes the staffing (counters open at given hours, services moved, counters added) or demand."""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path

import yaml

FOUNDING_DAILY = 68_883 / 250  # dossiers a working day at the founding centre (docs: domain)
DEFAULT_SIGMA = 0.5  # spread of log(service minutes) until calibrated
# Share of a day's arrivals in each hour (0-23), before the issuing windows cut it: a morning peak, a
# smaller afternoon one.
DEFAULT_HOURLY = (0,) * 7 + (0.6, 1.4, 1.5, 1.3, 0.9, 0.2, 0.2, 1.0, 1.1, 0.9, 0.4) + (0,) * 6
DEFAULT_WEEKDAYS = (1.2, 1.0, 1.0, 0.95, 0.85, 0.5, 0.3)  # Monday first


class ParamsError(ValueError):
    """A what-if or calibration file the simulator cannot use (says which key)."""


@dataclass(frozen=True)
class ServiceParams:
    id: str
    department: str
    daily_volume: float  # tickets on an average working day
    median_minutes: float  # lognormal service time: median and spread of the log
    sigma: float = DEFAULT_SIGMA
    no_show: float = 0.05  # share of called tickets nobody answers
    transfer: float = 0.02  # share of served tickets sent to another service of the department
    priority: float = 0.08  # share of priority tickets
    target_minutes: float = 30.0
    windows: tuple[tuple[int, int], ...] = ()  # issuing windows, minutes after midnight
    configured_minutes: float = 10.0  # services[].avg_service_minutes: the estimate's prior, not the truth
    exponential: bool = False  # service times exponential with mean `median_minutes` (queueing checks: M/M/c)

    @property
    def mean_minutes(self) -> float:
        return self.median_minutes if self.exponential else self.median_minutes * math.exp(self.sigma ** 2 / 2)


@dataclass(frozen=True)
class CounterPlan:
    id: str
    number: int
    department: str
    services: tuple[str, ...]
    policy: str = "fifo"
    weights: tuple[tuple[str, float], ...] = ()
    open: tuple[tuple[int, int], ...] = ()  # minutes after midnight


@dataclass(frozen=True)
class Surge:
    service: str
    factor: float
    weekdays: frozenset[int] = frozenset(range(7))


@dataclass(frozen=True)
class Params:
    services: dict[str, ServiceParams]
    counters: tuple[CounterPlan, ...]
    hourly: tuple[float, ...] = DEFAULT_HOURLY
    weekdays: tuple[float, ...] = DEFAULT_WEEKDAYS
    working_days: frozenset[int] = frozenset(range(5))
    surges: tuple[Surge, ...] = ()
    max_consecutive_priority: int = 3
    patience_minutes: float = 150.0  # median time a citizen waits before leaving (lognormal, spread 0.5)
    day_end: int = 17 * 60  # counters call nobody after this; who still waits is unserved
    name: str = "config"


def minutes_of(t: time) -> int:
    return t.hour * 60 + t.minute


def _span(text: str, where: str) -> tuple[int, int]:
    try:
        a, b = str(text).split("-")
        h1, m1 = a.strip().split(":")
        h2, m2 = b.strip().split(":")
        start, end = int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)
    except ValueError:
        raise ParamsError(f"{where}: write a span as \"07:30-11:15\", not {text!r}") from None
    if not 0 <= start < end <= 24 * 60:
        raise ParamsError(f"{where}: {text!r} is not a span within one day")
    return start, end


def _num(value, where: str, low: float = 0.0, high: float = 1e6) -> float:
    """A number within bounds from a what-if or calibration file, or a ParamsError naming the key."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ParamsError(f"{where}: a number, not {value!r}") from None
    if not (low <= x <= high) or x != x:
        raise ParamsError(f"{where}: {x:g} is outside {low:g}-{high:g}")
    return x


def _mapping(data: dict, key: str) -> dict:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise ParamsError(f"{key}: a mapping (name: value)")
    return value


def _list(data: dict, key: str) -> list:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise ParamsError(f"{key}: a list")
    return value


def from_config(config, tickets_per_day: float = FOUNDING_DAILY) -> Params:
    """Demand split over the services in proportion to the counters serving each (a proxy for what the
    centre expects), service times with the configured average as their mean, every counter open through
    the centre's windows."""
    hours = [(minutes_of(w.start), minutes_of(w.end)) for w in config.hours.windows]
    serving = {sid: 0 for sid in config.services()}
    for c in config.counters:
        for sid in c.services:
            serving[sid] = serving.get(sid, 0) + 1 / len(c.services)
    weight = sum(max(v, 0.25) for v in serving.values()) or 1
    services = {}
    for sid, (dept, svc) in config.services().items():
        windows = tuple((minutes_of(w.start), minutes_of(w.end)) for w in svc.windows) if svc.windows else tuple(hours)
        services[sid] = ServiceParams(
            id=sid, department=dept.id, daily_volume=tickets_per_day * max(serving[sid], 0.25) / weight,
            median_minutes=svc.avg_service_minutes * math.exp(-DEFAULT_SIGMA ** 2 / 2),
            target_minutes=svc.target_wait_minutes, windows=windows, configured_minutes=svc.avg_service_minutes)
    counters = tuple(CounterPlan(c.id, c.number, c.department, tuple(c.services), c.policy,
                                 tuple(c.weights.items()), tuple(hours)) for c in config.counters)
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    return Params(services=services, counters=counters, max_consecutive_priority=config.priority.max_consecutive,
                  working_days=frozenset(names.index(d) for d in config.hours.weekdays),
                  day_end=max(end for _, end in hours) + 30)


def load_yaml(path: str | Path) -> dict:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ParamsError(f"{path}: {e}") from None
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: the file must be a mapping")
    return data


def apply_calibration(p: Params, data: dict) -> Params:
    """A calibration (qms calibrate's YAML): per service volume, service times, shares; hourly and weekday
    profiles."""
    services = dict(p.services)
    bounds = {"daily_volume": (0, 1e5), "median_minutes": (0.05, 480), "sigma": (0, 3), "no_show": (0, 1),
              "transfer": (0, 1), "priority": (0, 1)}
    for sid, row in _mapping(data, "services").items():
        if sid not in services:
            continue  # a service no longer in config.yaml
        if not isinstance(row, dict):
            raise ParamsError(f"services.{sid}: a mapping")
        services[sid] = replace(services[sid], **{k: _num(row[k], f"services.{sid}.{k}", *bounds[k])
                                                  for k in bounds if row.get(k) is not None})
    hourly, weekdays = _list(data, "hourly"), _list(data, "weekdays")
    hourly = tuple(_num(x, "hourly") for x in hourly) if len(hourly) == 24 else p.hourly
    weekdays = tuple(p.weekdays[i] if x is None else _num(x, "weekdays", 0, 10) for i, x in enumerate(weekdays)) \
        if len(weekdays) == 7 else p.weekdays
    return replace(p, services=services, hourly=hourly, weekdays=weekdays)


def apply_what_if(p: Params, data: dict, name: str = "what-if") -> Params:
    """Staffing and demand changes: `counters: {id: {open: ["07:30-10:00"], services: [...], policy}}`,
    `add_counters: [{id, number, department, services, open}]`, `volumes: {service: tickets a day}`,
    `service_minutes: {service: median}`, `surges: [{service, factor, weekdays: [0-6]}]`."""
    services = dict(p.services)
    plans = {c.id: c for c in p.counters}
    for cid, row in _mapping(data, "counters").items():
        cid = str(cid)
        if cid not in plans:
            raise ParamsError(f"counters.{cid}: no such counter (add one under add_counters)")
        if not isinstance(row or {}, dict):
            raise ParamsError(f"counters.{cid}: a mapping (open, services, policy)")
        plans[cid] = _plan(plans[cid], row or {}, f"counters.{cid}", services)
    for i, row in enumerate(_list(data, "add_counters")):
        where = f"add_counters[{i}]"
        if not isinstance(row, dict) or "id" not in row:
            raise ParamsError(f"{where}: needs an id")
        base = CounterPlan(str(row["id"]), int(_num(row.get("number", 900 + i), f"{where}.number", 1, 9999)),
                           str(row.get("department", "")), ())
        plans[base.id] = _plan(base, {"open": ["07:30-11:15", "13:15-16:30"], **row}, where, services)
    for key, field_, high in (("volumes", "daily_volume", 1e5), ("service_minutes", "median_minutes", 480)):
        for sid, value in _mapping(data, key).items():
            if sid not in services:
                raise ParamsError(f"{key}.{sid}: no such service")
            services[sid] = replace(services[sid], **{field_: _num(value, f"{key}.{sid}", 0.05 if high == 480 else 0, high)})
    surges = list(p.surges)
    for i, row in enumerate(_list(data, "surges")):
        if not isinstance(row, dict) or row.get("service") not in services:
            raise ParamsError(f"surges[{i}].service: no such service")
        days = row.get("weekdays", list(range(7)))
        if not isinstance(days, list) or any(d not in range(7) for d in days):
            raise ParamsError(f"surges[{i}].weekdays: a list of 0 (Monday) to 6")
        surges.append(Surge(row["service"], _num(row.get("factor", 2), f"surges[{i}].factor", 0, 100), frozenset(days)))
    return replace(p, services=services, counters=tuple(plans.values()), surges=tuple(surges),
                   name=str(data.get("name") or name))


def _plan(plan: CounterPlan, row: dict, where: str, services: dict) -> CounterPlan:
    out = plan
    if "open" in row:
        if not isinstance(row["open"] or [], list):
            raise ParamsError(f"{where}.open: a list of spans like \"07:30-11:15\"")
        out = replace(out, open=tuple(_span(s, f"{where}.open") for s in row["open"] or []))
    if "services" in row:
        if not isinstance(row["services"], list):
            raise ParamsError(f"{where}.services: a list of service ids")
        unknown = [s for s in row["services"] if s not in services]
        if unknown or not row["services"]:
            raise ParamsError(f"{where}.services: unknown or empty: {unknown}")
        out = replace(out, services=tuple(row["services"]))
    if "policy" in row:
        if row["policy"] not in ("fifo", "order", "weighted"):
            raise ParamsError(f"{where}.policy: fifo, order or weighted")
        out = replace(out, policy=row["policy"])
    if not out.services:
        raise ParamsError(f"{where}: needs services")
    return out


def busiest_department(p: Params) -> str:
    load: dict[str, float] = {}
    for s in p.services.values():
        load[s.department] = load.get(s.department, 0) + s.daily_volume * s.mean_minutes
    return max(load, key=load.get)


def with_counters(p: Params, keep: dict[str, tuple[tuple[int, int], ...]]) -> Params:
    """The same centre with some counters' open hours replaced (the tests' and the worked example's helper)."""
    return replace(p, counters=tuple(replace(c, open=keep[c.id]) if c.id in keep else c for c in p.counters))


@dataclass
class Options:
    days: int = 20
    seed: int = 1
    estimate_every: int = 1  # estimate every n-th ticket at issue (1: every one)
    first_day: str = "2026-01-05"  # a Monday
    progress: bool = False
    extra: dict = field(default_factory=dict)
