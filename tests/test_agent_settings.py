"""Agents read their own settings from config.yaml as plain values (no server code): what they read is what the
server's validated configuration says, and a file they cannot use is refused with the key named."""
from __future__ import annotations

import dataclasses

import pytest
import yaml

from feedback_buttons.agent.keypads import KeypadSpec
from feedback_buttons.agent.settings import SettingsError as KeypadSettingsError, keypads_from_file
from keypad_util import keypad_config
from queue_server.config import load_config
from ticket_printer.agent.settings import SettingsError, dispenser_run, read_config

KEYPADS = [
    {"id": "kp-1", "counter": "1", "port": "/dev/ttyUSB0", "decoder": "qms-line", "device_id": "K01"},
    {"id": "kp-2", "counter": "2", "port": "fake://wire/kp-2", "decoder": "rs485-frame", "address": 3,
     "frame": {"checksum": "xor8"}, "debounce_ms": 0},
    {"id": "kp-3", "counter": "3", "port": "page", "decoder": "keyboard", "run_in": "server"},
]


def test_keypads_read_by_the_agent_match_the_servers_reading(tmp_path):
    path = keypad_config(tmp_path, KEYPADS, rating={"buttons": {1: 3, 2: 2, 3: 1}},
                         timeouts={"serial_reconnect_max_seconds": 12})
    mine = keypads_from_file(path)
    cfg = load_config(path)
    server_side = [k for k in cfg.devices.keypads if k.run_in == "agent"]
    assert [k["id"] for k in mine["keypads"]] == [k.id for k in server_side] == ["kp-1", "kp-2"]
    for raw, validated in zip(mine["keypads"], server_side):
        a, b = KeypadSpec.from_dict(raw), KeypadSpec.from_dict(validated.model_dump(mode="json"))
        same = {f.name for f in dataclasses.fields(KeypadSpec)} - {"frame"}  # frame: the server fills defaults in
        assert {n: getattr(a, n) for n in same} == {n: getattr(b, n) for n in same}
        assert {**b.frame, **a.frame} == b.frame  # every frame key the file sets, the server has too
    assert mine["rating"] == {"buttons": cfg.rating.buttons, "levels": [lv.value for lv in cfg.rating.levels]}
    assert mine["rating"]["buttons"] == {"1": 3, "2": 2, "3": 1}  # YAML's numeric keys become text, as on the server
    assert mine["timeouts"] == {"serial_reconnect_max_seconds": 12.0}


@pytest.mark.parametrize("text, words", [
    ("devices: {keypads: [{id: kp-1, counter: '1'}]}\nrating: {levels: [{value: 1}, {value: 2}]}",
     r"devices\.keypads\[0\] needs id, counter and port"),
    ("rating: {levels: [{value: 1}]}", "at least 2 levels"),
    ("rating: {levels: [{value: one}, {value: 2}]}", "must be numbers"),
    ("devices: [unclosed", "not valid YAML"),
    ("- a list", "must be a mapping"),
])
def test_a_keypad_file_the_agent_cannot_use_is_named(tmp_path, text, words):
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KeypadSettingsError, match=words):
        keypads_from_file(path)
    with pytest.raises(KeypadSettingsError, match="cannot read"):
        keypads_from_file(tmp_path / "absent.yaml")


def dispenser_file(tmp_path, **entry):
    path = keypad_config(tmp_path, [])
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["devices"]["dispensers"] = [{"id": "disp-1", "port": "fake://wire/box", "kiosk": "kiosk-1",
                                      "buttons": {1: "cccd"}, "agent": "agent-1", **entry}]
    data["server"].update({"host": "0.0.0.0", "port": 5123})
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_the_dispenser_reads_the_same_from_the_file_as_from_the_servers_config(tmp_path):
    path = dispenser_file(tmp_path, debounce_ms=700)
    from_file = dispenser_run(read_config(path), "disp-1")
    from_server = dispenser_run(load_config(path).model_dump(mode="json"), "disp-1")
    assert from_file == from_server
    assert from_file.dispenser.buttons == {"1": "cccd"} and from_file.dispenser.debounce_ms == 700
    assert from_file.server == "http://127.0.0.1:5123"  # listening on every address: reach it locally
    assert from_file.kiosk_token and from_file.agent_token
    assert dispenser_run(read_config(path), "disp-1", "http://10.0.0.5:5000").server == "http://10.0.0.5:5000"


@pytest.mark.parametrize("entry, dispenser_id, words", [
    ({}, "nope", "no dispenser 'nope' in devices.dispensers \\(configured: disp-1\\)"),
    ({"kiosk": "kiosk-9"}, "disp-1", "kiosk 'kiosk-9' is not configured"),
    ({"agent": "agent-9"}, "disp-1", "agent 'agent-9' is not configured"),
    ({"port": ""}, "disp-1", "port missing"),
])
def test_a_dispenser_it_cannot_run_is_named(tmp_path, entry, dispenser_id, words):
    with pytest.raises(SettingsError, match=words):
        dispenser_run(read_config(dispenser_file(tmp_path, **entry)), dispenser_id)
