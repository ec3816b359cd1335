"""The whole file as one model, with the lookups the rest of the server asks of it."""
from __future__ import annotations

import hashlib
import json
from zoneinfo import ZoneInfo
from functools import cached_property
from types import MappingProxyType
from typing import KeysView, Mapping

from pydantic import Field

from queue_server.config.base import Model
from queue_server.config.booking import Booking
from queue_server.config.centre import Catalogue, Centre, CounterConfig, Department, Hours, Numbering, Priority, Service, StaffAccount
from queue_server.config.devices import DevicesConfig
from queue_server.config.dossiers import Dossiers
from queue_server.config.integrations import Integrations
from queue_server.config.settings import LoginThrottle, Queue, Rating, Satisfaction766, Server, Terminal, Voice


class CentreConfig(Model):
    centre: Centre
    server: Server
    hours: Hours = Hours()
    queue: Queue = Queue()
    priority: Priority = Priority()
    rating: Rating
    voice: Voice = Voice()
    terminal: Terminal = Terminal()
    satisfaction_766: Satisfaction766 = Satisfaction766()
    login_throttle: LoginThrottle = LoginThrottle()
    departments: list[Department] = Field(min_length=1)
    counters: list[CounterConfig] = Field(min_length=1)
    devices: DevicesConfig = DevicesConfig()
    staff: list[StaffAccount] = []
    catalogue: Catalogue = Catalogue()
    dossiers: Dossiers = Dossiers()
    integrations: Integrations = Integrations()
    booking: Booking = Booking()  # online bookings (config/booking.py, docs/booking.md)

    # ---- derived lookups (not config keys) ----
    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.centre.timezone)

    @cached_property
    def _service_index(self) -> Mapping[str, tuple[Department, Service]]:
        # A frozen model never changes: the lookups are built once (a reload makes a new model).
        return MappingProxyType({s.id: (d, s) for d in self.departments for s in d.services})

    @cached_property
    def _counter_index(self) -> Mapping[str, CounterConfig]:
        return MappingProxyType({c.id: c for c in self.counters})

    def model_copy(self, *, update=None, deep: bool = False):
        """A copy with changes starts without the lookups built from the old values."""
        copy = super().model_copy(update=update, deep=deep)
        for name in ("_service_index", "_counter_index"):
            copy.__dict__.pop(name, None)
        return copy

    def services(self) -> Mapping[str, tuple[Department, Service]]:
        """service id -> (its department, the service), in config order (read-only)."""
        return self._service_index

    def service(self, service_id: str) -> Service:
        return self.services()[service_id][1]

    def department_of(self, service_id: str) -> Department:
        return self.services()[service_id][0]

    def numbering_of(self, service_id: str) -> tuple[str, Numbering]:
        """(sequence key, range) a service draws its numbers from: its own, or its department's."""
        dept, svc = self.services()[service_id]
        if svc.numbering is not None:
            return f"service:{svc.id}", svc.numbering
        return f"department:{dept.id}", dept.numbering  # type: ignore[return-value]

    def counter_ids(self) -> KeysView[str]:
        """The configured counters' ids (a set-like view, built once)."""
        return self._counter_index.keys()

    def counter(self, counter_id: str) -> CounterConfig:
        return self._counter_index[counter_id]

    def rating_token_required(self) -> bool:
        """rating.tablet_token_required, whose default follows centre.demo: a real centre's rating page needs the
        counter's device token (or the slip's secret); a demo's works without one."""
        required = self.rating.tablet_token_required
        return (not self.centre.demo) if required is None else required

    def config_hash(self) -> str:
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]
