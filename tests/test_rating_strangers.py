"""Ratings from strangers on the centre's network (issue: hardening, item 3).

Outside a demo (rating.tablet_token_required defaults to `not centre.demo`) nobody without the counter's device
token reads which ticket a counter just finished or casts its rating: only the slip's secret (a phone) or the
counter display's / an agent's token rate. Ratings and reasons sent without a device token are limited per
client address (rating.anonymous_per_minute), with 429 and retry_after.
"""
from __future__ import annotations

import pytest
import yaml
from inproc import InProcessServer
from server_util import FIXTURES, server_config

from queue_server.config import parse_config

DISPLAY3 = {"Authorization": "Bearer test-display-counter-3"}


def centre(tmp_path, clock, **rating):
    path = server_config(tmp_path, now=clock())
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["devices"]["displays"].append({"id": "counter-3", "kind": "counter", "counter": "3",
                                        "token": "test-display-counter-3"})
    data["rating"].update({"low_reasons": ["Thời gian chờ lâu", "Khác"], **rating})
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return InProcessServer(path, tmp_path / "qms.sqlite3", clock)


@pytest.fixture
def strict(tmp_path, clock):
    srv = centre(tmp_path, clock)  # no tablet_token_required key, no centre.demo: a real centre's default
    yield srv
    srv.close()


def finish_one(srv) -> dict:
    """A ticket issued at the kiosk (with its slip secret), called and finished at counter 3."""
    staff = srv.login("canbo3", "test-staff")
    srv.post("/api/v1/counters/3/open", None, staff)
    t = srv.post("/api/v1/tickets", {"service": "civil"}, staff).json()
    assert srv.post("/api/v1/counters/3/next", None, staff).status_code == 200
    assert srv.post(f"/api/v1/tickets/{t['id']}/finish", None, staff).status_code == 200
    return t


def test_the_default_follows_centre_demo():
    data = yaml.safe_load((FIXTURES / "centre.yaml").read_text(encoding="utf-8"))

    def required():
        return parse_config(yaml.safe_dump(data, allow_unicode=True)).rating_token_required()

    assert required() is True
    data["centre"]["demo"] = True
    assert required() is False
    data["rating"]["tablet_token_required"] = True
    assert required() is True


def test_a_stranger_neither_reads_nor_casts_the_rating_of_the_ticket_just_finished(strict):
    t = finish_one(strict)
    # reading what to rate: the ticket just finished is not announced to the network
    r = strict.get("/api/v1/rate/3")
    assert r.status_code == 401 and r.json()["error"] == "unauthenticated"
    assert strict.get("/api/v1/rate/3", DISPLAY3).json()["target"]["ticket"] == t["id"]
    # casting it: refused, and nothing is stored
    body = {"id": "stranger-0001", "counter": "3", "ticket": t["id"], "level": 1}
    r = strict.post("/api/v1/ratings", body)
    assert r.status_code == 401 and r.json()["error"] == "unauthenticated"
    assert strict.ctx.store.conn.execute("SELECT COUNT(*) FROM ratings").fetchone()[0] == 0
    # the citizen's own press, from the counter's tablet, is the counted one
    r = strict.post("/api/v1/ratings", {**body, "id": "tablet-00001", "level": 3}, DISPLAY3)
    assert r.status_code == 201 and r.json()["rating"]["status"] == "attributed"


def test_the_slip_rates_its_own_ticket_and_gives_its_reason_but_no_other(strict):
    t = finish_one(strict)
    assert strict.get(f"/api/v1/rate/3?ticket={t['token']}").json()["target"]["ticket"] == t["id"]
    r = strict.post("/api/v1/ratings", {"id": "slip-000001", "counter": "3", "ticket_token": t["token"], "level": 1})
    assert r.status_code == 201 and r.json()["rating"]["status"] == "attributed"
    other = finish_one(strict)
    assert strict.post("/api/v1/ratings/slip-000001/reason", {"reason": "Khác"}).status_code == 401
    r = strict.post("/api/v1/ratings/slip-000001/reason", {"reason": "Khác", "ticket_token": other["token"]})
    assert r.status_code == 401
    r = strict.post("/api/v1/ratings/slip-000001/reason", {"reason": "Khác", "ticket_token": t["token"]})
    assert r.status_code == 200 and r.json()["rating"]["reason"] == "Khác"


def test_anonymous_ratings_are_limited_per_address_then_429_with_retry_after(tmp_path, clock):
    srv = centre(tmp_path, clock, tablet_token_required=False, anonymous_per_minute=3, window_seconds=300)
    try:
        t = finish_one(srv)

        def post(n, address):
            return srv.http.post("/api/v1/ratings", json={"id": f"page-{n:06d}", "counter": "3", "ticket": t["id"],
                                                          "level": 2}, environ_base={"REMOTE_ADDR": address})

        assert [post(i, "10.0.0.7").status_code for i in range(3)] == [201, 201, 201]
        r = post(3, "10.0.0.7")
        assert r.status_code == 429 and r.json["error"] == "too_many_ratings"
        assert 1 <= r.json["retry_after"] <= 60 and r.headers["Retry-After"] == str(r.json["retry_after"])
        assert srv.ctx.store.conn.execute("SELECT COUNT(*) FROM ratings").fetchone()[0] == 3
        assert post(4, "10.0.0.8").status_code == 201  # another address has its own allowance
        assert srv.post("/api/v1/ratings", {"id": "tablet-00009", "counter": "3", "ticket": t["id"], "level": 2},
                        DISPLAY3).status_code == 201  # a device token is not limited
        clock.advance(61)
        assert post(5, "10.0.0.7").status_code == 201  # the window slid on
    finally:
        srv.close()
