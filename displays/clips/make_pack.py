"""Build a voice clip pack with espeak-ng: one small WAV per clip name, plus a chime and manifest.json.

    python -m displays.clips.make_pack                       # the default pack, into displays/clips/default
    python -m displays.clips.make_pack --config config.yaml  # also the phrases of the centre's templates
    python -m displays.clips.make_pack --list                # print the clip names and their texts

Needs espeak-ng (Vietnamese voice `vi`, English `en-gb`) and sox; only for building a pack, never at run
time. Clips are mono, 16-bit, 16 kHz, trimmed of silence at both ends (a short pause is kept after each, so
clips played one after another sound like one sentence) and normalised to the same loudness. A centre that
records human clips saves them under the same names (docs/voice.md); this script only shows what to record.
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import struct
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

from queue_server.core.voice import CHIME, pack_vocabulary

HERE = Path(__file__).parent
RATE = 16000


def chime(path: Path, rate: int = RATE) -> None:
    """A soft two-tone chime (ding-dong, E5 then C5) with a bell-like decay, about 1.3 s."""
    frames = []
    total = int(1.3 * rate)
    notes = ((0.0, 659.25), (0.45, 523.25))
    for i in range(total):
        t = i / rate
        v = 0.0
        for start, freq in notes:
            if t >= start:
                dt = t - start
                env = math.exp(-dt * 3.2) * min(1.0, dt / 0.01)
                v += env * (math.sin(2 * math.pi * freq * dt) + 0.3 * math.sin(2 * math.pi * 2 * freq * dt)
                            + 0.1 * math.sin(2 * math.pi * 3 * freq * dt))
        frames.append(struct.pack("<h", int(max(-1.0, min(1.0, v * 0.32)) * 32767)))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(frames))


def speak(text: str, lang: str, kind: str, out: Path, *, rate: int, speed: int, voice_vi: str, voice_en: str) -> None:
    # espeak-ng names an English letter correctly when given the letter itself ("A" -> /eI/).
    say = text
    if kind == "letter" and lang == "en":
        say = out.stem.rsplit("_", 1)[-1].upper()
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(["espeak-ng", "-v", voice_vi if lang == "vi" else voice_en, "-s", str(speed), "-w", str(raw),
                        say], check=True, capture_output=True)
        subprocess.run(["sox", "-D", str(raw), "-r", str(rate), "-c", "1", "-b", "16", str(out),
                        "silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%", "reverse",
                        "gain", "-n", "-3", "pad", "0", "0.08"], check=True, capture_output=True)


def templates_from(config_path: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if not config_path:
        return (), ()
    from queue_server.config import load_config

    voice = load_config(config_path).voice
    return (voice.template,), (voice.template_en,)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m displays.clips.make_pack", description=__doc__.split("\n")[0])
    ap.add_argument("--pack", default="default", help="pack name (directory under displays/clips)")
    ap.add_argument("--out", help="output directory (default displays/clips/<pack>)")
    ap.add_argument("--config", help="config.yaml whose voice templates' phrases are added")
    ap.add_argument("--rate", type=int, default=RATE, help="sample rate (16000 or 22050)")
    ap.add_argument("--speed", type=int, default=140, help="espeak-ng words per minute")
    ap.add_argument("--voice-vi", default="vi", help="espeak-ng Vietnamese voice (vi, vi-vn-x-central, vi-vn-x-south)")
    ap.add_argument("--voice-en", default="en-gb", help="espeak-ng English voice")
    ap.add_argument("--list", action="store_true", help="print the clip names and texts, make nothing")
    args = ap.parse_args(argv)

    vocabulary = pack_vocabulary(*templates_from(args.config))
    if args.list:
        for name, info in sorted(vocabulary.items()):
            print(f"{name}\t{info['lang']}\t{info['kind']}\t{info['text']}")
        return 0
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            print(f"{tool} is needed to build a pack (apt-get install espeak-ng sox)", file=sys.stderr)
            return 2
    out = Path(args.out) if args.out else HERE / args.pack
    out.mkdir(parents=True, exist_ok=True)
    for name, info in sorted(vocabulary.items()):
        target = out / f"{name}.wav"
        if name == CHIME:
            chime(target, args.rate)
        else:
            speak(info["text"], info["lang"], info["kind"], target, rate=args.rate, speed=args.speed,
                  voice_vi=args.voice_vi, voice_en=args.voice_en)
    manifest = {
        "pack": args.pack,
        "made_by": f"displays/clips/make_pack.py with espeak-ng voices {args.voice_vi} and {args.voice_en}",
        "format": f"WAV, mono, 16-bit, {args.rate} Hz",
        "clips": {name: vocabulary[name] for name in sorted(vocabulary)},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    size = sum(f.stat().st_size for f in out.glob("*.wav"))
    print(f"{len(vocabulary)} clips in {out} ({size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
