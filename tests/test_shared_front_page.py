"""The shared script in Debian's chromium, against a real server: every page loads without a script error,
the strings and formats behave the same on every page, and QMS.live catches up with last_seq after a
reconnect (the missed call replayed, no snapshot) and gives a fresh snapshot on resync()."""
from __future__ import annotations

import pytest
import requests
import yaml

from server_util import KIOSK, ServerProcess, server_config

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("shared-front")
    path = server_config(tmp, extra_counters=0)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["devices"]["displays"].append({"id": "screen-1", "kind": "counter", "counter": "1",
                                        "token": "test-display-screen-1"})
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    srv = ServerProcess(path, tmp / "qms.sqlite3", "eventlet").start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def staff(server):
    r = requests.post(server.url + "/api/v1/login", json={"username": "canbo1", "password": "test-staff"}, timeout=10)
    headers = {"Authorization": "Bearer " + r.json()["token"]}
    assert requests.post(server.url + "/api/v1/counters/1/open", headers=headers, timeout=10).status_code == 200
    return headers


def issue(server, service="cccd"):
    r = requests.post(server.url + "/api/v1/tickets", json={"service": service}, headers=KIOSK, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def call_next(server, staff, current=None):
    """Counter 1 calls the next ticket; `current` is the ticket it has (so this is no repeated press)."""
    r = requests.post(server.url + "/api/v1/counters/1/next", json={"current": current}, headers=staff, timeout=10)
    assert r.status_code == 200 and not r.json().get("repeated"), r.text
    return r.json()["ticket"]


def test_every_page_loads_without_a_script_error(server, staff, chromium):
    ticket = issue(server)
    pages = [("/", "h1"), ("/counter", "#signin-form"), ("/supervisor", "#signin-form"), ("/reports", "#signin-form"),
             ("/admin", "#signin-form"), ("/display/hall", "body[data-conn=online]"),
             ("/display/screen-1", "body[data-conn=online]"), ("/display/nowhere", "h1"),
             ("/kiosk/kiosk-1?token=test-kiosk-token-1", "#departments [data-department]"), ("/kiosk/nowhere", "h1"),
             (f"/t/{ticket['token']}", "#conn:has-text('Đang theo dõi trực tiếp')"), ("/t/nothing", "h1"),
             ("/rate/1?token=test-display-screen-1", "#idle:visible")]  # the counter display's token rates there
    context = chromium.new_context(locale="vi-VN", bypass_csp=False)  # the pages' own policy, in force
    try:
        for path, ready in pages:
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and "404" not in msg.text else None)
            page.goto(server.url + path)
            page.wait_for_selector(ready, timeout=10_000)
            assert page.evaluate("typeof window.QMS.el === 'function' && typeof window.QMS.live === 'function'"), path
            assert not errors, (path, errors)
            page.close()
    finally:
        context.close()


def test_strings_and_formats(server, browser_page):
    page = browser_page
    page.goto(server.url + "/")
    got = page.evaluate("""() => {
      const Q = window.QMS;
      Q.words({ hello: 'Xin chào {name}', only_vi: 'Chỉ có tiếng Việt' }, { hello: 'Hello {name}' });
      const out = { vi: Q.t('hello', { name: 'Bình' }), kept: Q.t('hello'), blank: Q.t('hello', { name: null }),
                    unknown: Q.t('no_such_key') };
      Q.setLang('en');
      Object.assign(out, { en: Q.t('hello', { name: 'Binh' }), fallback: Q.t('only_vi'), conn: Q.t('conn_offline') });
      Q.setLang('vi');
      const node = Q.el('p', { class: 'x', 'data-n': 3, hidden: false, text: null }, ['a', ['b', null]], 7, false);
      return Object.assign(out, {
        conn_vi: Q.t('conn_offline'), fold: Q.fold('  Đăng KÝ   khai sinh '), html: node.outerHTML,
        d1: Q.fmtDuration(65000), d2: Q.fmtDuration(65000, true), d3: Q.fmtDuration(3725000), d4: Q.fmtDuration(-1),
        opens: Q.opensText('2026-11-30 07:30', 'vi'), opens_en: Q.opensText('2026-11-30 07:30', 'en'),
        full: Q.reasonText({ state: 'full', opens_at: '07:30' }, 'vi'),
      });
    }""")
    assert got["vi"] == "Xin chào Bình" and got["kept"] == "Xin chào {name}" and got["blank"] == "Xin chào "
    assert got["unknown"] == "no_such_key"
    assert got["en"] == "Hello Binh" and got["fallback"] == "Chỉ có tiếng Việt"
    assert got["conn"] == "Connection lost" and got["conn_vi"] == "Mất kết nối"
    assert got["fold"] == "dang ky khai sinh"
    assert got["html"] == '<p class="x" data-n="3">ab7</p>'
    assert (got["d1"], got["d2"], got["d3"], got["d4"]) == ("1:05", "01:05", "1:02:05", "")
    assert got["opens"] == "mở lúc 07:30 thứ Hai 30/11" and got["opens_en"] == "opens Monday 30/11 at 07:30"
    assert got["full"] == "Đã hết số hôm nay"


def test_live_catches_up_with_last_seq_and_resyncs(server, staff, browser_page):
    page = browser_page
    page.goto(server.url + "/display/hall")
    page.wait_for_selector("body[data-conn=online]")
    page.evaluate("""() => {
      window.seen = { snapshots: [], calls: [], states: [] };
      window.probe = window.QMS.live({ room: 'display:hall', catchUp: true,
        onState: (s) => window.seen.states.push(s),
        on: { snapshot: (m) => window.seen.snapshots.push(m.seq),
              'ticket.called': (m) => window.seen.calls.push({ seq: m.seq, code: m.call.code, replayed: !!m.replayed }) } });
    }""")
    page.wait_for_function("window.seen.snapshots.length === 1 && window.seen.states.at(-1) === 'online'")
    issue(server)
    first = call_next(server, staff)
    page.wait_for_function(f"window.seen.calls.some(c => c.code === '{first['code']}' && !c.replayed)")
    live_seq = page.evaluate("window.seen.calls.at(-1).seq")
    assert page.evaluate("window.probe.lastSeq") >= live_seq

    # away while a call is made: back with last_seq, the call comes replayed and no snapshot is sent
    page.evaluate("window.probe.socket.disconnect()")
    issue(server)
    missed = call_next(server, staff, current=first["id"])["code"]
    page.evaluate("window.probe.socket.connect()")
    page.wait_for_function(f"window.seen.calls.some(c => c.code === '{missed}' && c.replayed)")
    replay = page.evaluate(f"window.seen.calls.find(c => c.code === '{missed}' && c.replayed)")
    assert replay["seq"] > live_seq
    assert page.evaluate("window.seen.snapshots.length") == 1
    assert page.evaluate("window.probe.lastSeq") >= replay["seq"]

    # resync: a fresh snapshot, from which the count goes on
    page.evaluate("window.probe.resync()")
    page.wait_for_function("window.seen.snapshots.length === 2")
    assert page.evaluate("window.seen.snapshots[1]") >= replay["seq"]
    page.evaluate("window.probe.close()")


def test_live_mends_a_lost_call_by_itself_and_applies_each_message_once(server, staff, browser_page):
    """A call lost on its way to the page: the next message's `prev` names it, QMS.live asks catch_up, and the
    call comes replayed, once; the live ones are applied once each (issue 16, item 2)."""
    page = browser_page
    page.goto(server.url + "/display/hall")
    page.wait_for_selector("body[data-conn=online]")
    page.evaluate("""() => {
      window.seen = { calls: [], updates: [], lost: [] };
      window.probe = window.QMS.live({ room: 'display:hall', catchUp: true,
        on: { 'ticket.called': (m) => window.seen.calls.push({ seq: m.seq, code: m.call.code, replayed: !!m.replayed }),
              'ticket.updated': (m) => window.seen.updates.push(m.seq) } });
      const s = window.probe.socket, deliver = s.onevent.bind(s);
      s.onevent = (p) => {  // the next call is lost on its way in
        if (p.data && p.data[0] === 'ticket.called' && window.dropNext) { window.dropNext = false; window.seen.lost.push(p.data[1].seq); return; }
        deliver(p);
      };
    }""")
    page.wait_for_function("window.probe.lastSeq !== null")
    issue(server)
    issue(server)
    at_counter = requests.get(server.url + "/api/v1/counters/1", headers=staff, timeout=10).json()
    first = call_next(server, staff, current=at_counter["counter"]["current_ticket_id"])
    page.wait_for_function(f"window.seen.calls.some(c => c.code === '{first['code']}')")
    page.evaluate("window.dropNext = true")
    second = call_next(server, staff, current=first["id"])
    page.wait_for_function("window.seen.lost.length === 1")
    assert page.evaluate("window.probe.gaps") == 0, "nothing shows the loss yet"
    r = requests.post(f"{server.url}/api/v1/tickets/{second['id']}/finish", headers=staff, timeout=10)
    assert r.status_code == 200
    page.wait_for_function(f"window.seen.calls.some(c => c.code === '{second['code']}')")
    got = page.evaluate("window.seen")
    lost = got["lost"][0]
    assert [c for c in got["calls"] if c["code"] == second["code"]] == [{"seq": lost, "code": second["code"], "replayed": True}]
    assert [c["replayed"] for c in got["calls"] if c["code"] == first["code"]] == [False]
    assert len(got["updates"]) == len(set(got["updates"])), "the finish, live and replayed, is applied once"
    assert page.evaluate("window.probe.gaps") == 1
    page.evaluate("window.probe.close()")
