"""`qms webhooks`: the webhook outbox from the command line (docs/integrations.md).

`qms webhooks replay --since SEQ` sends every event after SEQ again to each receiver that asked for it (or only
`--endpoint ID`): delivered and dead rows become pending with no attempts. A running server on the same database
sends them within a second or two; receivers drop the events they already have by X-QMS-Event-Id.
`qms webhooks status` prints each receiver's counts and its first pending event.
"""
from __future__ import annotations

import sys


def add_webhook_commands(sub, load, default_config: str) -> None:
    w = sub.add_parser("webhooks", help="signed webhooks: replay events, delivery state")
    wsub = w.add_subparsers(dest="webhooks_command", required=True)
    r = wsub.add_parser("replay", help="send every event after --since SEQ again")
    r.add_argument("--since", type=int, required=True, metavar="SEQ",
                   help="the last event seq the receiver has (0: every event in the log)")
    r.add_argument("--endpoint", action="append", metavar="ID", help="only this receiver (repeatable)")
    s = wsub.add_parser("status", help="each receiver's pending, delivered and dead events")
    for x in (r, s):
        x.add_argument("--config", default=default_config)
        x.add_argument("--db", help="database file (default: server.db_path of the config)")
    r.set_defaults(fn=lambda args: cmd_replay(args, load))
    s.set_defaults(fn=lambda args: cmd_status(args, load))


def _store(args, load):
    from queue_server.store import Store

    cfg = load(args.config)
    return Store(args.db or cfg.server.db_path, cfg)


def cmd_replay(args, load) -> int:
    from queue_server.store import webhooks as outbox

    if args.since < 0:
        print("--since must be 0 or a seq of the event log", file=sys.stderr)
        return 2
    store = _store(args, load)
    known = [h.id for h in store.config.integrations.webhooks]
    unknown = [e for e in args.endpoint or () if e not in known]
    if unknown or not known:
        print(f"no such webhook: {', '.join(unknown)} (integrations.webhooks: {', '.join(known) or 'none'})"
              if unknown else "no webhook in integrations.webhooks", file=sys.stderr)
        return 2
    counts = outbox.replay(store, args.since, args.endpoint)
    for endpoint_id, n in counts.items():
        print(f"{endpoint_id}: {n} events after seq {args.since} queued again")
    return 0


def cmd_status(args, load) -> int:
    from queue_server.store import webhooks as outbox

    store = _store(args, load)
    for hook in store.config.integrations.webhooks:
        st = outbox.delivery_state(store, hook.id, dead_limit=0)
        head = st["first_pending"]
        first = (f"; first pending seq {head['seq']} after {head['attempts']} attempts"
                 f"{' (' + head['last_error'] + ')' if head['last_error'] else ''}") if head else ""
        print(f"{hook.id} {hook.url}: {st['counts']['pending']} pending, {st['counts']['delivered']} delivered, "
              f"{st['counts']['dead']} dead{first}")
    return 0
