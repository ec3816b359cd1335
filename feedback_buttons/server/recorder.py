"""Storing ratings: one short write transaction per rating (the ratings row and its `rating.recorded` event),
then a push to the counter's room and the supervisors. The rules are in queue_server/core/rating.py; this module only loads
what they need and writes what they decide, through queue_server/store/ratings.py.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from queue_server.core.errors import DomainError
from queue_server.push import RatingRecorded
from queue_server.read_models import iso_local
from queue_server.store import ratings as rating_rows

from queue_server.core import rating as R

MAX_AGE_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True)
class RatingIn:
    """One press as delivered: by a keypad agent (keypad), the in-server reader, or the rating page."""

    id: str
    counter: str
    source: str  # keypad:<id> | tablet:<counter>
    button: str | None = None
    level: int | None = None
    age_ms: int = 0
    ticket: int | None = None  # the rating page names the ticket it was armed for
    anonymous: bool = False  # the public rating page without a token: stricter rules
    actor: str | None = None


class RatingRecorder:
    def __init__(self, store, push=None):
        self.store = store
        self.push = push

    @property
    def config(self):
        return self.store.config

    # ------------------------------------------------------------ helpers
    def thresholds(self) -> R.Thresholds:
        rc = self.config.rating
        return R.Thresholds(window_ms=rc.window_seconds * 1000, near_finish_ms=int(rc.flags.near_finish_seconds * 1000),
                            presses_per_ticket=rc.flags.presses_per_ticket)

    def level_of(self, button: str | None, level: int | None) -> int:
        rc = self.config.rating
        got = R.level_for(rc.buttons, [lv.value for lv in rc.levels], button=button, level=level)
        if got is None:
            if level is not None:
                raise DomainError("rating_level_unknown", level=level)
            raise DomainError("rating_button_unknown", button=button)
        return got

    def keypad(self, keypad_id: str):
        for k in self.config.devices.keypads:
            if k.id == keypad_id:
                return k
        raise DomainError("keypad_unknown", keypad=keypad_id)

    # ------------------------------------------------------------ recording
    def record(self, rin: RatingIn) -> tuple[dict, bool]:
        """Store one rating. Returns (its view, created); a known id returns the stored rating unchanged."""
        cfg = self.config
        try:
            counter = cfg.counter(rin.counter)
        except KeyError:
            raise DomainError("counter_unknown", counter=rin.counter) from None
        if not 0 <= rin.age_ms <= MAX_AGE_MS:
            raise DomainError("bad_request", detail=f"age_ms must be 0-{MAX_AGE_MS}")
        if rin.anonymous and rin.age_ms > cfg.rating.window_seconds * 1000:
            raise DomainError("bad_request", detail="age_ms is longer than the rating window")
        level = self.level_of(rin.button, rin.level)
        t = self.thresholds()

        def decide(pressed: int, cands: list[R.Candidate]) -> R.Decision:
            if rin.ticket is not None:
                decision = R.attribute_to(rin.ticket, pressed, cands, t)
                if decision is None:
                    raise DomainError("nothing_to_rate", counter=counter.number)
            else:
                decision = R.attribute(pressed, cands, t)
            if rin.anonymous and decision.status == R.UNATTRIBUTED:
                raise DomainError("nothing_to_rate", counter=counter.number)
            return decision

        press = rating_rows.Press(rin.id, counter.id, level, rin.button, rin.source, rin.age_ms, rin.actor,
                                  R.delivery_flags(rin.age_ms))
        row, created, seq = rating_rows.record(self.store, press, window_ms=t.window_ms, decide=decide,
                                               max_presses=cfg.rating.flags.max_presses_recorded)
        view = self.view(row)
        if created and self.push is not None:
            self.push.send_rating(RatingRecorded(seq, view), counter.id)
        return view, created

    def set_reason(self, rating_id: str, reason: str, *, anonymous: bool, actor: str | None) -> dict:
        """The reason a citizen gives for a low rating, once, shortly after the rating."""
        cfg = self.config
        if reason not in cfg.rating.low_reasons:
            raise DomainError("rating_reason_refused", reason="not one of rating.low_reasons")
        positive = {lv.value for lv in cfg.rating.levels if lv.positive}

        def check(row: dict, now: int) -> None:
            refused = R.reason_refusal(level=row["level"], recorded_reason=row["reason"], source=row["source"],
                                       received_ms=row["received_ms"], now_ms=now, positive_levels=positive,
                                       window_ms=cfg.rating.window_seconds * 1000, anonymous=anonymous)
            if refused is not None:
                raise DomainError(refused[0], reason=refused[1])

        return self.view(rating_rows.set_reason(self.store, rating_id, reason, actor=actor, check=check))

    # ------------------------------------------------------------ reads
    def ticket_of_rating(self, rating_id: str) -> int | None:
        row = rating_rows.get(self.store, rating_id)
        return row["ticket_id"] if row is not None else None

    def view(self, r: dict) -> dict:
        cfg = self.config
        levels = {lv.value: lv for lv in cfg.rating.levels}
        lv = levels.get(r["level"])
        code = None
        if r["ticket_id"] is not None:
            code = rating_rows.ticket_code(self.store, r["ticket_id"])
        try:
            c = cfg.counter(r["counter_id"])
            counter = {"id": c.id, "number": c.number, "name": c.name or f"Quầy {c.number}"}
        except KeyError:
            counter = {"id": r["counter_id"], "number": None, "name": r["counter_id"]}
        flags = r["flags"] if isinstance(r["flags"], list) else json.loads(r["flags"])
        return {"id": r["id"], "ticket": r["ticket_id"], "code": code, "counter": counter, "staff_id": r["staff_id"],
                "service": r["service_id"], "department": r["department_id"], "level": r["level"],
                "label": lv.label if lv else str(r["level"]), "label_en": (lv.label_en if lv else "") or "",
                "positive": bool(lv and lv.positive), "button": r["button"], "status": r["status"], "flags": flags,
                "source": r["source"], "reason": r["reason"], "pressed_ms": r["pressed_ms"],
                "received_ms": r["received_ms"], "pressed_at": iso_local(r["pressed_ms"], cfg), "day": r["day"]}

    def of_ticket(self, ticket_id: int) -> dict:
        self.store.ticket(ticket_id)  # ticket_unknown
        rows = rating_rows.of_ticket(self.store, ticket_id)
        counted = next((r for r in rows if r["status"] == R.ATTRIBUTED), None)
        return {"ticket": ticket_id, "rating": self.view(counted) if counted else None,
                "repeats": sum(r["status"] == R.REPEAT for r in rows), "presses": len(rows)}

    def day(self, day: str) -> dict:
        cfg = self.config
        rows = rating_rows.of_day(self.store, day)
        for r in rows:
            r["flags"] = json.loads(r["flags"])
        finished = rating_rows.finished_by_counter(self.store, day)
        fr = cfg.rating.flags
        summary = R.summarize(rows, positive_levels={lv.value for lv in cfg.rating.levels if lv.positive},
                              finished=finished, keypads=[(k.id, k.counter) for k in cfg.devices.keypads],
                              rules=R.FlagRules(fr.near_finish_share, fr.min_ratings, fr.presses_per_ticket,
                                                fr.silent_keypad_tickets))
        return {"day": day, "ratings": [self.view(r) for r in rows], "summary": summary}

    def target(self, counter_id: str, ticket_token: str | None = None) -> dict:
        """What the rating page of a counter may rate now: the ticket it finished last, within the window
        (or, for a phone holding the slip, that ticket if this counter finished it within the window)."""
        cfg = self.config
        try:
            c = cfg.counter(counter_id)
        except KeyError:
            raise DomainError("counter_unknown", counter=counter_id) from None
        now = self.store.now_ms()
        window = cfg.rating.window_seconds * 1000
        row = rating_rows.last_finished(self.store, c.id, now - window, ticket_token)
        target = None
        if row is not None:
            target = {"ticket": row["id"], "code": row["code"], "finished_ms": row["finished_ms"],
                      "expires_in_ms": max(0, row["finished_ms"] + window - now), "rated": bool(row["rated"])}
        return {"counter": {"id": c.id, "number": c.number, "name": c.name or f"Quầy {c.number}"}, "now_ms": now,
                "target": target}
