"""How far the wait estimates held (issue 14): each ticket's estimate at issue against its real wait, per service
and ISO week. Pure figures over plain rows; the rows come from store/wait_estimates.py."""
from __future__ import annotations

import statistics
from datetime import date

WITHIN_MINUTES = 5  # "within ±5 min"
WITHIN_SHARE = 0.25  # "within ±25 %"


def figures(rows: list[dict]) -> dict:
    """rows: {minutes (the median shown), low, high (the range shown, may be None), waited (real minutes)}."""
    done = [r for r in rows if r["waited"] is not None]
    errors = [r["minutes"] - r["waited"] for r in done]
    ranged = [r for r in done if r["low"] is not None and r["high"] is not None]

    def share(k: int, n: int) -> float | None:
        return round(k / n, 4) if n else None

    return {
        "estimates": len(rows), "called": len(done),
        "mae_min": round(statistics.fmean(abs(e) for e in errors), 2) if errors else None,
        "median_abs_min": round(statistics.median(abs(e) for e in errors), 2) if errors else None,
        "within_5_min": share(sum(abs(e) <= WITHIN_MINUTES for e in errors), len(errors)),
        "within_25_pct": share(sum(abs(e) <= WITHIN_SHARE * r["waited"] for e, r in zip(errors, done)), len(errors)),
        "in_range": share(sum(r["low"] <= r["waited"] <= r["high"] for r in ranged), len(ranged)),
        "too_short": share(sum(e < 0 for e in errors), len(errors)),
    }


def week_of(day: str) -> str:
    """The ISO week of a local day, as 2026-W48."""
    y, w, _ = date.fromisoformat(day).isocalendar()
    return f"{y}-W{w:02d}"


def by_service_week(rows: list[dict]) -> dict:
    """rows also carry day and service_id: the figures of each (week, service), newest week first, and overall."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((week_of(r["day"]), r["service_id"]), []).append(r)
    out = [{"week": week, "service": sid, **figures(rs)}
           for (week, sid), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1]))]
    out.sort(key=lambda x: x["week"], reverse=True)
    return {"rows": out, "total": figures(rows)}
