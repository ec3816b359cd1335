"""Past one machine: two server processes on one database share live push through Redis."""
from __future__ import annotations

import pytest
import yaml

from server_util import KIOSK, RedisServer, ServerProcess, server_config
from server_util import Listener


@pytest.fixture
def redis_url(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server.url
    server.stop()


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_a_call_made_on_one_process_reaches_a_display_on_the_other(tmp_path, redis_url, mode):
    cfg_path = server_config(tmp_path)
    data = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
    data["server"]["message_queue"] = redis_url
    cfg_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    db = tmp_path / "shared.sqlite3"
    a = ServerProcess(cfg_path, db, mode).start()
    b = ServerProcess(cfg_path, db, mode).start()
    try:
        display_b = Listener(b.url, {"room": "display:hall-a"})
        display_b.wait_for(lambda e, d: e == "snapshot")
        t1 = a.post("/api/v1/tickets", {"service": "cccd"}, KIOSK).json()
        t2 = a.post("/api/v1/tickets", {"service": "cccd"}, KIOSK).json()
        phone_b = Listener(b.url, {"room": "ticket:" + t2["status_url"].rsplit("/", 1)[1]})
        phone_b.wait_for(lambda e, d: e == "snapshot")
        sup = a.login("super", "test-super")
        assert a.post("/api/v1/counters/1/open", headers=sup).status_code == 200
        r = a.post("/api/v1/counters/1/next", headers=sup)
        assert r.json()["ticket"]["code"] == t1["code"]
        call = display_b.wait_for(lambda e, d: e == "ticket.called", 3)[1]
        assert call["call"]["code"] == t1["code"]
        # process B sees A's change in the event log and updates its own phone's position
        phone_b.wait_for(lambda e, d: e == "queue.updated" and d["position"] and d["position"]["waiting_ahead"] == 0, 3)
        assert len([d for d in display_b.of("ticket.called") if d["call"]["code"] == t1["code"]]) == 1, "delivered once"
        # a ticket issued through B continues A's numbering: one store, one sequence
        t3 = b.post("/api/v1/tickets", {"service": "cccd"}, KIOSK).json()
        assert int(t3["code"]) == int(t2["code"]) + 1
    finally:
        a.stop()  # first: a client's disconnect from a gevent server waits seconds for the close handshake
        b.stop()
    display_b.close()
    phone_b.close()
