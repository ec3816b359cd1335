"""Validation of config.yaml: every bad variant is refused with its key path and its line.

Each case starts from the text of tests/fixtures/centre.yaml and edits it; the edited line carries the
marker `# <- HERE`, and the test expects the problem reported at that line (so the table does not depend on
the fixture's line numbers).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from queue_server.config import CentreConfig, ConfigError, load_config, parse_config

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent
FIXTURE = FIXTURES / "centre.yaml"
FIXTURE_TEXT = FIXTURE.read_text(encoding="utf-8")
HERE = "# <- HERE"


def edited(*edits: tuple[str, str]) -> str:
    """The fixture text with each (old, new) replaced; `old` must occur exactly once."""
    text = FIXTURE_TEXT
    for old, new in edits:
        assert text.count(old) == 1, f"edit target occurs {text.count(old)} times in the fixture: {old!r}"
        text = text.replace(old, new)
    return text


def marked_line(text: str) -> int:
    lines = [i for i, line in enumerate(text.splitlines(), 1) if HERE in line]
    assert len(lines) == 1, f"exactly one line must carry the marker, found {lines}"
    return lines[0]


# (id, edits, key path ("" = the file itself), a fragment of the message)
BAD = [
    # ---- unknown keys
    ("unknown-top-level-key",
     [("server:\n", f"colour: blue  {HERE}\nserver:\n")],
     "colour", "unknown key"),
    ("unknown-key-in-centre",
     [("  name_en: Test Centre\n", f"  name_en: Test Centre\n  adress: Số 1  {HERE}\n")],
     "centre.adress", "unknown key"),
    ("unknown-key-in-flow-service",
     [("      - {id: passport, name: Hộ chiếu, name_en: Passport}\n",
       f"      - {{id: passport, name: Hộ chiếu, name_en: Passport, bogus: 1}}  {HERE}\n")],
     "departments[0].services[1].bogus", "unknown key"),
    ("unknown-key-in-block-service",
     [("        daily_cap: 4\n", f"        daily_cap: 4\n        daily_limit: 5  {HERE}\n")],
     "departments[1].services[1].daily_limit", "unknown key"),
    ("unknown-key-in-device",
     [("    - {id: printer-1, backend: preview}\n", f"    - {{id: printer-1, backend: preview, colour: red}}  {HERE}\n")],
     "devices.printers[0].colour", "unknown key"),
    # ---- types, ranges, required keys
    ("wrong-type-port",
     [("  secret_key: test-secret-key-0123456789\n", f'  secret_key: test-secret-key-0123456789\n  port: "abc"  {HERE}\n')],
     "server.port", "valid integer"),
    ("port-out-of-range",
     [("  secret_key: test-secret-key-0123456789\n", f"  secret_key: test-secret-key-0123456789\n  port: 70000  {HERE}\n")],
     "server.port", "less than or equal to 65535"),
    ("wrong-type-daily-cap",
     [("        daily_cap: 4\n", f"        daily_cap: many  {HERE}\n")],
     "departments[1].services[1].daily_cap", "valid integer"),
    ("wrong-enum-policy",
     [("policy: weighted, weights: {records: 3}}\n", f"policy: random, weights: {{records: 3}}}}  {HERE}\n")],
     "counters[2].policy", "Input should be"),
    ("missing-required-key",
     [("server:\n  secret_key: test-secret-key-0123456789\n", f"server:  {HERE}\n  port: 5000\n")],
     "server.secret_key", "required key is missing"),
    # ---- number ranges
    ("overlapping-department-ranges",
     [("    numbering: {start: 2001, end: 2003}\n", f"    numbering: {{start: 1500, end: 2003}}  {HERE}\n")],
     "departments[2].numbering", "number range of department land overlaps department police (1500-1999)"),
    ("overlapping-service-ranges-same-prefix",
     [("        numbering: {prefix: B, start: 1, end: 5, width: 3}\n",
       f"        numbering: {{prefix: A, start: 990, end: 1005, width: 3}}  {HERE}\n")],
     "departments[1].services[1].numbering", "number range of service records overlaps service civil (A990-A999)"),
    ("service-range-overlaps-department-range",
     [("      - {id: passport, name: Hộ chiếu, name_en: Passport}\n",
       f"      - {{id: passport, name: Hộ chiếu, numbering: {{start: 1990, end: 2000}}}}  {HERE}\n")],
     "departments[0].services[1].numbering", "overlaps department police (1990-1999)"),
    ("range-end-below-start",
     [("    numbering: {start: 2001, end: 2003}\n", f"    numbering: {{start: 2003, end: 2001}}  {HERE}\n")],
     "departments[2].numbering", "must not be below start"),
    ("service-and-department-without-numbering",
     [("      - id: civil\n", f"      - id: civil  {HERE}\n"),
      ("        numbering: {prefix: A, start: 1, end: 999, width: 3}\n", "")],
     "departments[1].services[0]", "service 'civil' has no numbering and neither has its department 'justice'"),
    # ---- counters
    ("counter-unknown-service",
     [('  - {id: "4", number: 4, department: land, services: [land]}\n',
       f'  - {{id: "4", number: 4, department: land, services: [land, nosuch]}}  {HERE}\n')],
     "counters[3].services[1]", "counter '4' names unknown service 'nosuch'"),
    ("counter-unknown-department",
     [('  - {id: "5", number: 5, department: justice, services: [civil]}\n',
       f'  - {{id: "5", number: 5, department: treasury, services: [civil]}}  {HERE}\n')],
     "counters[4].department", "unknown department 'treasury'"),
    ("counter-service-listed-twice",
     [('  - {id: "4", number: 4, department: land, services: [land]}\n',
       f'  - {{id: "4", number: 4, department: land, services: [land, land]}}  {HERE}\n')],
     "counters[3].services", "a service is listed twice"),
    ("counter-weight-for-unserved-service",
     [("policy: weighted, weights: {records: 3}}\n", f"policy: weighted, weights: {{records: 3, land: 2}}}}  {HERE}\n")],
     "counters[2].weights.land", "which this counter does not serve"),
    # ---- duplicate ids
    ("duplicate-service-id",
     [("      - {id: land, name: Đăng ký đất đai, name_en: Land registration}\n",
       f"      - {{id: cccd, name: Đăng ký đất đai, name_en: Land registration}}  {HERE}\n")],
     "departments[2].services[0].id", "duplicate service id 'cccd'"),
    ("duplicate-counter-id",
     [('  - {id: "5", number: 5, department: justice, services: [civil]}\n',
       f'  - {{id: "4", number: 5, department: justice, services: [civil]}}  {HERE}\n')],
     "counters[4].id", "duplicate counter id '4'"),
    ("duplicate-counter-number",
     [('  - {id: "5", number: 5, department: justice, services: [civil]}\n',
       f'  - {{id: "5", number: 4, department: justice, services: [civil]}}  {HERE}\n')],
     "counters[4].number", "counter number 4 is also used by counter '4'"),
    ("duplicate-department-id",
     [("  - id: land\n", f"  - id: justice  {HERE}\n")],
     "departments[2].id", "duplicate department id 'justice'"),
    ("duplicate-username",
     [("  - {username: super, password: test-super, role: supervisor}\n",
       f"  - {{username: admin, password: test-super, role: supervisor}}  {HERE}\n")],
     "staff[1].username", "duplicate username 'admin'"),
    # ---- time
    ("window-end-before-start",
     [('    - {start: "13:15", end: "16:30"}\n', f'    - {{start: "13:15", end: "12:00"}}  {HERE}\n')],
     "hours.windows[1]", "end 12:00 must be after start 13:15"),
    ("service-window-end-before-start",
     [('          - {start: "08:00", end: "10:00"}\n', f'          - {{start: "08:00", end: "07:00"}}  {HERE}\n')],
     "departments[1].services[1].windows[0]", "end 07:00 must be after start 08:00"),
    ("unknown-time-zone",
     [("  timezone: Asia/Ho_Chi_Minh\n", f"  timezone: Asia/Saigon_City  {HERE}\n")],
     "centre.timezone", "unknown time zone 'Asia/Saigon_City'"),
    ("unknown-weekday",
     [("  weekdays: [mon, tue, wed, thu, fri]\n", f"  weekdays: [mon, tue, wed, thu, fri, sunday]  {HERE}\n")],
     "hours.weekdays[5]", "Input should be"),
    # ---- YAML itself
    ("invalid-yaml-colon",
     [("  name_en: Test Centre\n", f"  name_en: Test: Centre  {HERE}\n")],
     "", "not valid YAML"),
    ("invalid-yaml-tab",
     [("server:\n", f"server:\n\tport: 5000  {HERE}\n")],
     "", "not valid YAML"),
    # ---- rating, voice
    ("rating-button-to-unknown-level",
     [("rating:\n", f"rating:  {HERE}\n"), ('buttons: {"1": 3, "2": 2, "3": 1}', 'buttons: {"1": 3, "2": 2, "3": 7}')],
     "rating", "button 3 maps to level 7, which is not a level of the scale"),
    ("rating-duplicate-level-values",
     [("rating:\n", f"rating:  {HERE}\n"), ("{value: 1, label: Chưa hài lòng", "{value: 2, label: Chưa hài lòng")],
     "rating", "level values must be distinct"),
    ("voice-template-unknown-placeholder",
     [("departments:\n", f'voice:\n  template: "Mời số {{number}} đến quầy {{desk}}"  {HERE}\ndepartments:\n')],
     "voice.template", "unknown placeholder(s) ['desk']"),
    # ---- devices and staff
    ("kiosk-unknown-printer",
     [("    - {id: kiosk-1, token: test-kiosk-token-1, printer: printer-1}\n",
       f"    - {{id: kiosk-1, token: test-kiosk-token-1, printer: printer-9}}  {HERE}\n")],
     "devices.kiosks[0].printer", "unknown printer 'printer-9'"),
    ("kiosk-unknown-department",
     [("    - {id: kiosk-1, token: test-kiosk-token-1, printer: printer-1}\n",
       f"    - {{id: kiosk-1, token: test-kiosk-token-1, printer: printer-1, departments: [police, tax]}}  {HERE}\n")],
     "devices.kiosks[0].departments[1]", "unknown department 'tax'"),
    ("counter-display-unknown-counter",
     [("    - {id: hall-a, zone: A}\n", f"    - {{id: hall-a, zone: A, kind: counter, counter: '42'}}  {HERE}\n")],
     "devices.displays[1].counter", "counter display needs a known counter"),
    ("staff-unknown-counter",
     [('full_name: Trần Thị Bình, counters: ["3"]}\n', f'full_name: Trần Thị Bình, counters: ["9"]}}  {HERE}\n')],
     "staff[3].counters[0]", "unknown counter '9'"),
    ("duplicate-device-token-kiosk-display",
     [("    - {id: hall-a, zone: A}\n", f"    - {{id: hall-a, zone: A, token: test-kiosk-token-1}}  {HERE}\n")],
     "devices.displays[1].token", "token already used by kiosk kiosk-1"),
    ("duplicate-device-token-two-kiosks",
     [("    - {id: kiosk-1, token: test-kiosk-token-1, printer: printer-1}\n",
       "    - {id: kiosk-1, token: test-kiosk-token-1, printer: printer-1}\n"
       f"    - {{id: kiosk-2, token: test-kiosk-token-1}}  {HERE}\n")],
     "devices.kiosks[1].token", "token already used by kiosk kiosk-1"),
    ("duplicate-device-id",
     [("    - {id: hall-a, zone: A}\n", f"    - {{id: hall, zone: A}}  {HERE}\n")],
     "devices.displays[1].id", "duplicate display id 'hall'"),
]


@pytest.fixture(params=["parse_config", "load_config"])
def loader(request, tmp_path):
    """Both entry points: parse_config(text, source) and load_config(path). Returns (load, source name)."""
    if request.param == "parse_config":
        return (lambda text: parse_config(text, "centre.yaml")), "centre.yaml"
    path = tmp_path / "centre.yaml"

    def load(text):
        path.write_text(text, encoding="utf-8")
        return load_config(path)

    return load, str(path)


@pytest.mark.parametrize("edits, key_path, fragment", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_config_names_key_path_and_line(loader, edits, key_path, fragment):
    load, source = loader
    text = edited(*edits)
    line = marked_line(text)
    with pytest.raises(ConfigError) as exc:
        load(text)
    err = exc.value
    # Structured: the problem list holds (key path, line, message).
    assert (key_path, line) in [(p, n) for p, n, _ in err.problems], err.problems
    # Readable: one line of the message reads "file:line: key.path: message".
    prefix = f"{source}:{line}: {key_path or '(top level)'}: "
    shown = [m for m in str(err).splitlines() if m.startswith(prefix)]
    assert shown, f"no problem line starts with {prefix!r} in:\n{err}"
    assert any(fragment in m for m in shown), f"{fragment!r} not in {shown}"


def test_bad_cases_are_distinct():
    assert len({c[0] for c in BAD}) == len(BAD)


# Variants that must load: ranges that only look alike.
GOOD = [
    ("fixture-as-is", []),
    ("different-prefixes-same-numbers",  # B1-999 and A1-999 share numbers but not prefixes
     [("        numbering: {prefix: B, start: 1, end: 5, width: 3}\n",
       "        numbering: {prefix: B, start: 1, end: 999, width: 3}\n")]),
    ("prefixed-service-inside-plain-department-range",  # C1001-C1999 vs 1001-1999
     [("      - {id: passport, name: Hộ chiếu, name_en: Passport}\n",
       "      - {id: passport, name: Hộ chiếu, numbering: {prefix: C, start: 1001, end: 1999}}\n")]),
    ("adjacent-plain-ranges",  # 1001-1999 and 2000-2003 touch without overlapping
     [("    numbering: {start: 2001, end: 2003}\n", "    numbering: {start: 2000, end: 2003}\n")]),
    ("voice-template-known-placeholders",
     [("departments:\n", 'voice:\n  template: "Mời số {number} đến quầy {counter}"\ndepartments:\n')]),
    ("rating-buttons-to-known-levels",
     [('buttons: {"1": 3, "2": 2, "3": 1}', 'buttons: {"1": 3, "2": 3, "3": 1, "4": 2}')]),
]


@pytest.mark.parametrize("edits", [g[1] for g in GOOD], ids=[g[0] for g in GOOD])
def test_good_variants_load(edits):
    cfg = parse_config(edited(*edits), "centre.yaml")
    assert isinstance(cfg, CentreConfig)
    # Every service has a range to draw from.
    for sid in cfg.services():
        key, rng = cfg.numbering_of(sid)
        assert rng is not None and key in (f"service:{sid}", f"department:{cfg.department_of(sid).id}")


def test_fixture_loads():
    cfg = load_config(FIXTURE)
    assert [d.id for d in cfg.departments] == ["police", "justice", "land"]
    assert len(cfg.services()) == 5 and len(cfg.counters) == 5
    assert cfg.numbering_of("cccd")[0] == cfg.numbering_of("passport")[0] == "department:police"
    assert cfg.numbering_of("civil")[1].code(7) == "A007"


def test_all_problems_of_a_pass_are_reported_together():
    text = edited(("server:\n", "colour: blue\nserver:\n"),
                  ("  secret_key: test-secret-key-0123456789\n", '  secret_key: test-secret-key-0123456789\n  port: "abc"\n'),
                  ("  timezone: Asia/Ho_Chi_Minh\n", "  timezone: Nowhere/At_All\n"))
    with pytest.raises(ConfigError) as exc:
        parse_config(text, "centre.yaml")
    paths = {p for p, _, _ in exc.value.problems}
    assert {"colour", "server.port", "centre.timezone"} <= paths
    assert len(str(exc.value).splitlines()) == len(exc.value.problems)


def test_not_a_mapping():
    with pytest.raises(ConfigError) as exc:
        parse_config("- just\n- a list\n", "centre.yaml")
    assert "must be a mapping" in str(exc.value)


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as exc:
        load_config(missing)
    assert str(missing) in str(exc.value) and "cannot read the file" in str(exc.value)


# ------------------------------------------------------------------ qms check-config

def run_check_config(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "queue_server.cli", "check-config", str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_check_config_ok():
    r = run_check_config(FIXTURE)
    assert r.returncode == 0, r.stderr
    assert "OK" in r.stdout
    assert "3 departments, 5 services, 5 counters" in r.stdout


def test_check_config_bad_file(tmp_path):
    text = edited(("      - {id: passport, name: Hộ chiếu, name_en: Passport}\n",
                   f"      - {{id: passport, name: Hộ chiếu, name_en: Passport, bogus: 1}}  {HERE}\n"))
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    r = run_check_config(path)
    assert r.returncode != 0
    assert "OK" not in r.stdout
    assert f"{path}:{marked_line(text)}: departments[0].services[1].bogus: unknown key" in r.stderr


# ------------------------------------------------------------------ the repository's demo config.yaml

def test_repo_config_yaml_is_the_demo_centre():
    path = ROOT / "config.yaml"
    if not path.exists():
        pytest.skip("config.yaml is not written yet")
    cfg = load_config(path)
    assert len(cfg.departments) >= 14
    assert len(cfg.counters) >= 30
    assert cfg.queue.always_open is True
    assert cfg.centre.demo is True
    r = run_check_config(path)
    assert r.returncode == 0 and "OK" in r.stdout, r.stderr


def test_the_big_centre_fixture_is_a_valid_big_city_centre():
    """The page tests' second centre: counters 101-170 over 4 zones, codes of up to 6 characters, names of 80+."""
    big = load_config(FIXTURES / "big_centre.yaml")
    numbers = sorted(c.number for c in big.counters)
    assert numbers == list(range(101, 171))
    assert {c.zone for c in big.counters} == {"A", "B", "C", "D"}
    longest = {sid: len(n.code(n.end)) for sid in big.services() for _, n in [big.numbering_of(sid)]}
    assert max(longest.values()) == 8 and "TKQ001" == big.numbering_of("tra_kq")[1].code(1)
    assert big.numbering_of("can_cuoc")[1].code(12) == "CCCD12"
    assert min(len(d.name) for d in big.departments) >= 80
    assert min(len(s.name) for _, s in big.services().values()) >= 80
