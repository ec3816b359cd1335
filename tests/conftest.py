"""Shared fixtures: the test centre's config, a controllable clock, a store on a temporary database, and the
server in this process (`site`, `app`, `client`, `sio`: the app factory on a temporary database reading the
Clock, with Flask's and Flask-SocketIO's test clients; the test drives the push tick and the day keeper).
A real server process (server_util.ServerProcess) is for what only a process shows: an async mode, a crash,
a second process on the same database or a printer/keypad agent, and a browser."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from queue_server.config import load_config

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent

# Wednesday 2026-11-25, 09:00 in Hà Nội (UTC+7): inside the morning window.
WEDNESDAY_9AM = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = WEDNESDAY_9AM):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 0, **kw) -> None:
        self.now += timedelta(seconds=seconds, **kw)

    def set_local(self, text: str) -> None:
        """Set the clock to a local time in the centre's zone, e.g. '2026-11-25 13:20'."""
        from zoneinfo import ZoneInfo

        self.now = datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")).astimezone(timezone.utc)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes():
    """Passwords hashed cheaply (pbkdf2, 1,000 rounds) by the servers in this process: every in-process server
    seeds its accounts and most tests sign in, and scrypt's 0.1 s per hash and per check would cost the suite
    minutes. What a test checks is which password an account has, never the hash's strength; the checks stay
    real, and server processes (and test_security_docs) keep the product's scrypt."""
    import queue_server.accounts as accounts_module
    from werkzeug.security import generate_password_hash

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(accounts_module, "generate_password_hash",
                   lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"))
        yield


@pytest.fixture
def config():
    return load_config(FIXTURES / "centre.yaml")


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(tmp_path, config, clock):
    from queue_server.store import Store

    s = Store(tmp_path / "qms.sqlite3", config, clock=clock)
    yield s
    s.close()


@pytest.fixture
def open_store(store):
    """A store with every counter open."""
    for c in store.config.counters:
        store.set_counter_state(c.id, "open")
    return store


# ------------------------------------------------------------------ the server in this process
@pytest.fixture
def site(tmp_path, clock):
    """The test server's centre (tests/server_util.server_config) in this process: the app factory on a
    temporary database reading the test Clock, nothing in the background (see tests/inproc.py)."""
    from inproc import make_server

    srv = make_server(tmp_path, clock)
    yield srv
    srv.close()


@pytest.fixture
def app(site):
    return site.app


@pytest.fixture
def client(app):
    """Flask's test client."""
    return app.test_client()


@pytest.fixture
def sio(site):
    """A factory of Flask-SocketIO test clients: sio(auth) connects one; all are closed after the test."""
    made = []

    def connect(auth: dict):
        c = site.socket(auth)
        made.append(c)
        return c

    yield connect
    for c in made:
        c.close()


# ------------------------------------------------------------------ a real browser (Debian's chromium)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"]
ARTIFACTS = ROOT / "test-artifacts"


class Chromium:
    """The browser, whose contexts bypass the pages' Content-Security-Policy unless a test asks for it
    (`bypass_csp=False`): Playwright evaluates string predicates (wait_for_function) with eval, which the policy
    rightly forbids to the page. test_shared_front_page loads every page with the policy in force."""

    def __init__(self, browser):
        self.browser = browser

    def new_context(self, **kw):
        kw.setdefault("bypass_csp", True)
        return self.browser.new_context(**kw)

    def __getattr__(self, name):
        return getattr(self.browser, name)


@pytest.fixture(scope="session")
def chromium():
    """Debian's chromium driven by Playwright (never a browser Playwright downloads)."""
    import os

    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is missing at /usr/bin/chromium: run `make browser` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield Chromium(browser)
        browser.close()


@pytest.fixture
def phone_pages(chromium):
    """make(viewport, locale="vi-VN"): a page of a phone (mobile, touch, 2x pixels) in its own context; every
    context closes at the end, and no page may have thrown a script error."""
    contexts: list = []
    errors: list[str] = []

    def make(viewport: dict, locale: str = "vi-VN"):
        context = chromium.new_context(viewport=viewport, locale=locale, is_mobile=True, has_touch=True,
                                       device_scale_factor=2)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        return page

    yield make
    for c in contexts:
        c.close()
    assert errors == []


@pytest.fixture
def browser_page(chromium):
    """A fresh page (1920x1080) in its own context; screenshots go to test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    context = chromium.new_context(viewport={"width": 1920, "height": 1080}, locale="vi-VN")
    page = context.new_page()
    yield page
    context.close()


# ------------------------------------------------------------------ order
# `make test` gives whole files to its workers in collection order; the files that take longest go first, so that
# no worker is left alone at the end with a long one while the other is idle. Within a file, order is unchanged.
LONGEST_FIRST = ("test_store_machine.py", "test_display_page.py", "test_terminal_page.py", "test_server.py",
                 "test_shared_front_page.py", "test_supervisor_page.py", "test_hostile_values.py",
                 "test_print_jobs.py", "test_kiosk_page.py", "test_status_page.py", "test_public_screens.py",
                 "test_counter_daily_use.py", "test_cli.py", "test_store.py", "test_scaleout.py",
                 "test_printer_faults.py", "test_led.py", "test_kiosk_checkin_page.py", "test_dossier_kiosk_page.py",
                 "test_ratings.py", "test_crash.py", "test_rate_tablet.py", "test_supervisor_forecast_page.py",
                 "test_catalogue.py", "test_booking_pages.py", "test_concurrency.py", "test_admin.py",
                 "test_keypad_agent.py", "test_remote_page.py", "test_config.py", "test_rate_page.py",
                 "test_config_package.py", "test_demo_secrets.py", "test_reports.py", "test_page_tokens.py",
                 "test_action_validation.py", "test_export_injection.py", "test_dispenser.py",
                 "test_notices_pages.py", "test_booking_bench.py", "test_report_admin_pages.py", "test_printers.py",
                 "test_push_faults.py", "test_decoders.py", "test_kiosk_both_centres.py", "test_no_500.py",
                 "test_simulator.py", "test_webhooks_latency.py", "test_login_throttle.py", "test_voice.py",
                 "test_webhooks.py", "test_simulator_report.py", "test_booked_machine.py",
                 "test_socket_credentials.py", "test_dossiers.py", "test_booking_api.py",
                 "test_hour_independence.py")


def pytest_collection_modifyitems(session, config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # sort is stable: a file keeps its order
