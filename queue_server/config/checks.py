"""Rules that span several keys: duplicate ids, overlapping number ranges, references to unknown
departments, services, counters, printers, kiosks and agents, and devices sharing one bus."""
from __future__ import annotations

from queue_server.config.booking import booking_problems
from queue_server.config.centre import Numbering
from queue_server.config.devices import DevicesConfig, Keypad
from queue_server.config.model import CentreConfig


def cross_check(cfg: CentreConfig) -> list[tuple[tuple, str]]:
    """Rules that span several keys. Returns (loc, message) pairs."""
    problems: list[tuple[tuple, str]] = []

    def dupes(items, loc_prefix, what):
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            key = item if isinstance(item, str) else item.id
            if key in seen:
                problems.append(((*loc_prefix, i, "id"), f"duplicate {what} id {key!r} (also at index {seen[key]})"))
            seen.setdefault(key, i)

    dupes(cfg.departments, ("departments",), "department")
    all_services = [(di, si, s) for di, d in enumerate(cfg.departments) for si, s in enumerate(d.services)]
    seen_svc: dict[str, tuple] = {}
    for di, si, s in all_services:
        if s.id in seen_svc:
            problems.append((("departments", di, "services", si, "id"), f"duplicate service id {s.id!r}"))
        seen_svc.setdefault(s.id, (di, si))
    dupes(cfg.counters, ("counters",), "counter")
    dupes(cfg.priority.groups, ("priority", "groups"), "priority group")

    # Every service needs a range, its own or its department's; ranges must not overlap.
    ranges: list[tuple[tuple, str, Numbering]] = []
    for di, d in enumerate(cfg.departments):
        if d.numbering is not None:
            ranges.append((("departments", di, "numbering"), f"department {d.id}", d.numbering))
        for si, s in enumerate(d.services):
            if s.numbering is not None:
                ranges.append((("departments", di, "services", si, "numbering"), f"service {s.id}", s.numbering))
            elif d.numbering is None:
                problems.append((("departments", di, "services", si),
                                 f"service {s.id!r} has no numbering and neither has its department {d.id!r}"))
    for a in range(len(ranges)):
        for b in range(a + 1, len(ranges)):
            (la, na, ra), (lb, nb, rb) = ranges[a], ranges[b]
            if ra.prefix == rb.prefix and ra.start <= rb.end and rb.start <= ra.end:
                shown = f"{ra.prefix}{max(ra.start, rb.start)}-{ra.prefix}{min(ra.end, rb.end)}"
                problems.append((lb, f"number range of {nb} overlaps {na} ({shown})"))

    services = cfg.services()
    if cfg.dossiers.return_service is not None and cfg.dossiers.return_service not in services:
        problems.append((("dossiers", "return_service"), f"unknown service {cfg.dossiers.return_service!r}"))
    dept_ids = {d.id for d in cfg.departments}
    counter_ids = {c.id for c in cfg.counters}
    numbers: dict[int, str] = {}
    for ci, c in enumerate(cfg.counters):
        if c.department not in dept_ids:
            problems.append((("counters", ci, "department"), f"unknown department {c.department!r}"))
        for k, sid in enumerate(c.services):
            if sid not in services:
                problems.append((("counters", ci, "services", k), f"counter {c.id!r} names unknown service {sid!r}"))
        if len(set(c.services)) != len(c.services):
            problems.append((("counters", ci, "services"), "a service is listed twice"))
        for sid in c.weights:
            if sid not in c.services:
                problems.append((("counters", ci, "weights", sid), f"weight for {sid!r}, which this counter does not serve"))
        if c.number in numbers:
            problems.append((("counters", ci, "number"), f"counter number {c.number} is also used by counter {numbers[c.number]!r}"))
        numbers.setdefault(c.number, c.id)

    dev = cfg.devices
    printer_ids = {p.id for p in dev.printers}
    for name, items in (("printers", dev.printers), ("kiosks", dev.kiosks), ("displays", dev.displays),
                        ("led_boards", dev.led_boards), ("keypads", dev.keypads), ("agents", dev.agents)):
        dupes(items, ("devices", name), name[:-1].replace("_", " "))
    for i, k in enumerate(dev.kiosks):
        if k.printer is not None and k.printer not in printer_ids:
            problems.append((("devices", "kiosks", i, "printer"), f"unknown printer {k.printer!r}"))
        for j, d in enumerate(k.departments):
            if d not in dept_ids:
                problems.append((("devices", "kiosks", i, "departments", j), f"unknown department {d!r}"))
    for i, disp in enumerate(dev.displays):
        for j, d in enumerate(disp.departments):
            if d not in dept_ids:
                problems.append((("devices", "displays", i, "departments", j), f"unknown department {d!r}"))
        if disp.kind == "counter" and disp.counter not in counter_ids:
            problems.append((("devices", "displays", i, "counter"), f"counter display needs a known counter, got {disp.counter!r}"))
    zones = {d.zone for d in cfg.departments if d.zone}
    for i, disp in enumerate(dev.displays):
        if disp.zone and disp.zone not in zones:
            problems.append((("devices", "displays", i, "zone"), f"no department is in zone {disp.zone!r} (zones: {sorted(zones)})"))
    for ci, c in enumerate(cfg.counters):
        if c.zone and c.zone not in zones:
            problems.append((("counters", ci, "zone"), f"no department is in zone {c.zone!r} (zones: {sorted(zones)})"))
    buses: dict[str, tuple[int, object]] = {}
    places: dict[tuple, int] = {}
    agent_kinds = {a.id: a.kind for a in dev.agents}
    for i, b in enumerate(dev.led_boards):  # boards on one port share one RS485 bus, driven by one process
        first = buses.setdefault(b.port, (i, b))[1]
        if first is not b:
            for key in ("baudrate", "run_in", "agent"):
                if getattr(b, key) != getattr(first, key):
                    problems.append((("devices", "led_boards", i, key), f"boards on port {b.port!r} share one bus: "
                                     f"{key} must equal that of {first.id!r} ({getattr(first, key)!r})"))
        place = (b.port, b.unit_id, b.holding_register)
        if place in places:
            problems.append((("devices", "led_boards", i, "unit_id"), f"unit {b.unit_id} register {b.holding_register} "
                             f"on {b.port!r} is already used by board {dev.led_boards[places[place]].id!r}"))
        places.setdefault(place, i)
        if b.agent and agent_kinds.get(b.agent) not in ("led", "any"):
            problems.append((("devices", "led_boards", i, "agent"), f"no agent {b.agent!r} of kind led or any"))
    for name, items in (("led_boards", dev.led_boards), ("keypads", dev.keypads)):
        for i, item in enumerate(items):
            if item.counter not in counter_ids:
                problems.append((("devices", name, i, "counter"), f"unknown counter {item.counter!r}"))
    problems.extend(keypad_problems(dev))
    tokens: dict[str, str] = {}
    for name, items in (("kiosks", dev.kiosks), ("displays", dev.displays), ("agents", dev.agents)):
        for i, item in enumerate(items):
            if item.token:
                if item.token in tokens:
                    problems.append((("devices", name, i, "token"), f"token already used by {tokens[item.token]}"))
                tokens.setdefault(item.token, f"{name[:-1]} {item.id}")

    dupes(dev.dispensers, ("devices", "dispensers"), "dispenser")
    kiosk_ids = {k.id for k in dev.kiosks}
    agent_ids = {a.id for a in dev.agents}
    for i, disp in enumerate(dev.dispensers):
        if disp.kiosk not in kiosk_ids:
            problems.append((("devices", "dispensers", i, "kiosk"), f"unknown kiosk {disp.kiosk!r}"))
        for button, sid in disp.buttons.items():
            if sid not in services:
                problems.append((("devices", "dispensers", i, "buttons", button), f"unknown service {sid!r}"))
        if disp.agent is not None and disp.agent not in agent_ids:
            problems.append((("devices", "dispensers", i, "agent"), f"unknown agent {disp.agent!r}"))

    users: set[str] = set()
    for i, s in enumerate(cfg.staff):
        if s.username in users:
            problems.append((("staff", i, "username"), f"duplicate username {s.username!r}"))
        users.add(s.username)
        for j, c in enumerate(s.counters):
            if c not in counter_ids:
                problems.append((("staff", i, "counters", j), f"unknown counter {c!r}"))
    problems.extend(booking_problems(cfg))
    return problems


def keypad_problems(dev: DevicesConfig) -> list[tuple[tuple, str]]:
    """Keypads sharing a port (a bus) must read it the same way and be told apart by their ids."""
    problems: list[tuple[tuple, str]] = []
    agents = {a.id for a in dev.agents}
    by_port: dict[str, list[tuple[int, Keypad]]] = {}
    for i, k in enumerate(dev.keypads):
        if k.agent is not None and k.agent not in agents:
            problems.append((("devices", "keypads", i, "agent"), f"unknown agent {k.agent!r}"))
        if k.port == "page" and k.decoder != "keyboard":
            problems.append((("devices", "keypads", i, "port"), 'port "page" is for decoder keyboard (keys typed into the rating page)'))
        if k.port != "page":
            by_port.setdefault(k.port, []).append((i, k))
    for port, items in by_port.items():
        if len(items) < 2:
            continue
        first = items[0][1]
        seen: dict[str, str] = {}
        for i, k in items:
            same = (k.decoder, k.baudrate, k.pattern, k.frame, k.run_in, k.agent) == \
                   (first.decoder, first.baudrate, first.pattern, first.frame, first.run_in, first.agent)
            if not same:
                problems.append((("devices", "keypads", i, "port"),
                                 f"keypads sharing port {port} must have the same decoder, baudrate, pattern, frame, run_in and agent as {first.id}"))
            if not k.match_id():
                problems.append((("devices", "keypads", i, "device_id"),
                                 f"keypads sharing port {port} need a device_id (or address) each"))
            elif k.match_id() in seen:
                problems.append((("devices", "keypads", i, "device_id"),
                                 f"keypad id {k.match_id()!r} on port {port} is also used by {seen[k.match_id()]}"))
            seen.setdefault(k.match_id(), k.id)
    return problems
