"""Which notices are due: "Sắp đến lượt" and the call, found after writes, queued in the outbox.

A pass runs outside every write's transaction (the notices' background task, about once a second, and only
when the event log moved on). It reads, decides, and queues each message in a short transaction of its own;
the `dedupe` key of the outbox makes the passes of two server processes, or a pass run twice, queue one message:

- "near:<ticket id>": once per ticket, when a waiting ticket with a phone number has `notifications.near_ahead`
  or fewer people ahead (the count its status page shows) and a counter serving its service is open;
- "called:<event seq>": at each call of such a ticket, so a recall sends again (the công dân may have missed
  the first); only while the ticket is still called and the call is fresh (CALL_FRESH_MS), so a server
  started late never sends stale calls.
"""
from __future__ import annotations

from queue_server.store import notifications as outbox

CALL_FRESH_MS = 10 * 60_000
NO_PLACE = ("no_counter", "closed_today")  # the estimate's honest states: no counter would take the ticket now

TEXTS = {
    "near": {"vi": "Sắp đến lượt: số {code} ({service}), còn {ahead} người phía trước. Vui lòng đến gần khu vực quầy.",
             "en": "Your turn is near: number {code} ({service}), {ahead} ahead of you. Please come near the counters."},
    "called": {"vi": "Mời công dân số {code} đến quầy {counter}",
               "en": "Number {code}, please go to counter {counter}"},
    "broadcast": {"vi": "{centre} - số {code}: {text}", "en": "{centre} - number {code}: {text}"},
}


def text(kind: str, lang: str, **values) -> str:
    return TEXTS[kind]["en" if lang == "en" else "vi"].format(**values)


class NoticePass:
    def __init__(self, store, read):
        self.store = store
        self.read = read  # read_models.ReadModels: the same "ahead" as the status page
        self.after_seq: int | None = None

    @property
    def settings(self):
        return self.store.config.notifications

    def scan(self) -> int:
        """One pass: the near and call notices now due. Returns how many messages were queued."""
        # The estimate's board as of now (made again only if the queue moved): this pass runs off any request.
        self.read.refresh_board()
        return self.near() + (self.calls() if self.settings.send_on_call else self._skip_calls())

    def near(self) -> int:
        cfg = self.store.config
        queued = 0
        for cand in outbox.near_candidates(self.store, self.store.today()):
            t = cand["ticket"]
            place = self.read.position_of(t["id"], "waiting", None)  # the estimate's count, as the status page
            ahead, wait = place["waiting_ahead"], place["wait"]
            if ahead is None:  # no estimate for it: its place in its own service's line, as the page falls back to
                ahead = self.store.position(t)
            if ahead is None or ahead > cfg.notifications.near_ahead or (wait and wait.get("state") in NO_PLACE):
                continue
            svc = cfg.services().get(t["service_id"])
            name = (svc[1].name_en or svc[1].name) if svc and cand["lang"] == "en" else (svc[1].name if svc else "")
            body = text("near", cand["lang"], code=t["code"], service=name, ahead=ahead)
            if outbox.queue_message(self.store, kind="near", to_phone=cand["phone"], body=body, lang=cand["lang"],
                                    ticket_id=t["id"], booking_id=t.get("booking_id"), dedupe=f"near:{t['id']}",
                                    channel=cfg.notifications.channel) is not None:
                queued += 1
        return queued

    def _start(self) -> int:
        if self.after_seq is None:
            self.after_seq = outbox.first_seq_since(self.store, self.store.now_ms() - CALL_FRESH_MS)
        return self.after_seq

    def _skip_calls(self) -> int:
        self.after_seq = self.store.last_seq()
        return 0

    def calls(self) -> int:
        cfg = self.store.config
        queued = 0
        top = self.store.last_seq()
        while rows := outbox.calls_after(self.store, self._start(), top):
            now = self.store.now_ms()
            for r in rows:
                self.after_seq = r["seq"]
                if r["status"] != "called" or r["ts_ms"] < now - CALL_FRESH_MS or r["counter_id"] not in cfg.counter_ids():
                    continue
                body = text("called", r["lang"], code=r["code"], counter=cfg.counter(r["counter_id"]).number)
                if outbox.queue_message(self.store, kind="called", to_phone=r["phone"], body=body, lang=r["lang"],
                                        ticket_id=r["ticket_id"], dedupe=f"called:{r['seq']}",
                                        channel=cfg.notifications.channel) is not None:
                    queued += 1
        self.after_seq = max(self.after_seq, top)  # calls of tickets without a phone number are passed by
        return queued


def broadcast_body(config, text_vi: str, text_en: str):
    """The SMS text of a supervisor's broadcast for one ticket: `body(code, lang)`."""
    def body(code: str, lang: str) -> str:
        en = lang == "en"
        return text("broadcast", lang, centre=(config.centre.name_en or config.centre.name) if en else config.centre.name,
                    code=code, text=(text_en or text_vi) if en else text_vi)
    return body
