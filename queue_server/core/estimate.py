"""The wait estimate a citizen is shown (kiosk answer, slip, status page, services list): pure, no I/O.

The time one ticket takes is the median, from call to finish, of the service's last tickets served today;
below `least` of them the configured services[].avg_service_minutes stands in. The wait is the people ahead
times that time, shared by the open counters serving the service (at least one)."""
from __future__ import annotations

RECENT_TICKETS = 20  # how many of the service's last served tickets the median is taken over
LEAST_TICKETS = 3  # fewer served today: the configured average is used
BOUNDS_MINUTES = (0.5, 480.0)  # a median outside is clipped (a ticket finished by mistake at once, or left all day)


def minutes_per_ticket(recent_service_ms: list[int], configured_minutes: float, least: int = LEAST_TICKETS) -> float:
    """Minutes one ticket takes: the median of the recent call-to-finish times, else the configured average."""
    if len(recent_service_ms) < least:
        return configured_minutes
    rows = sorted(recent_service_ms)
    mid = len(rows) // 2
    median_ms = rows[mid] if len(rows) % 2 else (rows[mid - 1] + rows[mid]) / 2
    low, high = BOUNDS_MINUTES
    return min(high, max(low, median_ms / 60_000))


def wait_minutes(ahead: int | None, per_ticket_minutes: float, open_counters: int) -> int | None:
    """Whole minutes until a ticket with `ahead` people before it is called (None: it is not waiting)."""
    if ahead is None:
        return None
    return round(ahead * per_ticket_minutes / max(1, open_counters))
