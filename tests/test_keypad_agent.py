"""The keypad agent through real serial ports (pty pairs opened with pyserial) and a real server: every decoder
end to end, frames split across writes, noise, unplug and replug with backoff, and the server down then up
with the buffered ratings delivered once."""
from __future__ import annotations

import json
import random
import time

import pytest
import requests

from feedback_buttons.agent.keypads import KeypadAgent, KeypadSpec, PortState, classify
from feedback_buttons.agent.decoders import key_event, qms_frame, rs485_frame
from device_kit import Backoff
from feedback_buttons.agent.delivery import BOOT_ID, HttpTransport, Outbox, age_ms, http_status_sender, new_rating
from keypad_util import FakeKeypad, keypad_config, wait_until
from server_util import ServerProcess, free_port

TOKEN = "test-agent-token-1"
AGENT = {"Authorization": f"Bearer {TOKEN}"}


# ------------------------------------------------------------------ pure parts
def test_backoff_is_capped_randomised_and_resets():
    b = Backoff(0.5, 4.0, jitter=0.5, rng=random.Random(1).random)  # as the agent's readers and delivery use it
    delays = [b.next_delay() for _ in range(8)]
    highs = [0.5, 1, 2, 4, 4, 4, 4, 4]
    assert all(h / 2 <= d <= h for d, h in zip(delays, highs)), delays
    assert len({round(d, 6) for d in delays[3:]}) == 5  # randomised, not in step
    b.reset()
    assert b.next_delay() <= 0.5
    with pytest.raises(ValueError):
        Backoff(0, 1)


def test_outbox_keeps_pending_ratings_across_restarts_and_torn_lines(tmp_path):
    box = Outbox(tmp_path)
    a, b, c = (new_rating("kp", button="1", level=None, seq=None) for _ in range(3))
    for r in (a, b, c):
        box.add(r)
    box.done(a["id"], "delivered")
    with open(box.path, "a") as f:
        f.write('{"add": {"id": "half')  # a crash in the middle of a write
    again = Outbox(tmp_path)
    assert [r["id"] for r in again.pending.values()] == [b["id"], c["id"]]
    assert again.first()["id"] == b["id"]
    assert len(box.path.read_text().splitlines()) == 2  # compacted on start


def test_age_uses_the_monotonic_clock_within_a_boot_and_the_wall_clock_after():
    rec = {"pressed_mono": 100.0, "pressed_wall_ms": 5_000, "boot": BOOT_ID}
    assert age_ms(rec, now_mono=102.5, now_wall_ms=999_999_999) == 2500  # the wall clock jumped: ignored
    assert age_ms({**rec, "boot": "another-boot"}, now_mono=1.0, now_wall_ms=9_000) == 4000
    assert age_ms({**rec, "boot": "another-boot"}, now_wall_ms=1_000) == 0  # clock set back: never negative


@pytest.mark.parametrize("exc,state", [
    (OSError(2, "No such file or directory"), PortState.MISSING),
    (OSError(13, "Permission denied"), PortState.ERROR),
    (Exception("device reports readiness to read but returned no data (device disconnected?)"), PortState.MISSING),
    (Exception("could not open port /dev/ttyUSB0: [Errno 2] No such file or directory"), PortState.MISSING),
    (Exception("could not open port /dev/ttyUSB0: [Errno 16] Device or resource busy"), PortState.ERROR),
])
def test_port_failures_are_classified(exc, state):
    assert classify(exc) is state


# ------------------------------------------------------------------ a real server and agents on ptys
KEYPADS = [
    {"id": "kp-qms", "counter": "6", "decoder": "qms-line", "device_id": "K06", "debounce_ms": 0},
    {"id": "kp-ascii", "counter": "7", "decoder": "ascii-line", "device_id": "K07", "debounce_ms": 400},
    {"id": "kp-bus3", "counter": "8", "decoder": "rs485-frame", "address": 3, "debounce_ms": 0},
    {"id": "kp-bus7", "counter": "9", "decoder": "rs485-frame", "address": 7, "debounce_ms": 0},
    {"id": "kp-key", "counter": "10", "decoder": "keyboard", "debounce_ms": 0},
]
PORTS = {"kp-qms": "tty-qms", "kp-ascii": "tty-ascii", "kp-bus3": "tty-bus", "kp-bus7": "tty-bus", "kp-key": "tty-key"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("keypads")
    keypads = [{**k, "port": str(tmp / PORTS[k["id"]])} for k in KEYPADS]
    server = ServerProcess(keypad_config(tmp, keypads), tmp / "qms.sqlite3", "eventlet").start()
    yield {"tmp": tmp, "server": server, "sup": server.login("super", "test-super")}
    server.stop()


@pytest.fixture
def make_agent(world, tmp_path):
    made = []

    def make(*ids: str, server_url: str | None = None, outbox=None, wall_ms=None, specs=None, clock=time.monotonic):
        url = server_url or world["server"].url
        if specs is None:
            listed = requests.get(world["server"].url + "/api/v1/keypads", headers=AGENT, timeout=5).json()
            specs = [KeypadSpec.from_dict(k) for k in listed["keypads"] if k["id"] in ids]
        agent = KeypadAgent(specs, buttons={"1": 3, "2": 2, "3": 1}, level_values=[3, 2, 1],
                            transport=HttpTransport(url, TOKEN), status_send=http_status_sender(url, TOKEN),
                            outbox_dir=outbox or tmp_path / f"outbox-{len(made)}", agent_id="agent-1",
                            backoff_first=0.1, backoff_max=0.5, read_timeout=0.05, refresh_seconds=0.5,
                            wall_ms=wall_ms, clock=clock)
        agent.start()
        made.append(agent)
        return agent

    yield make
    for a in made:
        a.stop()


@pytest.fixture
def keypads(world):
    made = {}

    def get(name: str) -> FakeKeypad:
        if name not in made:
            made[name] = FakeKeypad(world["tmp"] / name)
        return made[name]

    yield get
    for k in made.values():
        k.close()


def reader(agent, port_name):
    return next(r for r in agent.readers if r.port.endswith(port_name))


def connected(agent, port_name):
    wait_until(lambda: reader(agent, port_name).state == PortState.CONNECTED, 5, what=f"{port_name} open")


def ratings_of(world, keypad_id: str) -> list[dict]:
    rows = world["server"].get("/api/v1/ratings", world["sup"]).json()["ratings"]
    return [r for r in rows if r["source"] == f"keypad:{keypad_id}"]


def delivered(agent):
    wait_until(lambda: len(agent.outbox) == 0, 10, what="the outbox emptied")


def test_qms_line_split_frames_noise_and_retransmissions(world, make_agent, keypads):
    kp = keypads("tty-qms")
    agent = make_agent("kp-qms")
    connected(agent, "tty-qms")
    f1, f2, f3 = (qms_frame("P", "K06", s, v) for s, v in ((1, "B1"), (2, "B2"), (3, "L1")))
    kp.write(b"\x07\xfe line noise\r\n" + f1, chunk=3, pause=0.01)  # noise, then a frame in 3-byte pieces
    assert kp.read(3, until=qms_frame("A", "K06", 1)).endswith(qms_frame("A", "K06", 1))
    kp.write(f1)  # our ack was lost: the keypad repeats the frame
    assert qms_frame("A", "K06", 1) in kp.read(3, until=qms_frame("A", "K06", 1))
    kp.write(qms_frame("H", "K06", 2)[:-2])
    kp.write(b"\r\n" + f2[:5])
    kp.write(f2[5:] + f3.replace(b"*", b"#") + qms_frame("P", "K99", 9, "B1") + f1.replace(b"B1", b"B2"))
    kp.write(qms_frame("P", "K06", 4, "B7") + f3)  # button 7 maps to nothing; then level 1
    kp.read(3, until=qms_frame("A", "K06", 3))
    delivered(agent)
    got = wait_until(lambda: (lambda r: r if len(r) == 3 else None)(ratings_of(world, "kp-qms")), 5, what="3 ratings")
    assert sorted(r["level"] for r in got) == [1, 2, 3] and all(r["counter"]["id"] == "6" for r in got)
    stats = reader(agent, "tty-qms").stats
    assert stats["presses"] == 3 and stats["heartbeats"] == 1
    assert stats["dropped"] == {"garbage": 1, "duplicate": 1, "malformed": 1, "unknown_device": 1, "checksum": 1,
                                "out_of_range": 1}


class Monotonic:
    """The agent's monotonic clock, moved by the test: the 400 ms debounce is measured on it, not on sleeps."""

    def __init__(self):
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


def test_ascii_line_keypad_with_bounce(world, make_agent, keypads):
    kp = keypads("tty-ascii")
    clock = Monotonic()
    agent = make_agent("kp-ascii", clock=clock)
    connected(agent, "tty-ascii")
    kp.write(b"K07,1\r\nK07,1\r\n")  # contact bounce: the same button twice at once
    kp.write(b"garbage\r\nK0", pause=0.05)
    kp.write(b"7,3\r\nK08,2\r\nK07,9\r\n")
    r = reader(agent, "tty-ascii")
    wait_until(lambda: r.stats["presses"] == 2 and sum(r.stats["dropped"].values()) == 4, 5, what="the first lines")
    clock.now += 0.399  # still within the 400 ms debounce: the same press
    kp.write(b"K07,1\r\n")
    wait_until(lambda: r.stats["dropped"].get("bounce") == 2, 5, what="a second bounce")
    clock.now += 0.101  # 500 ms after the first press: a real second press
    kp.write(b"K07,1\r\n")
    wait_until(lambda: reader(agent, "tty-ascii").stats["presses"] == 3, 5, what="3 presses")
    delivered(agent)
    assert sorted(r["level"] for r in ratings_of(world, "kp-ascii")) == [1, 3, 3]
    assert reader(agent, "tty-ascii").stats["dropped"] == {"bounce": 2, "garbage": 1, "unknown_device": 1,
                                                          "out_of_range": 1}


def test_rs485_bus_with_two_keypads(world, make_agent, keypads):
    kp = keypads("tty-bus")
    agent = make_agent("kp-bus3", "kp-bus7")
    assert len(agent.readers) == 1  # one reader for the bus
    connected(agent, "tty-bus")
    stream = b"\x01\x02" + rs485_frame(3, 1) + rs485_frame(7, 3) + b"\xaa\x03\x02\x00\x55" + rs485_frame(5, 1) \
        + rs485_frame(7, 2)
    kp.write(stream, chunk=2, pause=0.005)
    wait_until(lambda: reader(agent, "tty-bus").stats["presses"] == 3, 5, what="3 presses")
    delivered(agent)
    assert [r["level"] for r in ratings_of(world, "kp-bus3")] == [3]
    assert sorted(r["level"] for r in ratings_of(world, "kp-bus7")) == [1, 2]
    assert reader(agent, "tty-bus").stats["dropped"] == {"garbage": 2, "checksum": 1, "unknown_device": 1}


def test_keyboard_keypad_from_an_input_device(world, make_agent, keypads):
    """Linux input events read from a device node (here a pty standing in for /dev/input/event*)."""
    kp = keypads("tty-key")
    agent = make_agent("kp-key")
    connected(agent, "tty-key")
    kp.write(key_event(2) + key_event(2, 0) + key_event(30) + key_event(30, 0) + key_event(81), chunk=7, pause=0.005)
    wait_until(lambda: reader(agent, "tty-key").stats["presses"] == 2, 5, what="2 presses")
    delivered(agent)
    assert sorted(r["level"] for r in ratings_of(world, "kp-key")) == [1, 3]
    assert reader(agent, "tty-key").stats["dropped"] == {"out_of_range": 1}


def test_not_yet_there_then_unplug_and_replug(world, make_agent, keypads):
    devices = lambda: {d["device_id"]: d for d in world["server"].get("/api/v1/devices", world["sup"]).json()["devices"]}  # noqa: E731
    agent = make_agent("kp-qms")  # the keypad is not plugged in yet
    r = reader(agent, "tty-qms")
    wait_until(lambda: r.state == PortState.MISSING and r.backoff.attempt >= 2, 5, what="missing, retried")
    wait_until(lambda: "cannot open" in devices()["kp-qms"]["detail"], 5, what="the server told missing")
    assert devices()["kp-qms"]["state"] == "missing" and devices()["kp-qms"]["problem"] is True
    kp = keypads("tty-qms")
    connected(agent, "tty-qms")
    wait_until(lambda: devices()["kp-qms"]["state"] == "connected", 5, what="the server told connected")
    read_before = r.stats["bytes"]
    kp.write(qms_frame("P", "K06", 50, "B1")[:9])  # half a frame, then the cable is pulled
    wait_until(lambda: r.stats["bytes"] == read_before + 9, 5, what="the half frame read")
    kp.unplug()
    wait_until(lambda: r.state == PortState.MISSING, 5, what="missing")
    wait_until(lambda: devices()["kp-qms"]["state"] == "missing", 5, what="the server told missing")
    assert "unplugged" in devices()["kp-qms"]["detail"] or "cannot open" in devices()["kp-qms"]["detail"]
    assert r.stats["dropped"].get("partial") == 1
    tries = r.backoff.attempt
    wait_until(lambda: r.backoff.attempt >= tries + 2, 5, what="a few attempts while it is away")
    assert all(p <= 0.5 for p in r.backoff.recent), "each after a capped pause"
    opened = r.stats["opened"]
    kp.plug()
    wait_until(lambda: r.state == PortState.CONNECTED and r.stats["opened"] == opened + 1, 3, what="reconnected")
    kp.write(qms_frame("P", "K06", 51, "B2"))
    assert qms_frame("A", "K06", 51) in kp.read(3, until=qms_frame("A", "K06", 51))
    delivered(agent)
    wait_until(lambda: devices()["kp-qms"]["state"] == "connected", 5, what="the server told connected again")
    assert [r["level"] for r in ratings_of(world, "kp-qms")][-1] == 2


def test_a_port_that_is_not_a_serial_port_is_an_error(world, make_agent, tmp_path):
    not_a_tty = tmp_path / "plain-file"
    not_a_tty.write_bytes(b"")
    spec = KeypadSpec(id="kp-ascii", counter="7", port=str(not_a_tty), decoder="ascii-line", device_id="K07")
    agent = make_agent(specs=[spec])
    r = agent.readers[0]
    wait_until(lambda: r.state == PortState.ERROR, 5, what="error")
    devices = lambda: {d["device_id"]: d for d in world["server"].get("/api/v1/devices", world["sup"]).json()["devices"]}  # noqa: E731
    wait_until(lambda: devices()["kp-ascii"]["state"] == "error", 5, what="the server told error")
    assert str(not_a_tty) in devices()["kp-ascii"]["detail"]


def test_server_down_then_up_delivers_each_rating_once(world, tmp_path, keypads):
    """The agent starts while the server is down; presses wait on disk (and survive an agent restart); when the
    server comes up each is delivered once, dated by its age, even with a wrong clock on the agent PC."""
    kp = keypads("tty-qms")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    listed = requests.get(world["server"].url + "/api/v1/keypads", headers=AGENT, timeout=5).json()
    specs = [KeypadSpec.from_dict(k) for k in listed["keypads"] if k["id"] == "kp-qms"]
    outbox = tmp_path / "outbox"
    wrong_clock = lambda: int(time.time() * 1000) - 3 * 3600_000  # noqa: E731 - the agent PC is 3 hours behind

    def start_agent():
        a = KeypadAgent(specs, buttons={"1": 3, "2": 2, "3": 1}, level_values=[3, 2, 1],
                        transport=HttpTransport(url, TOKEN), status_send=http_status_sender(url, TOKEN),
                        outbox_dir=outbox, agent_id="agent-1", backoff_first=0.1, backoff_max=0.5, read_timeout=0.05,
                        refresh_seconds=0.5, wall_ms=wrong_clock)
        a.start()
        return a

    agent = start_agent()
    connected(agent, "tty-qms")
    pressed_at = time.time()
    for seq in range(1, 4):
        kp.write(qms_frame("P", "K06", 200 + seq, "B3"))
        assert qms_frame("A", "K06", 200 + seq) in kp.read(3, until=qms_frame("A", "K06", 200 + seq))
    assert len(agent.outbox) == 3
    wait_until(lambda: agent.delivery.stats.get("retry", 0) >= 2, 5, what="a few failed deliveries")
    agent.stop()  # the agent PC shuts down with the ratings in its outbox
    ids = list(Outbox(outbox).pending)
    assert len(ids) == 3
    cfg = keypad_config(tmp_path, [{**KEYPADS[0], "port": str(world["tmp"] / "tty-qms")}])
    server = ServerProcess(cfg, tmp_path / "late.sqlite3", "gevent", port=port).start()
    try:
        # One of them had reached the server before (the answer was lost): it must not count twice.
        first = Outbox(outbox).pending[ids[0]]
        r = server.post("/api/v1/ratings", {"id": ids[0], "keypad": "kp-qms", "button": "3",
                                            "age_ms": age_ms(first)}, AGENT)
        assert r.status_code == 201
        agent = start_agent()  # back up: it delivers what waited
        try:
            wait_until(lambda: len(agent.outbox) == 0, 15, what="the outbox delivered")
            assert agent.delivery.stats["duplicate"] == 1 and agent.delivery.stats["delivered"] == 2
            sup = server.login("super", "test-super")
            rows = server.get("/api/v1/ratings", sup).json()["ratings"]
            assert sorted(r["id"] for r in rows) == sorted(ids)
            for row in rows:  # dated on the server's clock by age_ms, not by the agent's wrong clock
                assert abs(row["pressed_ms"] / 1000 - pressed_at) < 5, row
                assert row["received_ms"] - row["pressed_ms"] >= 1000
            lines = [json.loads(x) for x in (outbox / "ratings-outbox.jsonl").read_text().splitlines()]
            assert sorted(x["done"] for x in lines if "done" in x) == sorted(ids)
        finally:
            agent.stop()
    finally:
        server.stop()


def test_agent_command_line_starts_from_the_cached_keypad_list(world, tmp_path):
    """`python -m feedback_buttons` caches the server's keypad list and starts from it when the server is down."""
    import subprocess
    import sys

    from server_util import ROOT

    outbox = tmp_path / "outbox"
    status = tmp_path / "status.json"
    args = [sys.executable, "-m", "feedback_buttons", "--token", TOKEN, "--outbox", str(outbox), "--keypad", "kp-qms",
            "--backoff-max", "0.5", "--status-file", str(status)]
    p = subprocess.Popen(args + ["--server", world["server"].url], cwd=ROOT, stdout=subprocess.DEVNULL,
                         stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: (outbox / "keypads.json").exists() and status.exists(), 15, what="the agent started")
    finally:
        p.terminate()
        p.wait(10)
    cached = json.loads((outbox / "keypads.json").read_text())
    assert cached["agent"] == "agent-1" and {k["id"] for k in cached["keypads"]} == {k["id"] for k in KEYPADS}
    status.unlink()
    p = subprocess.Popen(args + ["--server", f"http://127.0.0.1:{free_port()}"], cwd=ROOT, stdout=subprocess.DEVNULL,
                         stderr=subprocess.STDOUT)
    try:
        got = wait_until(lambda: status.exists() and json.loads(status.read_text()), 15, what="the agent started offline")
        assert [pt["port"] for pt in got["ports"]] == [str(world["tmp"] / "tty-qms")]
    finally:
        p.terminate()
        assert p.wait(10) == 0
    bad = subprocess.run(args + ["--server", world["server"].url, "--keypad", "kp-nope"], cwd=ROOT,
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "kp-nope" in bad.stderr
