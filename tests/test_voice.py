"""Voice announcements: Vietnamese number reading (tables), clip names, the announcement of a call, the
completeness of the default clip pack, and the clip routes and call payloads of the server in this process."""
from __future__ import annotations

import json
import wave
from pathlib import Path
from types import SimpleNamespace

import pytest

from queue_server.core import voice as V
from displays.server.clips_web import CLIPS_DIR, clip_file, missing_clips, needed_clips
from conftest import Clock
from inproc import InProcessServer
from server_util import KIOSK, server_config

PACK = CLIPS_DIR / "default"


def words(n, **kw):
    return " ".join(V.words_vi(n, V.Reading(**kw)))


# ------------------------------------------------------------------ 0-99
@pytest.mark.parametrize("n, text", [
    (0, "không"), (1, "một"), (2, "hai"), (3, "ba"), (4, "bốn"), (5, "năm"), (6, "sáu"), (7, "bảy"), (8, "tám"),
    (9, "chín"), (10, "mười"), (11, "mười một"), (12, "mười hai"), (14, "mười bốn"), (15, "mười lăm"),
    (16, "mười sáu"), (19, "mười chín"), (20, "hai mươi"), (21, "hai mươi mốt"), (22, "hai mươi hai"),
    (24, "hai mươi tư"), (25, "hai mươi lăm"), (30, "ba mươi"), (31, "ba mươi mốt"), (34, "ba mươi tư"),
    (35, "ba mươi lăm"), (40, "bốn mươi"), (41, "bốn mươi mốt"), (44, "bốn mươi tư"), (45, "bốn mươi lăm"),
    (50, "năm mươi"), (51, "năm mươi mốt"), (54, "năm mươi tư"), (55, "năm mươi lăm"), (60, "sáu mươi"),
    (71, "bảy mươi mốt"), (85, "tám mươi lăm"), (90, "chín mươi"), (91, "chín mươi mốt"), (94, "chín mươi tư"),
    (95, "chín mươi lăm"), (99, "chín mươi chín"),
])
def test_words_0_to_99(n, text):
    assert words(n) == text


# ------------------------------------------------------------------ 100-999
@pytest.mark.parametrize("n, text", [
    (100, "một trăm"), (101, "một trăm linh một"), (104, "một trăm linh bốn"), (105, "một trăm linh năm"),
    (109, "một trăm linh chín"), (110, "một trăm mười"), (111, "một trăm mười một"), (114, "một trăm mười bốn"),
    (115, "một trăm mười lăm"), (120, "một trăm hai mươi"), (121, "một trăm hai mươi mốt"),
    (124, "một trăm hai mươi tư"), (125, "một trăm hai mươi lăm"), (200, "hai trăm"), (305, "ba trăm linh năm"),
    (450, "bốn trăm năm mươi"), (500, "năm trăm"), (505, "năm trăm linh năm"), (515, "năm trăm mười lăm"),
    (555, "năm trăm năm mươi lăm"), (701, "bảy trăm linh một"), (711, "bảy trăm mười một"),
    (999, "chín trăm chín mươi chín"),
])
def test_words_100_to_999(n, text):
    assert words(n) == text


# ------------------------------------------------------------------ 1000-99999 and beyond
@pytest.mark.parametrize("n, text", [
    (1000, "một nghìn"), (1001, "một nghìn không trăm linh một"), (1005, "một nghìn không trăm linh năm"),
    (1010, "một nghìn không trăm mười"), (1015, "một nghìn không trăm mười lăm"),
    (1021, "một nghìn không trăm hai mươi mốt"), (1100, "một nghìn một trăm"),
    (1105, "một nghìn một trăm linh năm"), (1234, "một nghìn hai trăm ba mươi tư"), (2000, "hai nghìn"),
    (2021, "hai nghìn không trăm hai mươi mốt"), (5555, "năm nghìn năm trăm năm mươi lăm"),
    (9999, "chín nghìn chín trăm chín mươi chín"), (10000, "mười nghìn"),
    (10005, "mười nghìn không trăm linh năm"), (11000, "mười một nghìn"), (15000, "mười lăm nghìn"),
    (21000, "hai mươi mốt nghìn"), (24000, "hai mươi tư nghìn"), (25500, "hai mươi lăm nghìn năm trăm"),
    (50050, "năm mươi nghìn không trăm năm mươi"), (99999, "chín mươi chín nghìn chín trăm chín mươi chín"),
    (100000, "một trăm nghìn"), (105000, "một trăm linh năm nghìn"), (999999,
     "chín trăm chín mươi chín nghìn chín trăm chín mươi chín"), (1000000, "một triệu"),
    (1000005, "một triệu không trăm linh năm"), (2500000, "hai triệu năm trăm nghìn"),
])
def test_words_thousands(n, text):
    assert words(n) == text


@pytest.mark.parametrize("n, kw, text", [
    (1005, {"thousand_word": "ngàn"}, "một ngàn không trăm linh năm"),
    (105, {"zero_tens_word": "lẻ"}, "một trăm lẻ năm"),
    (1005, {"thousand_word": "ngàn", "zero_tens_word": "lẻ"}, "một ngàn không trăm lẻ năm"),
    (24, {"four_word": "bốn"}, "hai mươi bốn"),
    (24, {"four_word": "tư"}, "hai mươi tư"),
    (14, {"four_word": "tư"}, "mười bốn"),  # after mười it is always bốn
    (4, {"four_word": "tư"}, "bốn"),
    (104, {"four_word": "tư"}, "một trăm linh bốn"),
    (34000, {"four_word": "bốn", "thousand_word": "ngàn"}, "ba mươi bốn ngàn"),
])
def test_reading_settings(n, kw, text):
    assert words(n, **kw) == text


@pytest.mark.parametrize("block", range(10))
def test_rules_hold_for_every_number_below_10000(block):
    for n in range(block * 1000, block * 1000 + 1000):
        check_rules(n, V.words_vi(n))


def check_rules(n, w):
    for a, b in zip(w, w[1:]):
        assert not (a == "mười" and b == "mốt"), "11 is mười một"
        assert not (b == "lăm" and a not in ("mười", "mươi")), "lăm only after mười/mươi"
        assert not (b == "năm" and a in ("mười", "mươi")), "5 after mười/mươi is lăm"
        assert not (b == "tư" and a != "mươi")
        assert not (b == "mốt" and a != "mươi")
    assert ("nghìn" in w) == (n >= 1000)
    if n >= 1000 and n % 1000 and n % 1000 < 100:
        assert w[2:4] == ["không", "trăm"], "1005 keeps không trăm"


@pytest.mark.parametrize("bad", [-1, 1_000_000_000, 1.5, "12", None, True])
def test_words_refuse_bad_numbers(bad):
    with pytest.raises(ValueError):
        V.words_vi(bad)


@pytest.mark.parametrize("kw", [{"number_reading": "both"}, {"thousand_word": "ngan"}, {"zero_tens_word": "le"},
                                {"four_word": "4"}])
def test_reading_refuses_unknown_settings(kw):
    with pytest.raises(ValueError):
        V.Reading(**kw)


# ------------------------------------------------------------------ codes: digits mode, words mode, prefixes
DIGITS = V.Reading(number_reading="digits")
WORDS = V.Reading(number_reading="words")


@pytest.mark.parametrize("code, reading, clips", [
    ("1005", DIGITS, ["mot", "khong", "khong", "nam"]),
    ("1005", WORDS, ["mot", "nghin", "khong", "tram", "linh", "nam"]),
    ("1021", WORDS, ["mot", "nghin", "khong", "tram", "hai", "muoi_ngang", "mot_sac"]),
    ("1011", WORDS, ["mot", "nghin", "khong", "tram", "muoi", "mot"]),
    ("1024", WORDS, ["mot", "nghin", "khong", "tram", "hai", "muoi_ngang", "tu"]),
    ("1015", WORDS, ["mot", "nghin", "khong", "tram", "muoi", "lam"]),
    ("2999", DIGITS, ["hai", "chin", "chin", "chin"]),
    ("0", DIGITS, ["khong"]),
    ("A001", DIGITS, ["chu_a", "khong", "khong", "mot"]),
    ("A001", WORDS, ["chu_a", "mot"]),
    ("B105", WORDS, ["chu_b", "mot", "tram", "linh", "nam"]),
    ("C045", DIGITS, ["chu_c", "khong", "bon", "nam"]),
    ("TKQ001", DIGITS, ["chu_t", "chu_k", "chu_q", "khong", "khong", "mot"]),
    ("TKQ012", WORDS, ["chu_t", "chu_k", "chu_q", "muoi", "hai"]),
    ("Z999", DIGITS, ["chu_z", "chin", "chin", "chin"]),
    ("a001", DIGITS, ["chu_a", "khong", "khong", "mot"]),
])
def test_code_clips(code, reading, clips):
    assert [t.clip for t in V.code_tokens(code, reading)] == clips


@pytest.mark.parametrize("code, reading, text", [
    ("1005", DIGITS, "một không không năm"),
    ("1005", WORDS, "một nghìn không trăm linh năm"),
    ("A001", DIGITS, "a không không một"),
    ("B012", DIGITS, "bê không một hai"),
    ("L021", WORDS, "e lờ hai mươi mốt"),
    ("X005", WORDS, "ích xì năm"),
])
def test_code_text(code, reading, text):
    assert V.spoken(V.code_tokens(code, reading)) == text


@pytest.mark.parametrize("bad", ["", "10-05", "A", "1005A", "Đ001", "A 001", "１２", None, 1005])
def test_code_refused(bad):
    with pytest.raises(ValueError):
        V.code_tokens(bad)


@pytest.mark.parametrize("counter, clips", [
    (1, ["mot"]), (3, ["ba"]), (10, ["muoi"]), (11, ["muoi", "mot"]), (12, ["muoi", "hai"]), (15, ["muoi", "lam"]),
    (21, ["hai", "muoi_ngang", "mot_sac"]), (24, ["hai", "muoi_ngang", "tu"]), (32, ["ba", "muoi_ngang", "hai"]),
    (105, ["mot", "tram", "linh", "nam"]), ("7", ["bay"]), ("A2", ["chu_a", "hai"]),
])
def test_counter_is_read_as_a_number(counter, clips):
    assert [t.clip for t in V.counter_tokens(counter, DIGITS)] == clips


# ------------------------------------------------------------------ clip names
@pytest.mark.parametrize("text, name", [
    ("một", "mot"), ("mốt", "mot_sac"), ("mười", "muoi"), ("mươi", "muoi_ngang"), ("năm", "nam"),
    ("lăm", "lam"), ("tư", "tu"), ("lẻ", "le"), ("nghìn", "nghin"), ("ngàn", "ngan"), ("triệu", "trieu"),
    ("bảy", "bay"), ("Xin mời công dân có số thứ tự", "xin_moi_cong_dan_co_so_thu_tu"),
    ("đến quầy số", "den_quay_so"), ("Đến  quầy, số!", "den_quay_so"),
])
def test_clip_names(text, name):
    assert V.vi(text).clip == name
    assert name.isascii() and name == name.lower()


def test_vocabulary_names_are_unique_and_plain():
    vocab = V.pack_vocabulary()
    texts = {}
    for name, info in vocab.items():
        assert name.replace("_", "").isalnum() and name.isascii() and name == name.lower(), name
        assert (info["lang"], info["text"]) not in texts, f"{name} and {texts.get((info['lang'], info['text']))}"
        texts[(info["lang"], info["text"])] = name


# ------------------------------------------------------------------ templates
@pytest.mark.parametrize("template, parts", [
    (V.DEFAULT_TEMPLATE, ["Xin mời công dân có số thứ tự", "{number}", "đến quầy số", "{counter}"]),
    (V.DEFAULT_TEMPLATE_EN, ["Ticket number", "{number}", "please come to counter", "{counter}"]),
    ("Mời số {number} vào quầy {counter}.", ["Mời số", "{number}", "vào quầy", "{counter}"]),
    ("{number} - quầy {counter}", ["{number}", "quầy", "{counter}"]),
    ("Số {number}, xin mời đến quầy {counter}, xin cảm ơn", ["Số", "{number}", "xin mời đến quầy", "{counter}",
                                                             "xin cảm ơn"]),
    ("{counter}: {number}", ["{counter}", "{number}"]),
])
def test_template_parts(template, parts):
    assert V.template_parts(template) == parts


def test_template_with_unknown_placeholder_is_refused():
    with pytest.raises(ValueError, match="unknown placeholder"):
        V.template_parts("Số {so} quầy {counter}")


def voice_cfg(**kw):
    base = dict(template=V.DEFAULT_TEMPLATE, template_en=V.DEFAULT_TEMPLATE_EN, repeat=2, number_reading="digits",
                thousand_word="nghìn", zero_tens_word="linh", four_word="tư", engine="clips", clip_pack="default")
    return SimpleNamespace(**{**base, **kw})


def test_announcement_of_the_brief_example():
    a = V.announcement("1005", 3, voice_cfg())
    sentence = ["xin_moi_cong_dan_co_so_thu_tu", "mot", "khong", "khong", "nam", "den_quay_so", "ba"]
    assert a["sentence"] == sentence
    assert a["clips"] == ["chime"] + sentence + sentence, "chime once, then the sentence twice: the full list"
    assert a["repeat"] == 2 and a["chime"] == "chime" and a["pack"] == "default" and a["engine"] == "clips"
    assert a["text"] == "Xin mời công dân có số thứ tự 1005 đến quầy số 3"
    assert a["spoken"] == "Xin mời công dân có số thứ tự một không không năm đến quầy số ba"
    assert a["text_en"] is None and a["clips_en"] is None and a["sentence_en"] is None


@pytest.mark.parametrize("repeat", [1, 2, 3, 5])
def test_repeat_sets_how_often_the_sentence_is_said(repeat):
    a = V.announcement("A012", 12, voice_cfg(repeat=repeat, number_reading="words"))
    assert a["sentence"] == ["xin_moi_cong_dan_co_so_thu_tu", "chu_a", "muoi", "hai", "den_quay_so", "muoi", "hai"]
    assert a["clips"] == ["chime"] + a["sentence"] * repeat
    assert a["clips"].count("chime") == 1


def test_english_follows_vietnamese_in_each_saying():
    a = V.announcement("B007", 4, voice_cfg(), announce_en=True)
    en = ["en_ticket_number", "en_letter_b", "en_zero", "en_zero", "en_seven", "en_please_come_to_counter", "en_four"]
    assert a["sentence_en"] == en and a["clips_en"] == en
    assert a["clips"] == ["chime"] + (a["sentence"] + en) * 2
    assert a["text_en"] == "Ticket number B007, please come to counter 4"
    assert a["spoken_en"] == "Ticket number bee zero zero seven please come to counter four"


@pytest.mark.parametrize("n, text", [
    (0, "zero"), (7, "seven"), (10, "ten"), (13, "thirteen"), (20, "twenty"), (21, "twenty one"),
    (99, "ninety nine"), (100, "one hundred"), (105, "one hundred five"), (1005, "one thousand five"),
    (1100, "one thousand one hundred"), (12345, "twelve thousand three hundred forty five"),
    (1000000, "one million"),
])
def test_english_words(n, text):
    assert " ".join(V.words_en(n)) == text


def test_english_in_words_mode():
    a = V.announcement("1015", 21, voice_cfg(number_reading="words"), announce_en=True)
    assert a["sentence_en"] == ["en_ticket_number", "en_one", "en_thousand", "en_fifteen",
                                "en_please_come_to_counter", "en_twenty", "en_one"]
    assert a["sentence"] == ["xin_moi_cong_dan_co_so_thu_tu", "mot", "nghin", "khong", "tram", "muoi", "lam",
                             "den_quay_so", "hai", "muoi_ngang", "mot_sac"]


def test_custom_template():
    a = V.announcement("1005", 3, voice_cfg(template="Mời số {number} vào quầy {counter}"))
    assert a["sentence"][0] == "moi_so" and a["sentence"][-2:] == ["vao_quay", "ba"]
    assert a["text"] == "Mời số 1005 vào quầy 3"


# ------------------------------------------------------------------ the default pack is complete
def pack_names() -> set[str]:
    return {f.stem for f in PACK.glob("*.wav")}


def test_pack_holds_every_clip_numbers_letters_counters_and_templates_need():
    have = pack_names()
    needed: set[str] = set()
    for reading in (V.Reading(number_reading="digits"), V.Reading(number_reading="words"),
                    V.Reading(number_reading="words", thousand_word="ngàn", zero_tens_word="lẻ", four_word="bốn")):
        for n in range(10000):
            needed |= {t.clip for t in V.code_tokens(str(n), reading)}
            needed |= {t.clip for t in V.code_tokens_en(str(n), reading)}
        for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
            needed |= {t.clip for t in V.code_tokens(f"{letter}001", reading)}
            needed |= {t.clip for t in V.code_tokens_en(f"{letter}001", reading)}
        for c in range(1, 100):
            needed |= {t.clip for t in V.counter_tokens(c, reading)} | {t.clip for t in V.counter_tokens_en(c)}
    needed |= {t.clip for t in V.phrase_tokens(V.DEFAULT_TEMPLATE, "vi")}
    needed |= {t.clip for t in V.phrase_tokens(V.DEFAULT_TEMPLATE_EN, "en")}
    needed.add(V.CHIME)
    assert needed - have == set(), f"the default pack lacks {sorted(needed - have)}"
    assert needed <= set(V.pack_vocabulary())
    assert missing_clips(voice_cfg()) == []


def test_pack_files_are_small_mono_wav_and_match_the_manifest():
    manifest = json.loads((PACK / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["clips"]) == pack_names() == set(V.pack_vocabulary())
    for name, info in manifest["clips"].items():
        assert V.pack_vocabulary()[name]["text"] == info["text"]
    total = 0
    for f in PACK.glob("*.wav"):
        with wave.open(str(f)) as w:
            assert w.getnchannels() == 1 and w.getsampwidth() == 2 and w.getframerate() in (16000, 22050), f.name
            seconds = w.getnframes() / w.getframerate()
            assert 0.1 < seconds < 3.0, f"{f.name} lasts {seconds:.2f} s"
        total += f.stat().st_size
    assert total < 2_100_000, f"the default pack is {total} bytes"


def test_custom_pack_falls_back_to_default(tmp_path):
    (tmp_path / "default").mkdir()
    (tmp_path / "default" / "mot.wav").write_bytes(b"RIFF")
    (tmp_path / "default" / "hai.wav").write_bytes(b"RIFF")
    (tmp_path / "giong-nu").mkdir()
    (tmp_path / "giong-nu" / "mot.wav").write_bytes(b"RIFF")
    assert clip_file("giong-nu", "mot", tmp_path) == tmp_path / "giong-nu" / "mot.wav"
    assert clip_file("giong-nu", "hai", tmp_path) == tmp_path / "default" / "hai.wav"
    assert clip_file("giong-nu", "ba", tmp_path) is None
    assert clip_file("missing-pack", "mot", tmp_path) == tmp_path / "default" / "mot.wav"
    for bad in ("../default/mot", "mot.wav", "MOT", "", "a/b", "..", "mot\x00"):
        assert clip_file("giong-nu", bad, tmp_path) is None
    assert "mot" not in missing_clips(voice_cfg(clip_pack="giong-nu"), tmp_path)
    assert "ba" in missing_clips(voice_cfg(clip_pack="giong-nu"), tmp_path)
    assert needed_clips(voice_cfg(template="Mời số {number} quầy {counter}")) >= {"moi_so", "quay"}


# ------------------------------------------------------------------ the server in this process: routes and call payloads
@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("voice")
    clock = Clock()
    cfg = server_config(tmp, now=clock())
    import yaml

    data = yaml.safe_load(cfg.read_text(encoding="utf-8"))
    data["departments"][1]["services"][1]["announce_en"] = True  # records (B001...): foreigners ask for it
    cfg.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    server = InProcessServer(cfg, tmp / "voice.sqlite3", clock)
    server.sup = server.login("super", "test-super")
    yield server
    server.close()


def test_clip_route_serves_wav(srv):
    r = srv.get("/clips/default/xin_moi_cong_dan_co_so_thu_tu.wav")
    assert r.status_code == 200 and r.headers["Content-Type"] == "audio/wav"
    assert r.content == (PACK / "xin_moi_cong_dan_co_so_thu_tu.wav").read_bytes()
    again = srv.get("/clips/default/chime.wav", {"If-None-Match": srv.get("/clips/default/chime.wav").headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("path, error", [
    ("/clips/default/nope.wav", "clip_unknown"),
    ("/clips/nopack/mot.wav", "clip_pack_unknown"),
    ("/clips/default/MOT.wav", "clip_unknown"),
    ("/clips/default/manifest.wav", "clip_unknown"),
    ("/clips/..%2F..%2Fqueue_server/config.wav", "not_found"),
    ("/clips/default/..%2F..%2Fvoice.wav", "not_found"),
    ("/clips/%2E%2E/voice.wav", "clip_pack_unknown"),
    ("/clips/default/mot.mp3", "not_found"),
    ("/clips/nopack/manifest.json", "clip_pack_unknown"),
])
def test_clip_route_refuses_unknown_and_traversal(srv, path, error):
    r = srv.get(path)
    assert r.status_code == 404, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["error"] == error and r.json()["message"]


def test_manifest_route(srv):
    m = srv.get("/clips/default/manifest.json").json()
    assert m["clips"]["mot_sac"]["text"] == "mốt" and m["missing"] == []
    assert m["example"]["clips"][0] == "chime"




def test_calls_carry_the_announcement(srv):
    display = srv.socket({"room": "display:hall"})
    try:
        display.wait_for(lambda e, d: e == "snapshot")
        for service in ("cccd", "records"):
            assert srv.post("/api/v1/tickets", {"service": service}, KIOSK).status_code == 201
        for counter in ("1", "3"):
            assert srv.post(f"/api/v1/counters/{counter}/open", headers=srv.sup).status_code == 200
            assert srv.post(f"/api/v1/counters/{counter}/next", headers=srv.sup).status_code == 200
        police = display.wait_for(lambda e, d: e == "ticket.called" and d["call"]["counter"]["id"] == "1")[1]["call"]
        v = police["voice"]
        assert v["sentence"] == ["xin_moi_cong_dan_co_so_thu_tu", "mot", "khong", "khong", "mot", "den_quay_so",
                                 "mot"]
        assert v["clips"] == ["chime"] + v["sentence"] * 2 and v["clips_en"] is None
        assert v["text"] == "Xin mời công dân có số thứ tự 1001 đến quầy số 1"
        records = display.wait_for(lambda e, d: e == "ticket.called" and d["call"]["counter"]["id"] == "3")[1]["call"]
        v = records["voice"]
        assert v["sentence"][1:5] == ["chu_b", "khong", "khong", "mot"] and v["sentence"][-1] == "ba"
        assert v["clips_en"] == ["en_ticket_number", "en_letter_b", "en_zero", "en_zero", "en_one",
                                 "en_please_come_to_counter", "en_three"]
        assert v["clips"] == ["chime"] + (v["sentence"] + v["clips_en"]) * 2
        # a recall is announced again, with the same sentence
        ticket = srv.get("/api/v1/counters/1", srv.sup).json()["counter"]["current"]["id"]
        assert srv.post(f"/api/v1/tickets/{ticket}/recall", {"counter": "1"}, srv.sup).status_code == 200
        recall = display.wait_for(lambda e, d: e == "ticket.called" and d["recall"])[1]["call"]
        assert recall["voice"]["clips"] == police["voice"]["clips"]
        for name in set(police["voice"]["clips"] + records["voice"]["clips"]):
            assert srv.get(f"/clips/default/{name}.wav").status_code == 200, name
    finally:
        display.close()
    again = srv.socket({"room": "display:hall"})
    try:
        snap = again.wait_for(lambda e, d: e == "snapshot")[1]
        recent = snap["state"]["recent_calls"]
        assert recent and all(c["voice"]["clips"][0] == "chime" for c in recent)
        assert {c["code"] for c in recent} >= {"1001", "B001"}
    finally:
        again.close()


def test_text_of_a_template_with_stray_braces():
    a = V.announcement("1005", 3, voice_cfg(template="Số {number} mời đến quầy {counter} {"))
    assert a["text"] == "Số 1005 mời đến quầy 3 {"
    assert a["sentence"][-1] == "ba"


def test_make_pack_lists_what_to_record(capsys, tmp_path):
    from displays.clips import make_pack

    custom = tmp_path / "centre.yaml"
    import yaml

    data = yaml.safe_load((Path(__file__).parent / "fixtures" / "centre.yaml").read_text(encoding="utf-8"))
    data["voice"] = {"template": "Mời số {number} vào quầy {counter}"}
    custom.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert make_pack.main(["--list", "--config", str(custom)]) == 0
    rows = {line.split("\t")[0]: line.split("\t") for line in capsys.readouterr().out.splitlines()}
    assert set(rows) == set(V.pack_vocabulary()) | {"moi_so", "vao_quay"}
    assert rows["mot_sac"][1:] == ["vi", "number_word", "mốt"] and rows["moi_so"][3] == "Mời số"


def test_chime_is_a_short_mono_wav(tmp_path):
    from displays.clips.make_pack import chime

    chime(tmp_path / "chime.wav")
    with wave.open(str(tmp_path / "chime.wav")) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 16000)
        assert 1.0 < w.getnframes() / 16000 < 2.0
        frames = w.readframes(w.getnframes())
    assert max(abs(int.from_bytes(frames[i:i + 2], "little", signed=True)) for i in range(0, len(frames), 2)) > 5000
    assert (tmp_path / "chime.wav").read_bytes() == (PACK / "chime.wav").read_bytes(), "the shipped chime is this one"
