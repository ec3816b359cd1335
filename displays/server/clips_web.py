"""Serving the voice clip packs: GET /clips/<pack>/<name>.wav and GET /clips/<pack>/manifest.json.

A pack is a directory displays/clips/<pack>/ of WAV files named as displays/voice.py names them, with a
manifest.json (name -> text). A clip missing from a centre's own pack is served from the default pack, so a
centre may record only some clips. Names are checked against a strict pattern before any file is touched:
no path traversal, and anything unknown is a 404 JSON error.
"""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from flask import Blueprint, current_app, jsonify, send_file

from queue_server.core.errors import DomainError

from queue_server.core.voice import CHIME, announcement, pack_vocabulary, phrase_tokens

log = logging.getLogger(__name__)

CLIPS_DIR = Path(__file__).resolve().parent.parent / "clips"  # displays/clips/
DEFAULT_PACK = "default"
PACK_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_]{0,119}$")

bp = Blueprint("clips", __name__)


def pack_dir(pack: str, root: Path = CLIPS_DIR) -> Path | None:
    if not isinstance(pack, str) or not PACK_PATTERN.match(pack):
        return None
    d = root / pack
    return d if d.is_dir() else None


def clip_file(pack: str, name: str, root: Path = CLIPS_DIR) -> Path | None:
    """The WAV file of a clip: from the pack, else from the default pack; None when neither has it."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        return None
    for d in (pack_dir(pack, root), pack_dir(DEFAULT_PACK, root) if pack != DEFAULT_PACK else None):
        if d is not None:
            f = d / f"{name}.wav"
            if f.is_file():
                return f
    return None


def needed_clips(voice) -> set[str]:
    """Clip names the configured voice can ask for: fixed words, letters, and the templates' phrases."""
    names = set(pack_vocabulary())
    names |= {t.clip for t in phrase_tokens(voice.template, "vi")}
    names |= {t.clip for t in phrase_tokens(voice.template_en, "en")}
    return names


def missing_clips(voice, root: Path = CLIPS_DIR) -> list[str]:
    if pack_dir(voice.clip_pack, root) is None:
        return sorted(needed_clips(voice))
    return sorted(n for n in needed_clips(voice) if clip_file(voice.clip_pack, n, root) is None)


@bp.record_once
def _check_pack(state) -> None:
    """At start: say which clips the configured announcements need that the pack lacks."""
    ctx = state.app.extensions.get("qms")
    if ctx is None or ctx.config.voice.engine != "clips":
        return
    voice = ctx.config.voice
    missing = missing_clips(voice)
    if missing:
        log.warning("voice.clip_pack %r lacks %d clip(s) the announcements use: %s. Record them or run "
                    "`python -m displays.clips.make_pack --config <config.yaml> --pack %s` (docs/voice.md).",
                    voice.clip_pack, len(missing), ", ".join(missing[:20]), voice.clip_pack)


@bp.get("/clips/<pack>/<name>.wav")
def clip(pack: str, name: str):
    if pack_dir(pack) is None:
        raise DomainError("clip_pack_unknown", pack=pack[:40])
    f = clip_file(pack, name)
    if f is None:
        raise DomainError("clip_unknown", pack=pack, clip=name[:120])
    return send_file(f, mimetype="audio/wav", max_age=3600, conditional=True)


@bp.get("/clips/<pack>/manifest.json")
def manifest(pack: str):
    d = pack_dir(pack)
    if d is None:
        raise DomainError("clip_pack_unknown", pack=pack[:40])
    data = {}
    if (d / "manifest.json").is_file():
        data = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    clips = dict(data.get("clips") or {})
    for f in sorted(d.glob("*.wav")):  # recorded files a centre added without editing the manifest
        if NAME_PATTERN.match(f.stem):
            clips.setdefault(f.stem, {"text": "", "lang": "", "kind": "recorded"})
    voice = current_app.extensions["qms"].config.voice
    example = announcement("1005", 3, voice)
    missing = sorted(n for n in needed_clips(voice) if clip_file(pack, n) is None)
    return jsonify(pack=pack, clips=clips, chime=CHIME, example=example, missing=missing)
