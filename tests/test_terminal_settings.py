"""The counter terminal's settings (`terminal.chime`, `terminal.confirm_next`): default on, can be turned off, a
bad value is a config error naming the key. (That they reach the page: test_supervision_alerts.py, whose centre
turns them off; what the page does with them: test_counter_daily_use.py.)"""
from __future__ import annotations

import pytest
import yaml

from conftest import FIXTURES
from queue_server.config import ConfigError, load_config


def test_the_settings_can_be_turned_off_and_a_bad_value_is_refused(tmp_path):
    data = yaml.safe_load((FIXTURES / "centre.yaml").read_text(encoding="utf-8"))
    data["terminal"] = {"chime": False, "confirm_next": False}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert (load_config(FIXTURES / "centre.yaml").terminal.chime, load_config(FIXTURES / "centre.yaml").terminal.confirm_next) == (True, True)
    cfg = load_config(path)
    assert (cfg.terminal.chime, cfg.terminal.confirm_next) == (False, False)
    data["terminal"] = {"chime": "sometimes"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match="terminal.chime"):
        load_config(path)
