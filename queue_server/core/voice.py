"""What a call sounds like: Vietnamese (and English) number reading, and the clip names of an announcement.

Pure: no Flask, no files. The server turns every call into an announcement (`announcement`), a list of clip
names the display's player plays in order from the clip pack (/clips/<pack>/<name>.wav), plus the same
sentence as text for a browser speech voice.

Clip names (documented in docs/voice.md): a clip is named by its text in lower case without diacritics
(đ -> d), every run of other characters an underscore: "đến quầy số" -> den_quay_so. Two number words meet
this way, một/mốt and mười/mươi: the standalone word keeps the plain name (mot = "một", muoi = "mười") and
the form used only inside numbers gets the name of its tone (mot_sac = "mốt", muoi_ngang = "mươi").
Letters are chu_<letter> (chu_a = "a", chu_b = "bê"); English clips start with en_ (en_one, en_letter_a,
en_ticket_number). The chime is `chime`.

Reading numbers as words follows standard Vietnamese:
  10 mười, 11 mười một, 14 mười bốn, 15 mười lăm, 20 hai mươi, 21 hai mươi mốt, 24 hai mươi tư (a setting:
  "bốn" in the south), 25 hai mươi lăm, 105 một trăm linh năm (linh or lẻ: a setting), 1005 một nghìn không
  trăm linh năm (nghìn or ngàn: a setting), 1010 một nghìn không trăm mười, 21000 hai mươi mốt nghìn.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

CHIME = "chime"
MAX_NUMBER = 999_999_999

DIGITS_VI = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
DIGITS_EN = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
TEENS_EN = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
            "nineteen")
TENS_EN = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")

# How Vietnamese read the Latin letters of a ticket prefix (A001 -> "a không không một").
LETTERS_VI = {
    "A": "a", "B": "bê", "C": "xê", "D": "dê", "E": "e", "F": "ép", "G": "giê", "H": "hát", "I": "i",
    "J": "gi", "K": "ca", "L": "e lờ", "M": "em mờ", "N": "en nờ", "O": "o", "P": "pê", "Q": "quy",
    "R": "e rờ", "S": "ét xì", "T": "tê", "U": "u", "V": "vê", "W": "vê kép", "X": "ích xì", "Y": "i dài",
    "Z": "dét",
}
LETTERS_EN = {
    "A": "ay", "B": "bee", "C": "see", "D": "dee", "E": "ee", "F": "ef", "G": "jee", "H": "aitch", "I": "eye",
    "J": "jay", "K": "kay", "L": "el", "M": "em", "N": "en", "O": "oh", "P": "pee", "Q": "cue", "R": "ar",
    "S": "ess", "T": "tee", "U": "you", "V": "vee", "W": "double you", "X": "ex", "Y": "why", "Z": "zed",
}

# Number words whose plain name is taken by another word (see the module docstring).
SPECIAL_NAMES = {"mốt": "mot_sac", "mươi": "muoi_ngang"}


@dataclass(frozen=True)
class Token:
    """One clip: what it says and its file name in the pack."""

    text: str
    clip: str


@dataclass(frozen=True)
class Reading:
    """How numbers are read (voice.* in config.yaml)."""

    number_reading: str = "digits"  # digits | words
    thousand_word: str = "nghìn"  # nghìn | ngàn
    zero_tens_word: str = "linh"  # linh | lẻ
    four_word: str = "tư"  # tư | bốn: the 4 after "mươi" (24 hai mươi tư)

    def __post_init__(self):
        for name, allowed in (("number_reading", ("digits", "words")), ("thousand_word", ("nghìn", "ngàn")),
                              ("zero_tens_word", ("linh", "lẻ")), ("four_word", ("tư", "bốn"))):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")


# ------------------------------------------------------------------ clip names
def fold(text: str) -> str:
    """ASCII name of a text: lower case, no diacritics, đ -> d, other characters -> one underscore."""
    text = text.replace("đ", "d").replace("Đ", "D")
    plain = "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")


def vi(text: str) -> Token:
    return Token(text, SPECIAL_NAMES.get(text) or fold(text))


def en(text: str) -> Token:
    return Token(text, "en_" + fold(text))


def letter_vi(ch: str) -> Token:
    return Token(LETTERS_VI[ch], f"chu_{ch.lower()}")


def letter_en(ch: str) -> Token:
    return Token(LETTERS_EN[ch], f"en_letter_{ch.lower()}")


# ------------------------------------------------------------------ Vietnamese numbers
def _tens_units(t: int, u: int, reading: Reading, after_hundreds: bool) -> list[str]:
    if t == 0:
        if u == 0:
            return []
        return ([reading.zero_tens_word] if after_hundreds else []) + [DIGITS_VI[u]]
    if t == 1:
        out = ["mười"]
    else:
        out = [DIGITS_VI[t], "mươi"]
    if u == 0:
        return out
    if u == 5:
        out.append("lăm")  # 15 mười lăm, 25 hai mươi lăm
    elif u == 1 and t >= 2:
        out.append("mốt")  # 21 hai mươi mốt (but 11 mười một)
    elif u == 4 and t >= 2:
        out.append(reading.four_word)  # 24 hai mươi tư (but 14 mười bốn)
    else:
        out.append(DIGITS_VI[u])
    return out


def _group(value: int, reading: Reading, full: bool) -> list[str]:
    """Read 1-999; `full` when a larger group came before (1005: "không trăm linh năm")."""
    h, t, u = value // 100, value // 10 % 10, value % 10
    if h or full:
        return [DIGITS_VI[h], "trăm", *_tens_units(t, u, reading, after_hundreds=True)]
    return _tens_units(t, u, reading, after_hundreds=False)


def words_vi(n: int, reading: Reading = Reading()) -> list[str]:
    """The number as Vietnamese words, e.g. 1005 -> [một, nghìn, không, trăm, linh, năm]."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 0 or n > MAX_NUMBER:
        raise ValueError(f"cannot read {n!r}: a whole number from 0 to {MAX_NUMBER} is needed")
    if n == 0:
        return [DIGITS_VI[0]]
    out: list[str] = []
    for value, word in ((n // 1_000_000, "triệu"), (n // 1000 % 1000, reading.thousand_word), (n % 1000, None)):
        if value == 0:
            continue
        out += _group(value, reading, full=bool(out))
        if word:
            out.append(word)
    return out


def digits_vi(digits: str) -> list[str]:
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"not digits: {digits!r}")
    return [DIGITS_VI[int(d)] for d in digits]


# ------------------------------------------------------------------ English numbers
def words_en(n: int) -> list[str]:
    if not isinstance(n, int) or isinstance(n, bool) or n < 0 or n > MAX_NUMBER:
        raise ValueError(f"cannot read {n!r}: a whole number from 0 to {MAX_NUMBER} is needed")
    if n == 0:
        return ["zero"]
    out: list[str] = []
    for value, word in ((n // 1_000_000, "million"), (n // 1000 % 1000, "thousand"), (n % 1000, None)):
        if value == 0:
            continue
        h, rest = value // 100, value % 100
        if h:
            out += [DIGITS_EN[h], "hundred"]
        if 10 <= rest < 20:
            out.append(TEENS_EN[rest - 10])
        elif rest:
            if rest >= 20:
                out.append(TENS_EN[rest // 10])
            if rest % 10:
                out.append(DIGITS_EN[rest % 10])
        if word:
            out.append(word)
    return out


def digits_en(digits: str) -> list[str]:
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"not digits: {digits!r}")
    return [DIGITS_EN[int(d)] for d in digits]


# ------------------------------------------------------------------ codes and counters
CODE_PATTERN = re.compile(r"^([A-Z]*)([0-9]+)$")


def split_code(code: str) -> tuple[str, str]:
    """'A001' -> ('A', '001'); a ticket code is letters (the range's prefix) then digits."""
    m = CODE_PATTERN.match(code.strip().upper()) if isinstance(code, str) else None
    if m is None:
        raise ValueError(f"a ticket code is letters then digits (e.g. 1005, A001), got {code!r}")
    return m.group(1), m.group(2)


def code_tokens(code: str, reading: Reading = Reading()) -> list[Token]:
    """A ticket code read aloud: letters by name, then the digits one by one or the number as words."""
    prefix, digits = split_code(code)
    out = [letter_vi(ch) for ch in prefix]
    words = digits_vi(digits) if reading.number_reading == "digits" else words_vi(int(digits), reading)
    return out + [vi(w) for w in words]


def code_tokens_en(code: str, reading: Reading = Reading()) -> list[Token]:
    prefix, digits = split_code(code)
    out = [letter_en(ch) for ch in prefix]
    words = digits_en(digits) if reading.number_reading == "digits" else words_en(int(digits))
    return out + [en(w) for w in words]


def counter_tokens(counter: int | str, reading: Reading = Reading()) -> list[Token]:
    """A counter is read as a number in words (quầy số mười hai), whatever the ticket reading."""
    if isinstance(counter, int) and not isinstance(counter, bool):
        return [vi(w) for w in words_vi(counter, reading)]
    return code_tokens(str(counter), Reading(**{**reading.__dict__, "number_reading": "digits"}))


def counter_tokens_en(counter: int | str) -> list[Token]:
    if isinstance(counter, int) and not isinstance(counter, bool):
        return [en(w) for w in words_en(counter)]
    return code_tokens_en(str(counter))


# ------------------------------------------------------------------ templates
PLACEHOLDER = re.compile(r"\{(number|counter)\}")
EDGE_PUNCT = " \t,.;:!?-–—"


def template_parts(template: str) -> list[str]:
    """Split a sentence template into fixed phrases and the placeholders '{number}' / '{counter}'.

    Phrases are trimmed of spaces and punctuation at their ends; those with nothing to say are dropped."""
    out = []
    pos = 0
    for m in PLACEHOLDER.finditer(template):
        phrase = template[pos:m.start()].strip(EDGE_PUNCT)
        if fold(phrase):  # nothing to say in a phrase of punctuation only
            out.append(phrase)
        out.append(m.group(0))
        pos = m.end()
    tail = template[pos:].strip(EDGE_PUNCT)
    if fold(tail):
        out.append(tail)
    leftover = re.findall(r"\{[^}]*\}", "".join(p for p in out if not PLACEHOLDER.fullmatch(p)))
    if leftover:
        raise ValueError(f"unknown placeholder(s) {leftover}; use {{number}} and {{counter}}")
    return out


def phrase_tokens(template: str, lang: str = "vi") -> list[Token]:
    """The fixed phrases of a template as clips (what a pack must record for it)."""
    make = vi if lang == "vi" else en
    return [make(p) for p in template_parts(template) if not PLACEHOLDER.fullmatch(p)]


def sentence(template: str, number: list[Token], counter: list[Token], lang: str = "vi") -> list[Token]:
    make = vi if lang == "vi" else en
    out: list[Token] = []
    for part in template_parts(template):
        if part == "{number}":
            out += number
        elif part == "{counter}":
            out += counter
        else:
            out.append(make(part))
    return out


def fill(template: str, code: str, counter: int | str) -> str:
    """The template with {number} and {counter} replaced (other braces are left as written)."""
    return PLACEHOLDER.sub(lambda m: code if m.group(1) == "number" else str(counter), template)


def spoken(tokens: list[Token]) -> str:
    return " ".join(t.text for t in tokens)


# ------------------------------------------------------------------ the announcement of one call
def reading_of(voice) -> Reading:
    """A Reading from the voice section of the config (any object with those attributes)."""
    return Reading(number_reading=voice.number_reading, thousand_word=voice.thousand_word,
                   zero_tens_word=voice.zero_tens_word, four_word=getattr(voice, "four_word", "tư"))


def announcement(code: str, counter: int | str, voice, *, announce_en: bool = False) -> dict:
    """What the display plays for one call.

    `clips` is the FULL sequence to play in order: the chime once, then the sentence `repeat` times (for a
    service with announce_en, each time the Vietnamese sentence followed by the English one).
    `sentence` / `sentence_en` are one saying each; `text` is the sentence as shown (digits as on the
    slip), `spoken` the same with the number in words as read (for a browser speech voice)."""
    reading = reading_of(voice)
    number_vi = code_tokens(code, reading)
    counter_vi = counter_tokens(counter, reading)
    sent_vi = sentence(voice.template, number_vi, counter_vi, "vi")
    sent_en = None
    if announce_en:
        sent_en = sentence(voice.template_en, code_tokens_en(code, reading), counter_tokens_en(counter), "en")
    one = [t.clip for t in sent_vi] + ([t.clip for t in sent_en] if sent_en else [])
    return {
        "pack": voice.clip_pack,
        "engine": voice.engine,
        "chime": CHIME,
        "repeat": voice.repeat,
        "sentence": [t.clip for t in sent_vi],
        "sentence_en": [t.clip for t in sent_en] if sent_en else None,
        "clips": [CHIME] + one * voice.repeat,
        "clips_en": [t.clip for t in sent_en] if sent_en else None,
        "text": fill(voice.template, code, counter),
        "spoken": spoken(sent_vi),
        "text_en": fill(voice.template_en, code, counter) if announce_en else None,
        "spoken_en": spoken(sent_en) if sent_en else None,
    }


# ------------------------------------------------------------------ what a complete pack holds
def pack_vocabulary(templates_vi: tuple[str, ...] = (), templates_en: tuple[str, ...] = ()) -> dict[str, dict]:
    """Every clip a pack needs: name -> {text, lang, kind}, for the default templates and any others given."""
    templates_vi = (DEFAULT_TEMPLATE, *templates_vi)
    templates_en = (DEFAULT_TEMPLATE_EN, *templates_en)
    out: dict[str, dict] = {CHIME: {"text": "(chime)", "lang": "", "kind": "chime"}}

    def add(tok: Token, lang: str, kind: str) -> None:
        prev = out.get(tok.clip)
        if prev is not None and prev["text"].lower() != tok.text.lower():
            raise ValueError(f"clip name {tok.clip!r} would say both {prev['text']!r} and {tok.text!r}")
        out.setdefault(tok.clip, {"text": tok.text, "lang": lang, "kind": kind})

    for t in templates_vi:
        for tok in phrase_tokens(t, "vi"):
            add(tok, "vi", "phrase")
    for t in templates_en:
        for tok in phrase_tokens(t, "en"):
            add(tok, "en", "phrase")
    for w in DIGITS_VI:
        add(vi(w), "vi", "digit")
    for w in ("mười", "mươi", "mốt", "tư", "lăm", "trăm", "nghìn", "ngàn", "linh", "lẻ", "triệu"):
        add(vi(w), "vi", "number_word")
    for ch in LETTERS_VI:
        add(letter_vi(ch), "vi", "letter")
    for w in DIGITS_EN:
        add(en(w), "en", "digit")
    for w in (*TEENS_EN, *TENS_EN[2:], "hundred", "thousand", "million"):
        add(en(w), "en", "number_word")
    for ch in LETTERS_EN:
        add(letter_en(ch), "en", "letter")
    return out


DEFAULT_TEMPLATE = "Xin mời công dân có số thứ tự {number} đến quầy số {counter}"
DEFAULT_TEMPLATE_EN = "Ticket number {number}, please come to counter {counter}"
