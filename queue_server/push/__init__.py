"""Live push: typed payloads built once per write, per audience, and the only calls to Socket.IO's emit."""
from queue_server.push.live import *  # noqa: F401,F403
from queue_server.push.live import EVENT_NAMES, Push, ticket_room  # noqa: F401
