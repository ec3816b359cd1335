"""One printer's slips against the clock, and what is known of the printer right now. Pure: no port, no thread;
the clock is injected.

- A slip's deadline counts from its creation: (retries + 1) x timeout_seconds (`job_budget`). Every attempt is
  cut to what is left of it, so a slip that waited its turn still fails in time; one with nothing left is failed
  without being tried.
- The last outcome of a slip or a status check is the printer's verdict. A printer whose verdict is a failure
  (offline, timeout, paper_out, error) is down: the slips waiting behind the failure fail at once with its reason,
  and so do new ones while a status check can tell when it is back (`refuses`). A printer whose link cannot
  answer a status check (file, cups, status_query off) gets each new slip tried: nothing else would show it back.

Used by the server's own printing (ticket_printer/server/local_printing.py) and by the printer agent (main.py),
which cannot check its printer between slips: it fails the slips that waited behind a failure and tries new ones.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from ticket_printer.agent.escpos_job import PrinterState

DOWN_STATES = (PrinterState.OFFLINE, PrinterState.TIMEOUT, PrinterState.PAPER_OUT, PrinterState.ERROR)
LEAST_ATTEMPT = 0.05  # seconds: less than this left is no attempt at all


def job_budget(timeout_seconds: float, retries: int) -> float:
    """How long after its creation a slip is printed or failed, at the latest."""
    return (retries + 1) * timeout_seconds


@dataclass(frozen=True)
class Verdict:
    state: PrinterState
    detail: str
    at: float  # the clock's reading when it was learnt

    @property
    def down(self) -> bool:
        return self.state in DOWN_STATES


class PrinterGate:
    def __init__(self, printer_id: str, *, timeout_seconds: float, retries: int = 0, can_check: bool = False,
                 clock=time.monotonic):
        self.printer_id = printer_id
        self.clock = clock
        self.deadlines: dict[int, float] = {}
        self.admitted: dict[int, float] = {}
        self.verdict: Verdict | None = None
        self.configure(timeout_seconds=timeout_seconds, retries=retries, can_check=can_check)

    def configure(self, *, timeout_seconds: float, retries: int, can_check: bool) -> None:
        """The printer's settings as config has them now (a reload may change them)."""
        self.timeout_seconds, self.retries, self.can_check = timeout_seconds, retries, can_check

    @property
    def budget(self) -> float:
        return job_budget(self.timeout_seconds, self.retries)

    # ------------------------------------------------------------ slips
    def admit(self, job_id: int) -> float:
        """A slip was just made: its deadline starts now."""
        self.admitted[job_id] = self.clock()
        self.deadlines[job_id] = self.admitted[job_id] + self.budget
        return self.deadlines[job_id]

    def left(self, job_id: int) -> float:
        """Seconds left before the slip's deadline (a slip not admitted here, e.g. after a restart: a whole budget)."""
        end = self.deadlines.get(job_id)
        return self.budget if end is None else end - self.clock()

    def attempt_seconds(self, job_id: int) -> float:
        """How long the next attempt may take: its timeout, cut to what is left; 0 when nothing is."""
        left = min(self.timeout_seconds, self.left(job_id))
        return left if left >= LEAST_ATTEMPT else 0.0

    def done(self, job_id: int) -> None:
        self.deadlines.pop(job_id, None)
        self.admitted.pop(job_id, None)

    def late_detail(self) -> str:
        return (f"not printed within {self.budget:g} s of being issued: printer {self.printer_id} was busy with the "
                f"slips before it")

    # ------------------------------------------------------------ the printer
    def note(self, state: PrinterState, detail: str) -> Verdict:
        """A slip's or a status check's outcome: the printer's verdict from now on."""
        self.verdict = Verdict(state, detail, self.clock())
        return self.verdict

    def down(self) -> Verdict | None:
        return self.verdict if self.verdict is not None and self.verdict.down else None

    def failed_since(self, job_id: int) -> Verdict | None:
        """The printer was found down while this slip waited its turn: the slip fails with that reason."""
        verdict, since = self.down(), self.admitted.get(job_id)
        return verdict if verdict is not None and since is not None and verdict.at >= since else None

    def refuses(self) -> Verdict | None:
        """Whether a new slip fails at once: the printer is down and a status check will tell when it is back."""
        return self.down() if self.can_check else None

    def down_detail(self, verdict: Verdict) -> str:
        return f"not sent: printer {self.printer_id} is {verdict.state.value} ({verdict.detail})"[:300]
