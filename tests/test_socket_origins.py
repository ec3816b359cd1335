"""Live connections only from the centre's own pages (hardening, item 8): a page of another site cannot open a
Socket.IO connection (and so cannot act with a token a browser keeps); `server.allowed_origins` adds origins."""
from __future__ import annotations

import yaml

from queue_server.web.app import create_app
from server_util import server_config

POLL = "/socket.io/?EIO=4&transport=polling"


def app_with(tmp_path, clock, origins=None):
    path = server_config(tmp_path)
    if origins is not None:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["server"]["allowed_origins"] = origins
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return create_app(path, db_path=str(tmp_path / "o.sqlite3"), clock=clock, start_background=False,
                      async_mode="threading")


def opened(app, origin: str | None, **headers) -> bool:
    if origin is not None:
        headers["Origin"] = origin
    r = app.test_client().get(POLL, headers=headers)
    assert r.status_code in (200, 400), r.status_code
    return r.status_code == 200


def test_only_the_servers_own_origin_by_default(tmp_path, clock):
    app = app_with(tmp_path, clock)
    assert opened(app, None)  # a device agent sends no Origin
    assert opened(app, "http://localhost")  # the page the server itself served
    assert not opened(app, "http://evil.example")
    assert not opened(app, "http://localhost.evil.example")
    # behind a proxy: the origin the browser saw
    assert opened(app, "https://hcc.example.vn", **{"X-Forwarded-Host": "hcc.example.vn", "X-Forwarded-Proto": "https"})


def test_configured_origins_are_added_to_the_own_one(tmp_path, clock):
    app = app_with(tmp_path, clock, ["https://hcc.example.vn"])
    assert opened(app, "https://hcc.example.vn")
    assert opened(app, "http://localhost")
    assert not opened(app, "http://evil.example")


def test_a_wildcard_or_a_path_is_a_config_error(tmp_path, clock):
    import pytest

    from queue_server.config import ConfigError

    for bad in (["*"], ["https://hcc.example.vn/path"], ["hcc.example.vn"]):
        with pytest.raises(ConfigError) as err:
            app_with(tmp_path, clock, bad)
        assert "server.allowed_origins" in str(err.value)
