"""Dossier look-up (tra cứu hồ sơ): the rules, with no I/O.

A dossier source (the province's one-stop system, an imported file, the demo's fake) answers in its own shape;
`from_answer` reads our fields from it by dotted paths given as data, `Dossier` is what we keep and show, and
`mask_name` is the one way an applicant's name reaches a public screen ("Nguyễn Văn An" -> "Nguyễn V. A.").
A full name, a phone number or an ID number never leaves this module: `Dossier` has no field for them.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone, timedelta

from queue_server.core.errors import DomainError

# Our statuses, in the order a dossier moves through them, with the words a citizen reads.
STATUSES: dict[str, tuple[str, str]] = {
    "received": ("Đã tiếp nhận", "Received"),
    "processing": ("Đang giải quyết", "Being processed"),
    "supplement": ("Cần bổ sung hồ sơ", "More documents needed"),
    "ready": ("Đã có kết quả, mời nhận", "Result ready for collection"),
    "returned": ("Đã trả kết quả", "Result collected"),
    "rejected": ("Không giải quyết (có văn bản trả lời)", "Refused (a written answer is ready)"),
}
# A result is waiting at the centre: the kiosk offers a ticket for the return-of-results service.
COLLECTABLE = frozenset({"ready", "rejected"})

FIELDS = ("code", "status", "procedure", "received", "appointment", "collect_at", "applicant")
# A receipt's code, e.g. 000.00.12.H59-240115-0003: letters, digits, dots, dashes, slashes, underscores.
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{2,59}$")


class DossierDataError(ValueError):
    """A source's answer is not a dossier we can read (garbage, a status we have no word for)."""


def clean_code(raw: object) -> str | None:
    """The code as typed or scanned, trimmed and upper-cased; None when it cannot be a receipt's code."""
    if not isinstance(raw, str):
        return None
    code = raw.strip().upper()
    return code if CODE_PATTERN.fullmatch(code) else None


def mask_name(full: object) -> str:
    """The family name whole, every other word by its first letter: "Nguyễn Văn An" -> "Nguyễn V. A.".
    A single word keeps its first letter only; words with digits or signs (a phone, an ID, an e-mail) are
    dropped, so nothing but a masked name can come out."""
    if not isinstance(full, str):
        return ""
    words = [w for w in unicodedata.normalize("NFC", full).split() if w.isalpha()]
    if not words:
        return ""
    if len(words) == 1:
        return words[0][0].upper() + "."
    return " ".join([words[0].capitalize(), *(w[0].upper() + "." for w in words[1:])])


def at_path(data: object, path: str) -> object:
    """The value at a dotted path: "data.chuHoSo.hoTen", "result.0.state" (a number indexes a list); None when
    any step is missing."""
    here = data
    for step in path.split("."):
        if isinstance(here, dict):
            here = here.get(step)
        elif isinstance(here, list) and step.lstrip("-").isdigit() and -len(here) <= int(step) < len(here):
            here = here[int(step)]
        else:
            return None
        if here is None:
            return None
    return here


VN = timezone(timedelta(hours=7))


def as_date(value: object) -> str:
    """A date as YYYY-MM-DD from the shapes sources use: 2024-01-15, 2024-01-15T08:30:00+07:00, 15/01/2024,
    15-01-2024, 20240115, or milliseconds since 1970 (read in Việt Nam's time). Empty when absent."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        raise DossierDataError(f"{value!r} is not a date")
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value / 1000, VN).date().isoformat()
        except (OverflowError, OSError, ValueError):
            raise DossierDataError(f"{value!r} is not a date") from None
    text = str(value).strip()
    for fmt in ("%d/%m/%Y", "%d-%m-%Y", "%Y%m%d", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S"):
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise DossierDataError(f"{text[:40]!r} is not a date") from None


def _text(value: object, limit: int = 300) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise DossierDataError("a text field holds an object or a list")
    return " ".join(str(value).split())[:limit]


@dataclass(frozen=True)
class Dossier:
    code: str
    status: str
    procedure: str = ""
    received: str = ""
    appointment: str = ""
    collect_at: str = ""
    applicant: str = ""  # masked, always

    @property
    def collectable(self) -> bool:
        return self.status in COLLECTABLE

    def public(self) -> dict:
        """What a kiosk, a phone and the API show."""
        vi, en = STATUSES[self.status]
        return {**asdict(self), "status_text": vi, "status_text_en": en, "collectable": self.collectable}


def status_of(raw: object, values: dict[str, str]) -> str:
    """Our status for a source's value: through `values` (the source's words -> ours) when given, else the
    value must be one of ours."""
    if raw is None or isinstance(raw, (dict, list, bool)):
        raise DossierDataError("the answer has no readable status")
    key = str(raw).strip()
    ours = values.get(key, key if not values or key in STATUSES else None)
    if ours not in STATUSES:
        raise DossierDataError(f"status {key[:40]!r} is not mapped to one of {', '.join(STATUSES)}")
    return ours


def make(fields: dict[str, object], values: dict[str, str], *, code: str) -> Dossier:
    """A Dossier from our fields read out of an answer or a file's row; the name is masked here."""
    return Dossier(code=code, status=status_of(fields.get("status"), values),
                   procedure=_text(fields.get("procedure")), received=as_date(fields.get("received")),
                   appointment=as_date(fields.get("appointment")), collect_at=_text(fields.get("collect_at")),
                   applicant=mask_name(fields.get("applicant")))


def from_answer(answer: object, paths: dict[str, str], values: dict[str, str], *, code: str) -> Dossier | None:
    """Read a source's JSON answer with `paths` (our field -> dotted path in the answer). None when the
    status path leads nowhere (the source's way of saying "no such dossier"); DossierDataError for an answer
    that is not a dossier. When the answer names a code, it must be the one asked for."""
    if not isinstance(answer, (dict, list)):
        raise DossierDataError("the answer is not a JSON object")
    fields = {name: at_path(answer, path) for name, path in paths.items()}
    if fields.get("status") is None:
        return None
    found = fields.get("code")
    if found is not None and clean_code(str(found)) != code:
        raise DossierDataError("the answer is for another dossier")
    return make(fields, values, code=code)


MAX_PER_TICKET = 10  # dossier codes one ticket may carry


def check_attach(*, ticket_code: str, status: str, ticket_counter: str | None, counter_id: str, counter_number,
                 attached: list[str], code: str) -> bool:
    """Whether `code` is new on the ticket (False: attached already, nothing to do). Only the ticket being
    called or served at this counter takes a dossier code; a ticket holds at most MAX_PER_TICKET."""
    if status not in ("called", "serving") or ticket_counter != counter_id:
        raise DomainError("not_at_counter", code=ticket_code, counter=counter_number)
    if code in attached:
        return False
    if len(attached) >= MAX_PER_TICKET:
        raise DomainError("bad_request", detail=f"a ticket holds at most {MAX_PER_TICKET} dossier codes")
    return True
