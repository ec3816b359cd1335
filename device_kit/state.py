"""One state enum for every device an agent drives, and the base of each transport's own state words.

A transport keeps the word it reports to the server (`paper_out`, `missing`, `disconnected`: supervisors see
it, with its translation), and each word maps onto one `DeviceState`, so the agents share one meaning:

    connecting  opening the port or the connection; nothing known yet
    online      the device answers and works
    degraded    it works, with a warning (paper near its end)
    offline     not there: unplugged, no port, cannot connect, stopped
    error       there, but failing (bad answers, refused, paper out, a wrong setting)
"""
from __future__ import annotations

from enum import Enum


class DeviceState(str, Enum):
    CONNECTING = "connecting"
    ONLINE = "online"
    DEGRADED = "degraded"
    OFFLINE = "offline"
    ERROR = "error"

    @property
    def works(self) -> bool:
        """The device does its job (online, or degraded with a warning)."""
        return self in (DeviceState.ONLINE, DeviceState.DEGRADED)

    @property
    def problem(self) -> bool:
        """A supervisor should look at it."""
        return self in (DeviceState.OFFLINE, DeviceState.ERROR)


class TransportState(str, Enum):
    """Base of a transport's states: each member is (the word reported, the DeviceState it means).

        class BoardState(TransportState):
            CONNECTED = "connected", DeviceState.ONLINE

    `.value` is the word; `.device` the DeviceState."""

    device: DeviceState

    def __new__(cls, word: str, device: DeviceState):
        obj = str.__new__(cls, word)
        obj._value_ = word
        obj.device = DeviceState(device)
        return obj

    def __str__(self) -> str:
        return self.value
