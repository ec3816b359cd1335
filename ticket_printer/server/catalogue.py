"""The procedure catalogue (danh mục thủ tục hành chính): reading it from CSV or YAML, and searching it.

Pure Python: no Flask, SQLite or file I/O. The caller reads the file and passes its text, and passes the
services of the centre (service id -> department id) so every row can be checked against config.yaml.

A row has a national code (`1.001193`, or a local variant such as `1.001612.000.00.00.H01`), a name, the
field (lĩnh vực), the department and the service (queue) it is taken in, the processing time ("05 ngày làm
việc") and the fee ("Không", "50.000 đồng"), each optionally in English too (`field_en`, `processing_time_en`,
`fee_en`). A procedure the centre does not handle (e.g. one of the commune level) names where to go instead in
`elsewhere` (and `elsewhere_en`); it needs no service, and the kiosk issues no ticket for it. Parsing collects
every bad row with its line number and returns nothing usable when there is one: an import is all or nothing.

Search ignores diacritics and case ("dang ky khai sinh" finds "Đăng ký khai sinh"), matches the name, the
English name, the field and the code, and ranks the closest names first. Folded strings are computed once
when the index is built, so a search is a few substring tests per procedure.
"""
from __future__ import annotations

import csv
import heapq
import io
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Mapping

import yaml

FIELDS = ("code", "name", "name_en", "field", "department", "service", "processing_time", "fee", "agency", "level",
          "field_en", "processing_time_en", "fee_en", "elsewhere", "elsewhere_en")
REQUIRED = ("code", "name")  # and service, unless `elsewhere` says where to go instead
CODE_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{2,63}$")
MAX_ROWS = 20_000
MAX_TEXT = {"name": 500, "name_en": 500, "field": 200, "processing_time": 200, "fee": 300, "agency": 300, "level": 100,
            "field_en": 200, "processing_time_en": 200, "fee_en": 300, "elsewhere": 300, "elsewhere_en": 300}

# Header names in English or Vietnamese (compared after folding: no diacritics, lower case, single spaces).
HEADER_ALIASES = {
    "code": "code", "ma": "code", "ma thu tuc": "code", "ma tthc": "code", "ma so": "code",
    "name": "name", "ten": "name", "ten thu tuc": "name", "ten tthc": "name",
    "name en": "name_en", "english name": "name_en", "ten tieng anh": "name_en",
    "field": "field", "linh vuc": "field",
    "department": "department", "co quan": "department", "don vi": "department", "so nganh": "department",
    "service": "service", "dich vu": "service", "hang doi": "service", "queue": "service",
    "processing time": "processing_time", "thoi han giai quyet": "processing_time",
    "thoi gian giai quyet": "processing_time",
    "fee": "fee", "fees": "fee", "phi": "fee", "le phi": "fee", "phi le phi": "fee",
    "agency": "agency", "co quan thuc hien": "agency", "co quan giai quyet": "agency",
    "level": "level", "muc do": "level", "cap thuc hien": "level",
    "field en": "field_en", "linh vuc tieng anh": "field_en",
    "processing time en": "processing_time_en", "thoi han giai quyet tieng anh": "processing_time_en",
    "fee en": "fee_en", "phi le phi tieng anh": "fee_en",
    "elsewhere": "elsewhere", "not handled here": "elsewhere", "noi giai quyet": "elsewhere",
    "elsewhere en": "elsewhere_en", "noi giai quyet tieng anh": "elsewhere_en",
}


@dataclass(frozen=True)
class Procedure:
    code: str
    name: str
    service: str
    department: str
    field: str = ""
    name_en: str = ""
    processing_time: str = ""
    fee: str = ""
    agency: str = ""
    level: str = ""
    field_en: str = ""
    processing_time_en: str = ""
    fee_en: str = ""
    elsewhere: str = ""      # not handled at this centre: where to go instead (no ticket is issued)
    elsewhere_en: str = ""

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class RowProblem:
    line: int | None
    message: str


class CatalogueError(Exception):
    """A catalogue file that cannot be imported; `problems` names each bad row by line."""

    def __init__(self, source: str, problems: list[RowProblem]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}:{p.line}: {p.message}" if p.line else f"{source}: {p.message}"
                                   for p in problems))


# ------------------------------------------------------------------ folding
_STRIP = {ord("đ"): "d", ord("Đ"): "D"}
_NON_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower case without diacritics; punctuation becomes single spaces. "Đăng ký (khai sinh)" -> "dang ky khai sinh"."""
    nfd = unicodedata.normalize("NFD", text.translate(_STRIP))
    plain = "".join(c for c in nfd if not unicodedata.combining(c)).casefold()
    return _NON_WORD.sub(" ", plain).strip()


def fold_code(text: str) -> str:
    """A code as typed: lower case, no spaces (dots kept): " 1.001193 " -> "1.001193"."""
    return "".join(text.split()).casefold()


def _header_key(name: str) -> str | None:
    return HEADER_ALIASES.get(fold(name))


# ------------------------------------------------------------------ parsing
def parse(text: str, fmt: str, services: Mapping[str, str], source: str = "catalogue") -> list[Procedure]:
    """Parse a catalogue in `fmt` ("csv" or "yaml"). `services`: service id -> its department id.
    Raises CatalogueError listing every bad row; returns the procedures in file order otherwise."""
    if fmt == "csv":
        return parse_csv(text, services, source)
    if fmt == "yaml":
        return parse_yaml(text, services, source)
    raise CatalogueError(source, [RowProblem(None, f"unknown format {fmt!r}: use a .csv or .yaml file")])


def format_of(filename: str) -> str | None:
    lower = filename.lower()
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith((".yaml", ".yml")):
        return "yaml"
    return None


def decode(data: bytes, source: str = "catalogue") -> str:
    """UTF-8 text (a byte-order mark from Excel is dropped)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise CatalogueError(source, [RowProblem(line, "the file is not UTF-8 text (save it as \"CSV UTF-8\")")]) from None


def parse_csv(text: str, services: Mapping[str, str], source: str = "catalogue") -> list[Procedure]:
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[RowProblem] = []
    try:
        header = next(reader)
    except StopIteration:
        raise CatalogueError(source, [RowProblem(None, "the file is empty")]) from None
    except csv.Error as exc:
        raise CatalogueError(source, [RowProblem(1, f"cannot read the header: {exc}")]) from None
    columns: list[str | None] = []
    for name in header:
        key = _header_key(name)
        if key is None and name.strip():
            problems.append(RowProblem(1, f"unknown column {name.strip()!r} (columns: {', '.join(FIELDS)})"))
        if key is not None and key in columns:
            problems.append(RowProblem(1, f"column {key!r} appears twice"))
        columns.append(key)
    missing = [f for f in (*REQUIRED, "service") if f not in columns]
    if missing:
        problems.append(RowProblem(1, f"missing column(s) {', '.join(missing)}"))
    if problems:
        raise CatalogueError(source, problems)

    rows: list[tuple[int, dict[str, str]]] = []
    start = reader.line_num + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(RowProblem(start, f"cannot read the row: {exc}"))
            break
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue  # a blank line
        if len(record) > len(columns) and any(cell.strip() for cell in record[len(columns):]):
            problems.append(RowProblem(line, f"{len(record)} cells but the header has {len(columns)} columns "
                                             "(a comma inside a name needs the name in double quotes)"))
            continue
        rows.append((line, {k: record[i] if i < len(record) else "" for i, k in enumerate(columns) if k}))
    return _validate(rows, services, source, problems)


def parse_yaml(text: str, services: Mapping[str, str], source: str = "catalogue") -> list[Procedure]:
    """A list of mappings, at the top level or under `procedures:`. Values are read as written (a code like
    1.001190 keeps its last zero; nothing is turned into a number)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise CatalogueError(source, [RowProblem(mark.line + 1 if mark else None,
                                                 f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
    if root is None:
        raise CatalogueError(source, [RowProblem(None, "the file is empty")])
    items = root
    if isinstance(root, yaml.MappingNode):
        found = [v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "procedures"]
        others = [k for k, _ in root.value if not (isinstance(k, yaml.ScalarNode) and k.value == "procedures")]
        if not found or others:
            raise CatalogueError(source, [RowProblem(root.start_mark.line + 1,
                                                     "expected a list of procedures, or a mapping with only `procedures:`")])
        items = found[0]
    if not isinstance(items, yaml.SequenceNode):
        raise CatalogueError(source, [RowProblem(items.start_mark.line + 1, "`procedures` must be a list")])
    problems: list[RowProblem] = []
    rows: list[tuple[int, dict[str, str]]] = []
    for node in items.value:
        line = node.start_mark.line + 1
        if not isinstance(node, yaml.MappingNode):
            problems.append(RowProblem(line, "each procedure must be a mapping (code: ..., name: ..., service: ...)"))
            continue
        row: dict[str, str] = {}
        bad = False
        for k, v in node.value:
            kline = k.start_mark.line + 1
            key = _header_key(k.value) if isinstance(k, yaml.ScalarNode) else None
            if key is None:
                problems.append(RowProblem(kline, f"unknown key {getattr(k, 'value', '?')!r} (keys: {', '.join(FIELDS)})"))
                bad = True
            elif not isinstance(v, yaml.ScalarNode):
                problems.append(RowProblem(kline, f"{key} must be a single value"))
                bad = True
            elif key in row:
                problems.append(RowProblem(kline, f"{key} appears twice"))
                bad = True
            else:
                plain_null = v.style is None and v.value in ("", "~", "null", "Null", "NULL")
                row[key] = "" if plain_null else v.value
        if not bad:
            rows.append((line, row))
    return _validate(rows, services, source, problems)


def _validate(rows: list[tuple[int, dict[str, str]]], services: Mapping[str, str], source: str,
              problems: list[RowProblem]) -> list[Procedure]:
    if len(rows) > MAX_ROWS:
        problems.append(RowProblem(None, f"{len(rows)} procedures; at most {MAX_ROWS} may be imported"))
    seen: dict[str, int] = {}
    out: list[Procedure] = []
    for line, row in rows:
        row = {k: " ".join(unicodedata.normalize("NFC", v).split()) for k, v in row.items()}
        msgs = []
        for f in REQUIRED:
            if not row.get(f):
                msgs.append(f"{f} is empty")
        if not row.get("service") and not row.get("elsewhere"):
            msgs.append("service is empty (or say in elsewhere where the procedure is handled instead)")
        if row.get("elsewhere_en") and not row.get("elsewhere"):
            msgs.append("elsewhere_en without elsewhere")
        code = row.get("code", "")
        if code and not CODE_PATTERN.match(code):
            msgs.append(f"code {code!r} is not a procedure code (letters, digits, dots, e.g. 1.001193)")
        elif code:
            key = code.casefold()
            if key in seen:
                msgs.append(f"code {code} is also on line {seen[key]}")
            else:
                seen[key] = line
        service = row.get("service", "")
        dept = row.get("department", "")
        if service and service not in services:
            msgs.append(f"unknown service {service!r} (not in config.yaml)")
        elif service and dept and services[service] != dept:
            msgs.append(f"service {service!r} belongs to department {services[service]!r}, not {dept!r}")
        elif not service and dept and dept not in set(services.values()):
            msgs.append(f"unknown department {dept!r} (not in config.yaml)")
        for f, limit in MAX_TEXT.items():
            if len(row.get(f, "")) > limit:
                msgs.append(f"{f} is longer than {limit} characters")
        if msgs:
            problems.append(RowProblem(line, "; ".join(msgs)))
            continue
        out.append(Procedure(code=code, name=row["name"], service=service, department=services.get(service, dept),
                             **{f: row.get(f, "") for f in FIELDS if f not in ("code", "name", "service", "department")}))
    if not out and not problems:
        problems.append(RowProblem(None, "the file lists no procedures"))
    if problems:
        raise CatalogueError(source, problems)
    return out


# ------------------------------------------------------------------ search
_VOWELS = frozenset("aeiou")


def _abbreviation(token: str) -> bool:
    """A token that can only be initials ("gplx", "cccd", "bhyt"): letters, no vowel but y. Every Vietnamese
    word of three letters or more has one, so a real word never matches initials by accident."""
    return len(token) >= 3 and token.isalpha() and not (_VOWELS & set(token))


@dataclass(frozen=True)
class _Entry:
    procedure: Procedure
    name: str       # folded name
    padded: str     # " " + folded name + " ", for whole-word tests
    words: str      # " " + folded name, English name, field, service name + " "
    initials: str   # first letters of the name's words: "giay phep lai xe" -> "gplx"
    code: str       # folded code
    lower: str      # the name in lower case, diacritics kept
    order: int


@dataclass(frozen=True)
class Hit:
    procedure: Procedure
    score: int


class CatalogueIndex:
    """Procedures with their folded text computed once; `search` ranks them for a query."""

    def __init__(self, procedures: Iterable[Procedure], service_names: Mapping[str, str] | None = None):
        """`service_names`: service id -> text searched too, at a low rank (e.g. "Cấp thẻ Căn cước (CCCD)")."""
        self.entries: list[_Entry] = []
        extra = {sid: fold(text) for sid, text in (service_names or {}).items()}
        for i, p in enumerate(procedures):
            name = fold(p.name)
            words = f" {name} {fold(p.name_en)} {fold(p.field)} {extra.get(p.service, '')} "
            initials = "".join(w[0] for w in name.split())
            self.entries.append(_Entry(p, name, f" {name} ", words, initials, fold_code(p.code),
                                       unicodedata.normalize("NFC", p.name).casefold(), i))

    def __len__(self) -> int:
        return len(self.entries)

    def search(self, query: str, limit: int = 20, services: set[str] | None = None) -> list[Hit]:
        """The best `limit` procedures for `query`, best first; [] for an empty query."""
        return self.search_counted(query, limit, services)[0]

    def search_counted(self, query: str, limit: int = 20, services: set[str] | None = None) -> tuple[list[Hit], int]:
        """`search`, and how many procedures matched in all (the list stops at `limit`)."""
        q = fold(query)
        compact = fold_code(query)
        tokens = q.split()
        if not tokens:
            return [], 0
        lowered = " ".join(unicodedata.normalize("NFC", query).casefold().split())
        has_digit = any(ch.isdigit() for ch in compact)
        abbreviations = frozenset(t for t in tokens if _abbreviation(t))
        ordered = sorted(set(tokens), key=len, reverse=True)  # the longest word rejects most entries first
        first = ordered[0]
        by_code = has_digit and len(compact) >= 3
        hits: list[tuple[int, int, _Entry]] = []
        for e in self.entries:
            if services is not None and e.procedure.service not in services and not (
                    e.procedure.elsewhere and not e.procedure.service):  # handled elsewhere: found on every kiosk
                continue
            score = 0
            if by_code:
                if e.code == compact:
                    score = 1000
                elif e.code.startswith(compact):
                    score = 800
                elif len(compact) >= 4 and compact in e.code:
                    score = 600
            if score == 0 and first not in e.words and first not in e.code and not (
                    first in abbreviations and first in e.initials):
                continue
            name_score = self._name_score(e, q, ordered, abbreviations)
            if name_score == 0 and score == 0:
                continue
            if name_score and lowered in e.lower:
                name_score += 30  # typed with the right diacritics: "cà" before "ca"
            score = max(score, name_score)
            hits.append((score, -e.order, e))  # ties keep the catalogue's order (the centre's own ranking)
        best = heapq.nlargest(limit, hits, key=lambda h: h[:2])
        return [Hit(h[2].procedure, h[0]) for h in best], len(hits)

    @staticmethod
    def _name_score(e: _Entry, q: str, tokens: list[str], abbreviations: frozenset[str]) -> int:
        """`tokens`: the query's distinct words, longest first."""
        for t in tokens:
            if t not in e.words and t not in e.code and not (t in abbreviations and t in e.initials):
                return 0
        if e.name == q:
            return 500
        if e.name.startswith(q):
            return 400 + (20 if e.padded.startswith(f" {q} ") else 0)
        if f" {q} " in e.padded:
            return 350
        if f" {q}" in e.padded:
            return 300
        if q in e.name:
            return 250
        if all(f" {t}" in e.padded for t in tokens):
            return 200
        if all(t in e.name for t in tokens):
            return 150
        return 100
