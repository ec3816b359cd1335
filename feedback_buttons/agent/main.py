"""`python -m feedback_buttons --server URL --token T`: the keypad agent on the PC the keypads are plugged into.

It asks the server which keypads it reads (GET /api/v1/keypads; the answer is cached next to the outbox, so
the agent starts even while the server is down), or reads them from a local config file (--config). Ratings
wait in the outbox directory until the server has them.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from device_kit import Backoff
from feedback_buttons.agent.delivery import HttpTransport, http_status_sender
from feedback_buttons.agent.keypads import KeypadAgent, KeypadSpec
from feedback_buttons.agent.settings import SettingsError, keypads_from_file

log = logging.getLogger("feedback_buttons")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m feedback_buttons", description="Satisfaction keypad agent")
    ap.add_argument("--server", required=True, help="the server's address, e.g. http://192.168.1.10:5000")
    ap.add_argument("--token", default=os.environ.get("QMS_AGENT_TOKEN"),
                    help="the agent's token (devices.agents[].token); or set QMS_AGENT_TOKEN")
    ap.add_argument("--config", help="read the keypads from this config.yaml instead of asking the server")
    ap.add_argument("--keypad", action="append", default=[], help="read only this keypad (repeatable)")
    ap.add_argument("--outbox", default="var/keypad-agent", help="directory of the outbox and the cached keypad list")
    ap.add_argument("--backoff-first", type=float, default=0.5, help="first pause before reopening a port (s)")
    ap.add_argument("--backoff-max", type=float, default=None,
                    help="longest pause before reopening a port or retrying the server (s); default: the server's "
                         "devices.timeouts.serial_reconnect_max_seconds, else 30")
    ap.add_argument("--refresh", type=float, default=30.0, help="re-send every keypad state this often (s)")
    ap.add_argument("--status-file", help="write the agent's status (ports, counts, pending) here every second")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    if not args.token:
        ap.error("--token (or QMS_AGENT_TOKEN) is required")
    return args


def keypads_from_config(path: str) -> dict:
    try:
        return keypads_from_file(path)
    except SettingsError as exc:
        raise SystemExit(f"config error:\n{exc}") from None


def keypads_from_server(server: str, token: str, cache: Path, stop: threading.Event) -> dict | None:
    """The server's list for this agent; the cached copy while the server cannot be reached."""
    import requests

    backoff = Backoff(0.5, 10, jitter=0.5)
    while not stop.is_set():
        try:
            r = requests.get(server.rstrip("/") + "/api/v1/keypads", headers={"Authorization": f"Bearer {token}"},
                             timeout=(3, 10))
            if r.status_code == 200:
                data = r.json()
                cache.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
                return data
            if r.status_code in (401, 403):
                raise SystemExit(f"the server refused the token: {r.status_code} {r.text[:200]}")
            log.warning("GET /api/v1/keypads: HTTP %s", r.status_code)
        except requests.RequestException as exc:
            log.warning("server %s unreachable (%s)", server, exc.__class__.__name__)
        if cache.exists():
            log.warning("using the keypad list cached in %s", cache)
            return json.loads(cache.read_text(encoding="utf-8"))
        stop.wait(backoff.next_delay())
    return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    outbox = Path(args.outbox)
    outbox.mkdir(parents=True, exist_ok=True)
    data = keypads_from_config(args.config) if args.config else \
        keypads_from_server(args.server, args.token, outbox / "keypads.json", stop)
    if data is None:
        return 0
    specs = [KeypadSpec.from_dict(k) for k in data["keypads"]]
    if args.keypad:
        unknown = set(args.keypad) - {k.id for k in specs}
        if unknown:
            log.error("keypad(s) %s are not in the list for this agent", ", ".join(sorted(unknown)))
            return 2
        specs = [k for k in specs if k.id in args.keypad]
    if not specs:
        log.warning("no keypad to read (devices.keypads with run_in: agent)")
    backoff_max = args.backoff_max or float(data.get("timeouts", {}).get("serial_reconnect_max_seconds", 30))
    agent = KeypadAgent(specs, buttons=data["rating"]["buttons"], level_values=data["rating"]["levels"],
                        transport=HttpTransport(args.server, args.token),
                        status_send=http_status_sender(args.server, args.token), outbox_dir=outbox,
                        agent_id=data.get("agent"), backoff_first=args.backoff_first,
                        backoff_max=max(backoff_max, args.backoff_first), refresh_seconds=args.refresh)
    log.info("reading %s; %d rating(s) waiting in %s", ", ".join(f"{k.id} on {k.port}" for k in specs) or "nothing",
             len(agent.outbox), agent.outbox.path)
    agent.start()
    while not stop.is_set():
        if args.status_file:
            tmp = Path(args.status_file + ".tmp")
            tmp.write_text(json.dumps(agent.status(), ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, args.status_file)
        stop.wait(1.0)
    agent.stop()
    log.info("stopped; %d rating(s) still waiting in %s", len(agent.outbox), agent.outbox.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
