"""Reports: tickets, waiting and serving times, satisfaction, busiest hours, for any range of local days.

The maths is pure (queue_server/core/report_math.py, report_days.py); the tables are the store's
(queue_server/store/reports.py). `ensure_days` derives each local day from the event log once it is finished
(its legs in `report_legs`, its per-group sums with every waiting and serving time in `report_groups`, its
satisfaction presses in `report_ratings`); a day still open (today) is derived again at each report, and a
finished day again when presses for it arrive late. `build_report` then adds up the days of a range with SQL and
computes the medians and percentiles from the days' times, so a year reads a few thousand rows, not every ticket.
Every definition is written in docs/reports.md; change one and raise DEFINITIONS_VERSION so days are
derived again.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from queue_server.core import report_math
from queue_server.core.report_math import (COUNT_FIELDS, Group, Leg, ReportError, derive_legs, percentile, share,
                                           summary, summary_of_sorted)
from queue_server.store import reports as report_rows

__all__ = ["build_report", "ensure_days", "ensure_legs", "warm", "derive_day", "ReportError", "period", "percentile",
           "derive_legs", "summary", "share", "check_range", "GROUPINGS", "COLUMNS", "GROUP_HEADERS", "NOT_CALLED",
           "NO_GROUP", "FIRST_DAY", "LAST_DAY", "COLUMN_GROUPS"]

DEFINITIONS_VERSION = "2"
GROUPINGS = ("department", "service", "counter", "officer", "hour", "day", "total")
WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
NOT_CALLED = "—"  # the group of legs never called, in the counter and officer groupings
NO_GROUP = "?"  # presses that name no service, counter or officer (unattributed presses)

# Figures of a row: (key, Vietnamese header, English header, kind). kind: count | seconds | share.
COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("tickets", "Số lượt", "Tickets (legs)", "count"),
    ("issued", "Số phát", "Issued", "count"),
    ("transferred_in", "Chuyển đến", "Transferred in", "count"),
    ("called", "Đã gọi", "Called", "count"),
    ("served", "Đã phục vụ", "Served", "count"),
    ("no_show", "Vắng mặt", "No-show", "count"),
    ("transferred", "Chuyển đi", "Transferred out", "count"),
    ("cancelled", "Đã hủy", "Cancelled", "count"),
    ("unserved", "Không được phục vụ", "Unserved", "count"),
    ("abandoned", "Bỏ về (tổng)", "Abandoned (total)", "count"),
    ("active", "Đang xử lý", "Still open", "count"),
    ("wait_avg_s", "Chờ trung bình (phút)", "Average wait (min)", "seconds"),
    ("wait_median_s", "Chờ trung vị (phút)", "Median wait (min)", "seconds"),
    ("wait_p90_s", "Chờ P90 (phút)", "90th percentile wait (min)", "seconds"),
    ("within_target", "Gọi trong thời gian chờ mục tiêu (%)", "Called within target wait (%)", "share"),
    ("serve_avg_s", "Phục vụ trung bình (phút)", "Average serving time (min)", "seconds"),
    ("serve_median_s", "Phục vụ trung vị (phút)", "Median serving time (min)", "seconds"),
    ("serve_p90_s", "Phục vụ P90 (phút)", "90th percentile serving time (min)", "seconds"),
    ("rated_tickets", "Số phiếu được đánh giá", "Rated tickets", "count"),
    ("satisfaction_rate", "Tỷ lệ hài lòng (%)", "Satisfaction rate (%)", "share"),
    ("ratings_repeat", "Lượt bấm lặp lại", "Repeated presses", "count"),
    ("ratings_flagged", "Lượt bấm bị gắn cờ", "Flagged presses", "count"),
    ("ratings_unattributed", "Lượt bấm không gắn được số", "Unattributed presses", "count"),
)
# The table's columns in groups, as the reports page heads them: (Vietnamese, English, keys); "levels" stands for
# the count of each rating level. Within its group a column has a short header (Vietnamese, English).
COLUMN_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Lượt", "Tickets", ("tickets", "issued", "transferred_in", "called", "served", "no_show", "transferred",
                         "cancelled", "unserved", "abandoned", "active")),
    ("Thời gian chờ (phút)", "Waiting (min)", ("wait_avg_s", "wait_median_s", "wait_p90_s", "within_target")),
    ("Thời gian phục vụ (phút)", "Serving (min)", ("serve_avg_s", "serve_median_s", "serve_p90_s")),
    ("Đánh giá", "Ratings", ("levels", "rated_tickets", "satisfaction_rate", "ratings_repeat", "ratings_flagged",
                             "ratings_unattributed")),
)
SHORT_HEADERS = {
    "wait_avg_s": ("Trung bình", "Average"), "wait_median_s": ("Trung vị", "Median"), "wait_p90_s": ("P90", "P90"),
    "within_target": ("Đúng hạn (%)", "On target (%)"), "serve_avg_s": ("Trung bình", "Average"),
    "serve_median_s": ("Trung vị", "Median"), "serve_p90_s": ("P90", "P90"),
    "rated_tickets": ("Số phiếu", "Tickets"), "satisfaction_rate": ("Hài lòng (%)", "Satisfied (%)"),
    "ratings_repeat": ("Bấm lặp lại", "Repeated"), "ratings_flagged": ("Bị gắn cờ", "Flagged"),
    "ratings_unattributed": ("Không gắn được số", "Unattributed"),
}
GROUP_HEADERS = {"department": ("Sở, ngành", "Department"), "service": ("Dịch vụ", "Service"),
                 "counter": ("Quầy", "Counter"), "officer": ("Cán bộ", "Officer"), "hour": ("Giờ", "Hour"),
                 "day": ("Ngày", "Day"), "total": ("Toàn trung tâm", "Whole centre")}


# The days a report may cover. Outside them no centre has data, and day arithmetic near the calendar's end (year
# 9999) overflows: a date beyond is a clear ReportError (400), never a 500.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2999, 12, 31)


def _within_years(*days: date) -> None:
    for d in days:
        if not FIRST_DAY <= d <= LAST_DAY:
            raise ReportError(f"a report covers days from {FIRST_DAY} to {LAST_DAY}, not {d}",
                              f"báo cáo chỉ gồm các ngày từ {_vi(FIRST_DAY)} đến {_vi(LAST_DAY)}, không gồm ngày {_vi(d)}")


def _vi(d: date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"


def period(kind: str, on: date | str) -> tuple[str, str]:
    """(first, last) local day of the day, ISO week (Monday to Sunday) or month containing `on`, a day from
    FIRST_DAY to LAST_DAY (else a ReportError)."""
    try:
        d = date.fromisoformat(on) if isinstance(on, str) else on
    except ValueError:
        raise ReportError(f"date must be YYYY-MM-DD, got {on!r}", f"ngày phải viết YYYY-MM-DD, nhận được {on!r}") from None
    if kind in ("day", "week", "month"):  # another kind: the core names the periods
        _within_years(d)
    return report_math.period(kind, d)


def check_range(day_from: str, day_to: str) -> tuple[str, str]:
    """The range as ISO days: well formed, in order, at most three years, within FIRST_DAY to LAST_DAY."""
    day_from, day_to = report_math.check_range(day_from, day_to)
    _within_years(date.fromisoformat(day_from), date.fromisoformat(day_to))
    return day_from, day_to


# ================================================================== deriving days
def legs_version(tz_name: str) -> str:
    return f"{DEFINITIONS_VERSION}|{tz_name}"


def derive_day(store, day: str, tz: ZoneInfo) -> list[Leg]:
    """Every leg of the tickets of one local day, from the event log."""
    return report_rows.derive_day(store, day, tz)


def ratings_available(store) -> bool:
    return report_rows.ratings_available(store)


def _targets(config) -> dict[str, int]:
    return {sid: int(svc.target_wait_minutes * 60_000) for sid, (_, svc) in config.services().items()}


DEFAULT_TARGET_MS = 30 * 60_000  # a service no longer in config.yaml: the default target_wait_minutes


def days_to_derive(store, day_from: str, day_to: str) -> list[str]:
    """Days of the range with tickets or presses that are not derived as final under this definition, or whose
    presses changed since (a rating can arrive days late). Newest first."""
    return report_rows.days_to_derive(store, day_from, day_to, legs_version(store.config.centre.timezone))


def ensure_days(store, day_from: str, day_to: str, *, max_days: int | None = None,
                pause: Callable[[], None] | None = None) -> int:
    """Derive every day of the range that needs it (`days_to_derive`). Returns how many were derived.

    A day is final once it is before today and none of its tickets is still active: its events can no longer
    change. Each day is one short write transaction of the store; `pause` runs between days (the server passes
    a cooperative sleep).
    """
    days = days_to_derive(store, day_from, day_to)
    if max_days is not None:
        days = days[:max_days]
    version = legs_version(store.config.centre.timezone)
    today = store.today()
    has_ratings = ratings_available(store)
    targets = _targets(store.config)
    for day in days:
        report_rows.store_day(store, day, today=today, version=version, targets_ms=targets,
                              default_target_ms=DEFAULT_TARGET_MS, has_ratings=has_ratings)
        if pause is not None:
            pause()
    return len(days)


ensure_legs = ensure_days  # the older name


def warm(store, *, max_days: int = 3, pause: Callable[[], None] | None = None) -> int:
    """Derive a few finished days not derived yet (newest first): the server calls this in the background so a
    report over a long range finds its past days ready."""
    last = date.fromisoformat(store.today()) - timedelta(days=1)
    first = report_rows.first_day(store)
    if first is None or first > last.isoformat():
        return 0
    return ensure_days(store, first, last.isoformat(), max_days=max_days, pause=pause)


# ================================================================== the report
_DIM_OF = {"department": "service", "service": "service", "day": "service", "total": "service",
           "counter": "counter", "officer": "officer", "hour": "hour"}
_RATING_DIM_OF = {"department": "department", "service": "service", "day": "service", "total": "service",
                  "counter": "counter", "officer": "officer", "hour": "hour"}


class _Acc(Group):
    """A group of the report: its sums, its times (sorted before use), its presses."""

    def __init__(self):
        super().__init__()
        self.wait_lists: list | None = None  # the total: the groups' sorted lists instead of one list
        self.serve_lists: list | None = None
        self.levels: dict[int, int] = {}
        self.r = {"counted": 0, "positive": 0, "repeat": 0, "flagged": 0, "unattributed": 0, "tickets": 0}


def build_report(store, day_from: str, day_to: str, group_by: str = "service", *, derive: bool = True,
                 staff_names: Callable[[int], str] | None = None, lang: str = "vi",
                 pause: Callable[[], None] | None = None) -> dict:
    """The report of a range of local days, grouped one way. Derives the days it needs first (unless told not;
    `pause` runs between derived days, so a server keeps serving while a long range is derived)."""
    day_from, day_to = check_range(day_from, day_to)
    if group_by not in GROUPINGS:
        raise ReportError(f"group by one of {', '.join(GROUPINGS)}, not {group_by!r}",
                          f"chỉ nhóm theo {', '.join(GROUPINGS)}, không theo {group_by!r}")
    config = store.config
    if derive:
        ensure_days(store, day_from, day_to, pause=pause)
    svc_dept = {sid: d.id for sid, (d, _) in config.services().items()}

    # the whole centre is added up by service, then read across the services (no single list of every time)
    inner = "service" if group_by == "total" else group_by

    def group_of(day: str, key: str):
        if inner == "department":
            return svc_dept.get(key, f"?{key}")
        if inner == "day":
            return day
        if inner in ("counter", "officer") and key == "":
            return NOT_CALLED
        if inner in ("officer", "hour"):
            return int(key)
        return key

    groups: dict = {}
    dim = _DIM_OF[inner]
    col = "day" if inner == "day" else "key"
    for k, *counts in report_rows.group_sums(store, dim, col, day_from, day_to):
        g = group_of(k, k)
        acc = groups.get(g)
        if acc is None:
            acc = groups[g] = _Acc()
        acc.merge(counts, None, None)
    for k, waits, serves in report_rows.group_times(store, dim, col, day_from, day_to):
        acc = groups[group_of(k, k)]
        if waits is not None:
            acc.waits.frombytes(waits)
        if serves is not None:
            acc.serves.frombytes(serves)
    total = _Acc()
    for acc in groups.values():  # each group's times sorted once (the days' sorted runs merge quickly)
        acc.waits, acc.serves = sorted(acc.waits), sorted(acc.serves)
        total.merge(acc.counts, None, None)
    # the whole centre's times: the groups' sorted lists, read by selection (report_math.kth_of_sorted)
    total.wait_lists = [acc.waits for acc in groups.values() if acc.waits]
    total.serve_lists = [acc.serves for acc in groups.values() if acc.serves]

    positive = {lv.value for lv in config.rating.levels if lv.positive}
    for day, key, level, status, flagged, presses, tickets in report_rows.rating_groups(
            store, _RATING_DIM_OF[inner], day_from, day_to):
        if key == "" and inner != "day":
            g = NO_GROUP
        elif inner == "department":
            g = key
        else:
            g = group_of(day, key)
        acc = groups.get(g)
        if acc is None:
            acc = groups[g] = _Acc()
        for target in (acc, total):
            if status == "unattributed":
                target.r["unattributed"] += presses
            elif status == "repeat":
                target.r["repeat"] += presses
            elif status == "attributed" and flagged:
                target.r["flagged"] += presses
            elif status == "attributed":
                target.r["counted"] += presses
                target.r["positive"] += presses if level in positive else 0
                target.r["tickets"] += tickets  # one counted rating per ticket (migration 0003's unique index)
                target.levels[level] = target.levels.get(level, 0) + presses

    labels = _labels(config, group_by, staff_names, lang)
    order = _order(config, group_by)
    rows = [{"key": k, "label": labels(k), **_figures(groups[k], config)}
            for k in sorted(groups, key=lambda k: (order.get(k, 10_000), str(k)))]
    if group_by == "total":
        rows = [{"key": "all", "label": labels("all"), **_figures(total, config)}]
    return {
        "from": day_from, "to": day_to, "group_by": group_by,
        "group_header": GROUP_HEADERS[group_by][1 if lang == "en" else 0],
        "centre": config.centre.name, "timezone": config.centre.timezone,
        "generated_ms": store.now_ms(),
        "rating_levels": [{"value": lv.value, "label": lv.label, "label_en": lv.label_en, "positive": lv.positive}
                          for lv in config.rating.levels],
        "ratings_available": ratings_available(store),
        "columns": [{"key": k, "label": en if lang == "en" else vi, "kind": kind,
                     "short": SHORT_HEADERS.get(k, (vi, en))[1 if lang == "en" else 0]} for k, vi, en, kind in COLUMNS],
        "column_groups": [{"label": en if lang == "en" else vi, "keys": list(keys)} for vi, en, keys in COLUMN_GROUPS],
        "rows": rows, "total": {"key": "all", "label": GROUP_HEADERS["total"][1 if lang == "en" else 0],
                                **_figures(total, config)},
        "heatmap": _heatmap(report_rows.arrivals(store, day_from, day_to)),
    }


def _figures(acc: _Acc, config) -> dict:
    c = {k: acc.count(k) for k in COUNT_FIELDS}
    w = summary_of_sorted(acc.wait_lists if acc.wait_lists is not None else [acc.waits])
    s = summary_of_sorted(acc.serve_lists if acc.serve_lists is not None else [acc.serves])
    base = c["called"] + c["missed"]
    r = acc.r
    return {
        "tickets": c["tickets"], "issued": c["issued"], "transferred_in": c["transferred_in"], "called": c["called"],
        "served": c["served"], "no_show": c["no_show"], "transferred": c["transferred"], "cancelled": c["cancelled"],
        "unserved": c["unserved"], "abandoned": c["no_show"] + c["cancelled"] + c["unserved"], "active": c["active"],
        "wait_avg_s": w["avg_s"], "wait_median_s": w["median_s"], "wait_p90_s": w["p90_s"],
        "within_target": share(c["within"], base), "within_target_count": c["within"], "within_target_base": base,
        "serve_avg_s": s["avg_s"], "serve_median_s": s["median_s"], "serve_p90_s": s["p90_s"],
        "rating_levels": {str(lv.value): acc.levels.get(lv.value, 0) for lv in config.rating.levels},
        "ratings_counted": r["counted"], "rated_tickets": r["tickets"],
        "satisfaction_rate": share(r["positive"], r["counted"]),
        "ratings_repeat": r["repeat"], "ratings_flagged": r["flagged"], "ratings_unattributed": r["unattributed"],
    }


def _order(config, group_by: str) -> dict:
    if group_by == "department":
        return {d.id: i for i, d in enumerate(config.departments)}
    if group_by == "service":
        return {sid: i for i, sid in enumerate(config.services())}
    if group_by == "counter":
        return {c.id: c.number for c in config.counters}
    if group_by == "hour":
        return {h: h for h in range(24)}
    return {}


def _labels(config, group_by: str, staff_names, lang: str) -> Callable:
    en = lang == "en"
    depts = {d.id: (d.name_en if en and d.name_en else d.name) for d in config.departments}
    services = {sid: (s.name_en if en and s.name_en else s.name) for sid, (_, s) in config.services().items()}
    counters = {c.id: c.name or (f"Counter {c.number}" if en else f"Quầy {c.number}") for c in config.counters}
    none = "(not called)" if en else "(chưa được gọi)"
    unknown = "(unknown)" if en else "(không xác định)"

    def label(k) -> str:
        if k == NOT_CALLED:
            return none
        if k == NO_GROUP:
            return unknown
        if group_by == "department":
            return depts.get(k, str(k))
        if group_by == "service":
            return services.get(k, str(k))
        if group_by == "counter":
            return counters.get(k, f"{'Counter' if en else 'Quầy'} {k}")
        if group_by == "officer":
            return (staff_names(k) if staff_names else "") or f"#{k}"
        if group_by == "hour":
            return f"{int(k):02d}:00–{int(k) + 1:02d}:00"
        if group_by == "day":
            d = date.fromisoformat(k)
            return f"{d:%d/%m/%Y} ({(WEEKDAYS_EN if en else WEEKDAYS_VI)[d.weekday()]})"
        return "Whole centre" if en else "Toàn trung tâm"
    return label


def _heatmap(arrivals: dict[str, int]) -> dict:
    """Tickets issued by weekday and hour of arrival ('weekday:hour' -> issued), and the busiest cells."""
    counts = [[0] * 24 for _ in range(7)]
    for key, n in arrivals.items():
        wd, hour = (int(x) for x in key.split(":"))
        counts[wd][hour] = n
    hours = [h for h in range(24) if any(counts[wd][h] for wd in range(7))]
    cells = sorted(((counts[wd][h], wd, h) for wd in range(7) for h in range(24) if counts[wd][h]), reverse=True)[:5]
    return {"weekdays_vi": list(WEEKDAYS_VI), "weekdays_en": list(WEEKDAYS_EN), "counts": counts,
            "hours": list(range(min(hours), max(hours) + 1)) if hours else [],
            "by_hour": [sum(counts[wd][h] for wd in range(7)) for h in range(24)],
            "busiest": [{"weekday": wd, "hour": h, "issued": n} for n, wd, h in cells]}
