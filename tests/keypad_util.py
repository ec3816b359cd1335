"""Helpers for the keypad tests: a fake keypad on a real pseudo-terminal, a server config with keypads, a
Socket.IO listener, and waiting."""
from __future__ import annotations

import os
import select
import time
import tty
from pathlib import Path

import yaml

from server_util import Listener, server_config


class FakeKeypad:
    """A keypad on one end of a pty pair (raw mode); the agent opens the other end through `path`, a symlink
    like /dev/serial/by-id/... . unplug() closes the pty and removes the link; plug() makes a new pair."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.master = self.slave = None
        self.plug()

    def plug(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(self.slave)
        tmp = self.path.with_name(self.path.name + ".new")
        if tmp.is_symlink():
            tmp.unlink()
        os.symlink(os.ttyname(self.slave), tmp)
        os.replace(tmp, self.path)

    def unplug(self) -> None:
        if self.path.is_symlink():
            self.path.unlink()
        for fd in (self.master, self.slave):
            if fd is not None:
                os.close(fd)
        self.master = self.slave = None

    def write(self, data: bytes, chunk: int | None = None, pause: float = 0.0) -> None:
        step = chunk or len(data) or 1
        for i in range(0, len(data), step):
            os.write(self.master, data[i:i + step])
            if pause:
                time.sleep(pause)

    def read(self, timeout: float = 2.0, until: bytes | None = None) -> bytes:
        """What the host wrote back (acknowledgements), until `until` appears or the time is up."""
        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], max(0.0, min(0.1, deadline - time.monotonic())))
            if ready:
                out += os.read(self.master, 4096)
                if until is not None and until in out:
                    break
            elif until is None and out:
                break
        return out

    def close(self) -> None:
        self.unplug()


def keypad_config(tmp: Path, keypads: list[dict], *, rating: dict | None = None, timeouts: dict | None = None,
                  **queue) -> Path:
    """The test server's config (server_util.server_config) with keypads and rating settings. Its rating page is
    open to strangers as a demo's is (rating.tablet_token_required: false) unless `rating` says otherwise;
    tests/test_rating_strangers.py covers the default of a real centre."""
    path = server_config(tmp, **queue)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["devices"]["keypads"] = keypads
    data["devices"]["agents"].append({"id": "agent-led", "token": "test-agent-led-token", "kind": "led"})
    data["devices"]["displays"].append({"id": "counter-3", "kind": "counter", "counter": "3",
                                        "token": "test-display-counter-3"})
    data["rating"].update({"low_reasons": ["Thời gian chờ lâu", "Thái độ phục vụ chưa tốt", "Khác"]})
    data["rating"].update({"tablet_token_required": False, **(rating or {})})
    if timeouts:
        data["devices"]["timeouts"] = timeouts
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def wait_until(pred, timeout: float = 10.0, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
