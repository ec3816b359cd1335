"""Live push: typed payloads built once per write, per audience, and the only calls to Socket.IO's emit.

payloads (the messages), audiences (who hears what, in which rooms), views (one write's views, built once),
live (the publisher and the coalescing tick), catch_up (hello, missed events or a snapshot)."""
from queue_server.push.audiences import Audience, Rooms, payload_for, ticket_room  # noqa: F401
from queue_server.push.live import Push  # noqa: F401
from queue_server.push.payloads import *  # noqa: F401,F403
from queue_server.push.payloads import EVENT_NAMES, RatingRecorded  # noqa: F401
