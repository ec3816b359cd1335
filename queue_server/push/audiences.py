"""Who sees what: the audiences, their rooms, and the one function from (event, audience) to a payload.

Audiences and their rooms:
  display      dept:<id> (dept:<id>+staff_name... for displays whose `show_extra` asks for more): codes,
               counters, services, departments, zones, and the voice of calls. No staff, no priority group.
  staff        counter:<id>: counter terminals, LED and keypad agents of one counter; also names.
  supervisors  supervisors: everything.
  phone        ticket:<id>: a phone following one ticket (joined with its secret token): that ticket's
               public view.
  kiosk        kiosks, kiosk:<id>: service states only (no ticket events).

The live path and the catch-up (a reconnect with last_seq) both ask `rooms_of` and `payload_for`, so a
reconnecting client gets what it would have got live. A display's payloads depend on the event row and
on what never changes in a ticket (id, code, number, priority and group) only, so its catch-up is exact.
"""
from __future__ import annotations

from dataclasses import dataclass

from queue_server.push.payloads import CALLS, CHANGE_OF, CounterUpdated, TicketCalled, TicketIssued, TicketUpdated

# the status a ticket has after an event of this type (a display's view is built from the event alone)
STATUS_AFTER = {"ticket.called": "called", "ticket.resumed": "called", "ticket.started": "serving",
                "ticket.finished": "done", "ticket.no_show": "no_show", "ticket.parked": "parked",
                "ticket.transferred": "waiting", "ticket.cancelled": "cancelled", "ticket.unserved": "unserved"}
# ticket changes a display hears: those that take a number off a counter
DISPLAY_CHANGES = ("ticket.finished", "ticket.no_show", "ticket.parked", "ticket.transferred", "ticket.unserved")


@dataclass(frozen=True)
class Audience:
    kind: str  # display | staff | supervisors | phone | kiosk
    extras: frozenset[str] = frozenset()  # displays: what devices.displays[].show_extra adds


STAFF = Audience("staff")
SUPERVISORS = Audience("supervisors")
PHONE = Audience("phone")
KIOSK = Audience("kiosk")


def ticket_room(ticket_id: int) -> str:
    return f"ticket:{ticket_id}"


def dept_room(dept: str | None, extras: frozenset[str] = frozenset()) -> str:
    return f"dept:{dept}" + "".join(f"+{x}" for x in sorted(extras))


class Rooms:
    """Rooms and audiences of the centre as configured."""

    def __init__(self, read):
        self.read = read

    @property
    def config(self):
        return self.read.config

    def dept_of_service(self, service_id: str | None) -> str | None:
        pair = self.config.services().get(service_id) if service_id else None
        return pair[0].id if pair else None

    def dept_of_counter(self, counter_id: str | None) -> str | None:
        try:
            return self.config.counter(counter_id).department if counter_id else None
        except KeyError:
            return None

    def display(self, display_id: str):
        return next((d for d in self.config.devices.displays if d.id == display_id), None)

    def display_departments(self, display_id: str) -> set[str] | None:
        disp = self.display(display_id)
        if disp is None:
            return None
        if disp.kind == "counter" and disp.counter:
            return {self.config.counter(disp.counter).department}
        depts = {d.id for d in self.config.departments}
        if disp.departments:
            depts &= set(disp.departments)
        if disp.zone:
            depts = {d.id for d in self.config.departments if d.zone == disp.zone and d.id in depts}
        return depts

    def display_audiences(self) -> list[Audience]:
        """The display audiences the configured displays make up: the public one, and one per `show_extra`."""
        out = {frozenset()} | {frozenset(d.show_extra) for d in self.config.devices.displays}
        return [Audience("display", x) for x in sorted(out, key=sorted)]

    def audience_of(self, room: str) -> Audience | None:
        kind, _, ident = room.partition(":")
        if kind == "display":
            disp = self.display(ident)
            return Audience("display", frozenset(disp.show_extra)) if disp else None
        return {"counter": STAFF, "ticket": PHONE, "supervisors": SUPERVISORS, "kiosk": KIOSK}.get(kind)

    def rooms_for(self, room: str) -> list[str]:
        """The Socket.IO rooms a client of `room` joins."""
        kind, _, ident = room.partition(":")
        if kind == "display":
            extras = frozenset(self.display(ident).show_extra) if self.display(ident) else frozenset()
            return [dept_room(d, extras) for d in sorted(self.display_departments(ident) or ())]
        if kind in ("counter", "ticket"):
            return [room]
        if kind == "kiosk":
            return ["kiosks", room]  # kiosk:<id>: print.status of that kiosk's slips only
        if kind == "printer":
            return [room]  # printer:<kiosk id>: the printer agent of that kiosk (ticket_printer.server.jobs)
        if kind == "supervisors":
            return ["supervisors"]
        return []

    # ------------------------------------------------------------ where an event goes, per audience
    def rooms_of(self, e: dict, audience: Audience) -> list[str]:
        """The rooms of `audience` that hear event `e` (a row of the event log)."""
        etype, data = e["type"], e["data"]
        kind = audience.kind
        if kind == "supervisors":
            return ["supervisors"] if etype == "ticket.issued" or etype in CALLS or etype in CHANGE_OF else []
        if kind == "display":
            if etype in CALLS or etype in DISPLAY_CHANGES:
                depts = (self.dept_of_service(e.get("service_id")), self.dept_of_counter(e.get("counter_id")),
                         self.dept_of_service(data.get("from_service")))
            elif etype == "counter.state":
                depts = (self.dept_of_counter(e.get("counter_id")),)
            else:
                return []
            return [dept_room(d, audience.extras) for d in dict.fromkeys(depts) if d]
        if kind == "staff":
            if etype in CALLS or etype in CHANGE_OF:
                return [f"counter:{c}" for c in dict.fromkeys((e.get("counter_id"), data.get("to_counter"))) if c]
            return []
        if kind == "phone":
            return [ticket_room(e["ticket_id"])] if e.get("ticket_id") and (etype in CALLS or etype in CHANGE_OF) else []
        return []


def payload_for(e: dict, audience: Audience, built):
    """The payload `audience` gets for event `e`, or None. `built` holds the write's views (push.views.Built)."""
    etype, data = e["type"], e["data"]
    read = built.read
    kind = audience.kind
    if etype == "counter.state" and kind == "display":
        staff_id = e.get("staff_id") if data.get("to") != "closed" else None
        return CounterUpdated(e["seq"], read.counter_on_display(e["counter_id"], data.get("to"), staff_id=staff_id,
                                                                extras=audience.extras))
    t = built.ticket(e.get("ticket_id"))
    if t is None:
        return None
    if kind == "display":
        if etype not in CALLS and etype not in DISPLAY_CHANGES:
            return None
        counter_id = data.get("to_counter") if etype == "ticket.transferred" else e.get("counter_id")
        ticket = read.ticket_on_display(t, status=STATUS_AFTER[etype], service_id=e.get("service_id") or t["service_id"],
                                        counter_id=counter_id, extras=audience.extras)
    elif kind == "phone":
        ticket = built.public_ticket(t["id"])
    elif kind in ("staff", "supervisors"):
        ticket = built.staff_ticket(t["id"])
    else:
        return None
    if etype == "ticket.issued":
        return TicketIssued(e["seq"], ticket) if kind == "supervisors" else None
    if etype in CALLS:
        recall = bool(data.get("recall"))
        call = read.call_view(e["seq"], e["ts_ms"], t["code"], e["counter_id"], e.get("service_id") or t["service_id"],
                              recall, voice=kind == "display")
        return TicketCalled(e["seq"], call, ticket, recall)
    if etype in CHANGE_OF:
        return TicketUpdated(e["seq"], CHANGE_OF[etype], ticket, data)
    return None
