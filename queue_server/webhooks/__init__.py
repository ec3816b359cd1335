"""Signed webhooks: events of the log POSTed to the receivers in `integrations.webhooks` (docs/integrations.md).

- `signing`: the body of an event (built from its row of the event log, so every attempt sends the same bytes)
  and its signature, `sha256=<hex HMAC-SHA256 of timestamp + "." + body>`;
- `delivery`: the sender. It takes due rows of the outbox (store/webhooks.py), POSTs them outside any transaction
  and request, one background task per receiver, and records each answer: delivered, a retry after a capped
  back-off, or a dead letter after `max_attempts`.
"""
from queue_server.webhooks.delivery import Deliverer, retry_delay
from queue_server.webhooks.signing import event_body, signature, verify

__all__ = ["Deliverer", "event_body", "retry_delay", "signature", "verify"]
