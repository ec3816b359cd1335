"""The estimate through the server, in process: the kiosk's answer, a ticket's public status, the services list
and a phone's live place all carry the same honest state, and it changes when a counter opens (issue 12 item 4)."""
from __future__ import annotations

import json

KIOSK = {"Authorization": "Bearer test-kiosk-token-1"}


def test_a_phone_follows_the_honest_state_live(site, sio):
    first = site.post("/api/v1/tickets", {"service": "cccd"}, KIOSK).json()
    mine = site.post("/api/v1/tickets", {"service": "cccd"}, KIOSK).json()
    assert mine["wait"]["state"] == "no_counter" and mine["estimated_wait_minutes"] is None
    assert mine["waiting_ahead"] == 1
    from queue_server.store import print_jobs  # kiosk-1 prints: the slip carries the same sentence

    slip = json.loads(print_jobs.of_ticket(site.ctx.store, mine["id"])[0]["slip"])
    assert slip["wait_text"] == "Chưa có quầy nào mở cho dịch vụ này" and slip["estimated_wait_minutes"] is None
    status = site.get(f"/api/v1/tickets/{mine['id']}").json()
    assert status["wait"] == mine["wait"] and status["waiting_ahead"] == 1
    listed = next(s for s in site.get("/api/v1/services").json()["services"] if s["id"] == "cccd")
    assert listed["wait"]["state"] == "no_counter" and listed["wait"]["short"]["vi"] == "Chưa có quầy nào mở"

    phone = sio({"room": "ticket:" + mine["token"]})
    assert phone.connected
    staff = site.login("canbo1", "test-staff")
    assert site.post("/api/v1/counters/1/open", None, staff).status_code == 200
    _, msg, _ = phone.wait_for(lambda e, d: e == "queue.updated" and d.get("position")
                               and (d["position"].get("wait") or {}).get("state") == "estimate")
    assert msg["position"]["waiting_ahead"] == 1 and msg["position"]["wait"]["ahead"] == 1
    assert msg["position"]["wait"]["text"]["vi"].startswith("Thời gian chờ dự kiến: khoảng ")
    r = site.post("/api/v1/counters/1/next", {"current": None}, staff)
    assert r.json()["ticket"]["id"] == first["id"]
    site.tick()  # the push tick makes the estimates again (never the write's request)
    status = site.get(f"/api/v1/tickets/{mine['id']}").json()  # phones get it on the next tick (a second later)
    assert status["waiting_ahead"] == 0 and status["wait"]["state"] == "next"
    assert status["wait"]["text"]["en"].startswith("You are next")


def test_the_counter_sees_the_estimate_beside_its_services(site, sio):
    """queue.updated to the counter room carries, per service, the estimate for one ticket more (the terminal
    shows its short text beside the service)."""
    staff = site.login("canbo1", "test-staff")
    assert site.post("/api/v1/counters/1/open", None, staff).status_code == 200
    counter = sio({"room": "counter:1", "token": staff["Authorization"][7:]})
    assert counter.connected
    for _ in range(3):
        site.post("/api/v1/tickets", {"service": "cccd"}, KIOSK)
    _, msg, _ = counter.wait_for(lambda e, d: e == "queue.updated" and "cccd" in d.get("services", {}))
    wait = msg["services"]["cccd"]["wait"]
    assert wait["state"] == "estimate" and wait["low"] < wait["high"]
    assert wait["short"]["vi"] == f"Chờ khoảng {wait['low']}–{wait['high']} phút"
    passport = msg["services"].get("passport")
    assert passport is None or passport["wait"]["state"] in ("next", "estimate")
