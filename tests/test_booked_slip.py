"""A booked ticket's slip says so, with its slot (issue 13 item 3): "ĐÃ ĐẶT LỊCH · khung giờ 09:30" in the
centre's local time, inside the paper; a walk-in's slip has no such line; the slip stays JSON-friendly for the
printer agent."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ticket_printer.shared.slip import CONTENT, MARGIN, SlipData, layout


def booked_lines(slip: SlipData) -> list:
    return [ln for ln in layout(slip).lines() if "LỊCH" in ln.text or "BOOKED" in ln.text]


def test_the_slip_of_a_booked_ticket_prints_its_slot(site):
    store = site.ctx.store
    tz = ZoneInfo(store.config.centre.timezone)
    slot = int(datetime.combine(store.local_now().date(), datetime.min.time().replace(hour=9, minute=30),
                                tzinfo=tz).timestamp() * 1000)
    booked = store.issue("cccd", source="online", slot_start_ms=slot).ticket
    walk_in = store.issue("cccd").ticket
    jobs = site.app.extensions["qms_printing"]

    vi = jobs.slip_for(booked, lang="vi", reprint=False, waiting_ahead=2, estimated=None)
    assert vi.booked_slot == "09:30"
    [line] = booked_lines(vi)
    assert line.text == "ĐÃ ĐẶT LỊCH · khung giờ 09:30"
    assert MARGIN <= line.box[0] and line.box[2] <= MARGIN + CONTENT  # inside the paper
    assert SlipData.from_dict(vi.to_dict()) == vi  # what the agent gets back

    en = jobs.slip_for(booked, lang="en", reprint=True, waiting_ahead=None, estimated=None)
    assert [ln.text for ln in booked_lines(en)] == ["BOOKED · slot 09:30"]

    plain = jobs.slip_for(walk_in, lang="vi", reprint=False, waiting_ahead=0, estimated=None)
    assert plain.booked_slot == "" and booked_lines(plain) == []
