"""One door for every action, from REST and from Socket.IO alike: who may do it, do it, push it.

Rules of who may act:
  anonymous   reads public data only (services, display feeds, a ticket's own status by its token)
  kiosk       issues walk-in tickets (priority ones too when priority.kiosk_self_service)
  display     reads its feed; agent: its device's feed and reports
  staff       acts at the counters assigned to them, once signed in there (open = sign in); issues
              priority tickets; cancels waiting tickets
  supervisor  all of staff at any counter, and opens/closes services, changes caps, reassigns counters
  admin       everything
"""
from __future__ import annotations

import logging

from queue_server.accounts import Principal
from queue_server.core.errors import DomainError
from queue_server.core.rules import UNSET
from queue_server.push.views import Built

COUNTER_OPS = ("next", "call", "recall", "no_show", "start", "finish", "transfer", "park", "resume",
               "open", "break", "close")
TICKET_OPS = ("recall", "no_show", "start", "finish", "transfer", "park", "resume")
log = logging.getLogger(__name__)


class Commands:
    def __init__(self, store, push, read, accounts):
        self.store = store
        self.push = push
        self.read = read
        self.accounts = accounts
        # Called after an issue has committed and been published: hook(principal, result, answer). The printing
        # of slips (ticket_printer.server.jobs) hooks in here; a hook may add to the answer, never undo the ticket.
        self.after_issue: list = []

    # ------------------------------------------------------------ permission checks
    @staticmethod
    def need_staff(p: Principal) -> None:
        if p.kind == "anonymous":
            raise DomainError("unauthenticated")
        if p.kind != "staff":
            raise DomainError("forbidden", reason="staff only")

    @staticmethod
    def need_supervisor(p: Principal) -> None:
        Commands.need_staff(p)
        if not p.is_supervisor:
            raise DomainError("forbidden", reason="supervisors only")

    def need_counter(self, p: Principal, counter_id: str, op: str) -> dict:
        counter = self.store.counter(counter_id)  # unknown counter -> 404 first
        self.need_staff(p)
        if p.is_supervisor:
            return counter
        if counter_id not in p.counters:
            raise DomainError("forbidden", reason=f"counter {counter['number']} is not assigned to you")
        if op == "open":
            if counter["state"] != "closed" and counter["staff_id"] not in (None, p.staff_id):
                raise DomainError("counter_taken", counter=counter["number"],
                                  staff=self.read.store_staff_name(counter["staff_id"]))
            return counter
        if counter["staff_id"] != p.staff_id:
            raise DomainError("not_signed_in", counter=counter["number"])
        return counter

    # ------------------------------------------------------------ doing
    def _done(self, result) -> Built:
        """Push what the write changed; the views built for the push serve the answer too."""
        if not result.repeated:
            return self.push.publish(result)
        return Built.of(self.read, result)

    def issue(self, p: Principal, service: str, priority: bool = False, priority_group: str | None = None, *,
              by_card: bool = False, dossier: str | None = None) -> dict:
        """`by_card`: the priority group was proven by a citizen ID card's date of birth (web/actions.py Issue).
        `dossier`: the dossier code the công dân showed, attached to the ticket (clean, core/dossiers.py)."""
        if p.kind == "anonymous":
            raise DomainError("unauthenticated")
        if p.kind == "device" and p.device_kind != "kiosk":
            raise DomainError("forbidden", reason="only kiosks and staff issue tickets")
        wants_priority = priority or priority_group is not None
        if wants_priority and p.kind != "staff" and not by_card and not self.store.config.priority.kiosk_self_service:
            raise DomainError("forbidden", reason="priority tickets are issued by staff")
        source = "staff" if p.kind == "staff" else "walk_in"
        if wants_priority:
            source = "priority"
        # The new ticket's estimate is the "one ticket more" of its service on the board made before the write
        # (the push tick makes it again afterwards): the write's request never replays the queue.
        wait = self.read.wait_for_new(service, wants_priority)
        result = self.store.issue(service, priority=wants_priority, priority_group=priority_group, source=source,
                                  staff_id=p.staff_id, actor=p.name, dossier=dossier)
        self._done(result)
        out = self.read.issued(result, wait)
        out["issued_by"] = p.device_id if p.kind == "device" else p.username
        for hook in self.after_issue:
            try:
                hook(p, result, out)
            except Exception:  # noqa: BLE001 - the ticket is committed; a failing hook must not lose it
                log.exception("after_issue hook failed for ticket %s", out.get("id"))
        return out

    def counter_op(self, p: Principal, counter_id: str, op: str, *, ticket: int | None = None, code: str | None = None,
                   service: str | None = None, to_counter: str | None = None, go_last: bool = False,
                   expect_current=UNSET) -> dict:
        if op not in COUNTER_OPS:
            raise DomainError("bad_request", detail=f"unknown action {op!r}")
        self.need_counter(p, counter_id, op)
        who = {"staff_id": p.staff_id, "actor": p.name}
        s = self.store
        if op == "next":
            result = s.call_next(counter_id, expect_current=expect_current, **who)
        elif op == "call":
            if not code:
                raise DomainError("bad_request", detail="code is required")
            result = s.call_code(counter_id, code, service_id=service, **who)
        elif op in ("open", "break", "close"):
            result = s.set_counter_state(counter_id, {"open": "open", "break": "break", "close": "closed"}[op], **who)
        else:
            if ticket is None:
                current = s.counter(counter_id)["current_ticket_id"]
                if current is None:
                    raise DomainError("bad_request", detail="ticket is required (the counter has no current ticket)")
                ticket = current
            if op == "transfer":
                result = s.transfer(ticket, counter_id, service_id=service, to_counter=to_counter, go_last=go_last, **who)
            else:
                result = getattr(s, op)(ticket, counter_id, **who)
        return self.op_answer(result, counter_id, self._done(result))

    def ticket_op(self, p: Principal, ticket_id: int, op: str, *, counter: str | None = None, **kw) -> dict:
        """A ticket action by ticket id: the counter is the one holding it unless named."""
        t = self.store.ticket(ticket_id)
        if op == "cancel":
            self.need_staff(p)
            if not p.is_supervisor:  # staff cancel the tickets of their counters' services; supervisors any
                known = self.store.config.counter_ids()
                mine = {sid for cid in p.counters if cid in known for sid in self.store.counter(cid)["services"]}
                if t["service_id"] not in mine:
                    raise DomainError("forbidden", reason="only tickets of your counters' services; ask a supervisor")
            result = self.store.cancel(ticket_id, staff_id=p.staff_id, actor=p.name)
            return self.op_answer(result, None, self._done(result))
        counter_id = counter or t["counter_id"] or t["target_counter_id"]
        if counter_id is None:
            self.need_staff(p)
            raise DomainError("bad_request", detail="counter is required: the ticket is not at a counter")
        return self.counter_op(p, counter_id, op, ticket=ticket_id, **kw)

    def op_answer(self, result, counter_id: str | None, built: Built | None = None) -> dict:
        """The answer to a counter or ticket action, from what the write returned (no read after COMMIT
        unless the write left the counter untouched)."""
        built = built or Built.of(self.read, result)
        t = result.ticket
        out = {"ticket": built.staff_ticket(t["id"]) if t else None, "repeated": result.repeated,
               "seq": max((e["seq"] for e in result.events), default=None)}
        if counter_id is not None:
            out["counter"] = built.staff_counter(counter_id)
        return out

    # ------------------------------------------------------------ supervision
    def set_service(self, p: Principal, service_id: str, *, state: str | None = None, cap: int | None | str = "keep") -> dict:
        self.need_supervisor(p)
        manual = {"open": "open", "closed": "closed", "auto": "auto", None: None}[state]
        result = self.store.set_service_state(service_id, manual=manual, cap_override=cap, staff_id=p.staff_id, actor=p.name)
        self._done(result)
        return next(s for s in self.read.services() if s["id"] == service_id)

    def assign_services(self, p: Principal, counter_id: str, services: list[str] | None) -> dict:
        self.need_supervisor(p)
        result = self.store.assign_services(counter_id, services, staff_id=p.staff_id, actor=p.name)
        return self._done(result).staff_counter(counter_id)
