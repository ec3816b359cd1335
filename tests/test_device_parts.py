"""The device packages plug their server parts in through one contract (init_app(app, ctx), docs/architecture.md):
the server imports none of them by name, loads the parts named in server.device_parts, and a part left out
leaves no route behind."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from codescan import imports_of
from queue_server.config import ConfigError, load_config, parse_config
from queue_server.web.app import create_app

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
DEVICE_PACKAGES = ("displays", "ticket_printer", "feedback_buttons")


def test_no_server_module_imports_a_device_package_by_name():
    bad = {}
    for path in sorted((ROOT / "queue_server").rglob("*.py")):
        hits = {m for m in imports_of(path) if m.split(".")[0] in DEVICE_PACKAGES}
        if hits:
            bad[str(path.relative_to(ROOT))] = sorted(hits)
    assert bad == {}


def test_the_scan_sees_an_import_inside_a_function(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from ticket_printer.server.jobs import PrintJobs\n    import displays\n")
    assert imports_of(f) == {"ticket_printer.server.jobs", "displays"}


@pytest.mark.parametrize("name", DEVICE_PACKAGES)
def test_every_device_package_has_a_server_part_with_init_app(name):
    import importlib

    part = importlib.import_module(f"{name}.server")
    assert callable(part.init_app)


def _config_with(tmp_path, parts) -> Path:
    data = yaml.safe_load((FIXTURES / "centre.yaml").read_text(encoding="utf-8"))
    data.setdefault("server", {})["device_parts"] = parts
    path = tmp_path / "centre.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _endpoints(app) -> set[str]:
    return {r.endpoint.split(".")[0] for r in app.url_map.iter_rules()}


def test_the_app_runs_the_configured_parts_only(tmp_path):
    every = create_app(load_config(FIXTURES / "centre.yaml"), db_path=str(tmp_path / "a.sqlite3"),
                       start_background=False, async_mode="threading")
    assert {"kiosk", "printing", "display_pages", "clips", "led_boards", "ratings"} <= _endpoints(every)
    assert every.test_client().get("/kiosk/kiosk-1").status_code == 200
    only = create_app(load_config(_config_with(tmp_path, ["displays"])), db_path=str(tmp_path / "b.sqlite3"),
                      start_background=False, async_mode="threading")
    got = _endpoints(only)
    assert {"display_pages", "clips", "led_boards"} <= got
    assert not {"kiosk", "printing", "ratings"} & got
    assert "qms_printing" not in only.extensions and "qms_ratings" not in only.extensions
    client = only.test_client()
    assert client.get("/api/v1/services").status_code == 200  # the core routes stay
    assert client.get("/display/hall").status_code == 200
    assert client.get("/kiosk/kiosk-1").status_code == 404


def test_a_part_that_is_not_installed_is_a_config_error_with_its_key_path(tmp_path):
    path = _config_with(tmp_path, ["displays", "no_such_devices"])
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "server.device_parts" in str(err.value) and "no_such_devices" in str(err.value)


def test_a_part_listed_twice_is_a_config_error():
    text = (FIXTURES / "centre.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data.setdefault("server", {})["device_parts"] = ["displays", "displays"]
    with pytest.raises(ConfigError) as err:
        parse_config(yaml.safe_dump(data, allow_unicode=True))
    assert "server.device_parts" in str(err.value) and "twice" in str(err.value)
