/* Hall display board and counter display: live state from the Socket.IO room display:<id>.
 *
 * On connect the server sends `snapshot` (drawn, never announced) or, when we reconnect with `last_seq`, the
 * events we missed flagged `replayed` (applied, never announced). Live `ticket.called` events flash and are
 * announced once per seq. On disconnect the page keeps its last state under a "MẤT KẾT NỐI" banner and
 * the shared connection (QMS.live) reconnects with the highest seq applied as last_seq; after a reconnect the
 * waiting counts and counter states are refreshed from GET /api/v1/displays/<id>.
 */
(function () {
  'use strict';

  const Q = window.QMS;
  const PAGE = Q.page();
  // The display's device token (?token=..., given once, e.g. in the TV browser's start URL) is kept in this
  // browser's localStorage and taken out of the address bar and history; the server never writes it into the page.
  const TOKEN_KEY = 'qms.display.token.' + PAGE.display;
  const fromUrl = Q.takeUrlToken();
  if (fromUrl) localStorage.setItem(TOKEN_KEY, fromUrl);
  const deviceToken = () => localStorage.getItem(TOKEN_KEY) || null;
  const params = new URLSearchParams(location.search);
  const isCounter = PAGE.kind === 'counter';
  const FLASH_MS = 6000;
  const { $, el, t } = Q;
  const { fitText, fitColumn, fitGrid, callRows } = Q.fit;
  // The boards speak Vietnamese, with fixed English subtitles in the page; ?lang=en only changes the server's words.
  Q.words({
    no_call_yet: 'Chưa có số nào được gọi hôm nay', counter_word: 'QUẦY', staff: 'Cán bộ: {name}', offline_for: '({s} giây)',
    no_vi_voice: 'Trình duyệt không có giọng đọc tiếng Việt: dùng bộ âm thanh ghi sẵn.',
    counters_closed: '· {n} quầy đóng', no_counter_open: 'Chưa có quầy nào mở',
    cs_idle: 'ĐANG MỞ', cs_break: 'TẠM NGHỈ', cs_closed: 'QUẦY ĐÃ ĐÓNG',
  }, {
    no_call_yet: 'No number called yet today', counter_word: 'COUNTER', staff: 'Officer: {name}', offline_for: '({s} s)',
    no_vi_voice: 'The browser has no Vietnamese voice: using the recorded clips.',
    counters_closed: '· {n} closed', no_counter_open: 'No counter is open',
    cs_idle: 'OPEN', cs_break: 'ON BREAK', cs_closed: 'COUNTER CLOSED',
  });
  // the counter screen's state in English, under the Vietnamese word
  const CS_EN = { idle: 'Open — waiting for the next call', break: 'On break', closed: 'Closed' };
  const weekday = (i) => { const w = Q.WEEKDAYS[Q.lang][i]; return w[0].toUpperCase() + w.slice(1); };
  const stateWord = (s) => (['open', 'break', 'closed'].includes(s) ? t('st_' + s) : '');

  // ------------------------------------------------------------------ voice
  let engine = params.get('voice') || PAGE.voice_engine || 'clips';
  if (!['clips', 'browser', 'off'].includes(engine)) engine = 'clips';
  if (!PAGE.voice_enabled && !params.get('voice')) engine = 'off';
  const announcer = new window.QmsAnnouncer({
    base: PAGE.clips_base, engine,
    // sound blocked (no autoplay flag): a small badge, the board stays in view; a tap anywhere unlocks
    onBlocked: () => { $('#sound-badge').hidden = false; document.body.dataset.sound = 'blocked'; },
    onUnblocked: () => { $('#sound-badge').hidden = true; document.body.dataset.sound = 'on'; },
    onNote: (text) => note(text),
  });
  window.qmsAnnouncer = announcer;
  document.body.dataset.sound = engine === 'off' ? 'off' : 'on';

  function note(text) {
    const n = $('#voice-note');
    n.textContent = text;
    n.hidden = !text;
  }
  const unlock = () => { if (announcer.blocked) announcer.unlock(); };
  $('#sound-badge').addEventListener('click', unlock);
  document.addEventListener('pointerdown', unlock);
  document.addEventListener('keydown', unlock);

  // ------------------------------------------------------------------ state
  const D = {
    display: null, departments: [], services: {}, svcAsOf: {}, counters: {}, counterSeq: {}, calls: [],
    centre: null, snapSeq: -1, conn: 'connecting', serverOffset: 0, configHash: null,
    offlineSince: null, everConnected: false, flashSeq: null, catchups: 0,
    received: [],  // {seq, code, replayed, ms}: when each call reached this page (support and tests)
  };
  window.qmsDisplay = D;

  function lastCallsLimit() { return (D.display && D.display.last_calls) || 8; }

  function addCall(call) {
    if (!call || D.calls.some((c) => c.seq === call.seq)) return;
    D.calls.push(call);
    D.calls.sort((a, b) => b.seq - a.seq);
    const keep = Math.max(lastCallsLimit() * 3, 30);
    if (D.calls.length > keep) D.calls.length = keep;
  }

  function setCounter(counter, seq) {
    const prev = D.counterSeq[counter.id];
    if (prev !== undefined && seq < prev) return;
    D.counterSeq[counter.id] = seq;
    // live counter.updated carries the counter's state, not its ticket (that comes with ticket.called and
    // ticket.updated): keep what we know of the rest
    D.counters[counter.id] = Object.assign({}, D.counters[counter.id], counter);
  }

  function applySnapshot(seq, st) {
    if (live.lastSeq !== null && seq < live.lastSeq) announcer.forget();  // a new database: old seqs mean nothing
    D.snapSeq = seq;
    D.display = st.display;
    D.departments = st.departments || [];
    D.centre = st.centre;
    D.services = st.services || {};
    D.svcAsOf = Object.fromEntries(Object.keys(D.services).map((k) => [k, seq]));
    D.counters = {};
    D.counterSeq = {};
    for (const c of st.counters || []) setCounter(c, seq);
    D.calls = [];
    for (const c of st.recent_calls || []) { addCall(c); announcer.markSeen(c.seq); }
    render();
  }

  /** After a reconnect that replayed events: counts and counters as they are now (nothing announced). */
  async function refreshFeed() {
    try {
      const r = await fetch('/api/v1/displays/' + encodeURIComponent(PAGE.display), { headers: { Accept: 'application/json' } });
      if (!r.ok) return;
      const feed = await r.json();
      const st = feed.state;
      for (const [sid, s] of Object.entries(st.services || {})) {
        if ((D.svcAsOf[sid] ?? -1) <= feed.seq) { D.services[sid] = s; D.svcAsOf[sid] = feed.seq; }
      }
      for (const c of st.counters || []) setCounter(c, feed.seq);
      // shown, not marked as announced: a call this fetch saw before its live event arrived is still announced
      // when that event comes (a missed call arrives replayed, and replayed calls are never announced)
      for (const c of st.recent_calls || []) addCall(c);
      D.catchups += 1;
      render();
    } catch (e) { /* offline again: the next reconnect refreshes */ }
  }

  // ------------------------------------------------------------------ events
  function ownCall(call) { return !isCounter || (call.counter && call.counter.id === PAGE.counter); }

  function onCalled(m) {
    if (m.seq <= D.snapSeq) return;
    const call = m.call;
    D.received.push({ seq: m.seq, code: call.code, replayed: !!m.replayed, ms: Date.now() });
    if (D.received.length > 100) D.received.shift();
    addCall(call);
    if (call.counter && call.counter.id) {
      const c = D.counters[call.counter.id];
      if (c && (D.counterSeq[c.id] ?? -1) <= m.seq) {
        D.counters[c.id] = Object.assign({}, c, { current: m.ticket });
        D.counterSeq[c.id] = m.seq;
      }
    }
    if (m.replayed) {
      announcer.markSeen(call.seq);
    } else if (ownCall(call)) {
      D.flashSeq = call.seq;
      announcer.announce(call);
    } else {
      announcer.markSeen(call.seq);
    }
    render();
  }

  const ENDS = ['finished', 'no_show', 'parked', 'transferred', 'cancelled', 'unserved'];
  function onUpdated(m) {
    if (m.seq <= D.snapSeq) return;
    if (!ENDS.includes(m.change)) return;
    for (const c of Object.values(D.counters)) {
      if (c.current && c.current.id === m.ticket.id && (D.counterSeq[c.id] ?? -1) <= m.seq) {
        D.counters[c.id] = Object.assign({}, c, { current: null });
        D.counterSeq[c.id] = m.seq;
      }
    }
    render();
  }

  function onCounter(m) {
    if (m.seq <= D.snapSeq) return;
    setCounter(m.counter, m.seq);
    render();
  }

  function onQueue(m) {
    for (const [sid, s] of Object.entries(m.services || {})) {
      if ((D.svcAsOf[sid] ?? -1) <= m.as_of) { D.services[sid] = s; D.svcAsOf[sid] = m.as_of; }
    }
    renderWaiting();
  }

  function setConn(state) {
    D.conn = state;
    document.body.dataset.conn = state;
    const banner = $('#conn-banner');
    if (state === 'online') {
      banner.hidden = true;
      D.offlineSince = null;
    } else if (state === 'offline') {
      if (D.offlineSince === null) D.offlineSince = Date.now();
      banner.hidden = false;
      updateSince();
    }
  }

  function updateSince() {
    if (D.offlineSince === null) return;
    const s = Math.round((Date.now() - D.offlineSince) / 1000);
    $('#conn-since').textContent = s >= 5 ? t('offline_for', { s }) : '';
  }

  // ------------------------------------------------------------------ connection
  const live = Q.live({
    room: 'display:' + PAGE.display, token: deviceToken, lang: params.get('lang') === 'en' ? 'en' : 'vi',
    catchUp: true, io: { randomizationFactor: 0.3 },
    onState: (s) => {
      if (s === 'online') {
        const again = D.everConnected;
        D.everConnected = true;
        if (again && live.lastSeq !== null) setTimeout(refreshFeed, 300);
      }
      if (s !== 'connecting') setConn(s);
    },
    onRefused: (code, data) => {
      setConn('offline');
      if (data.message) $('#conn-since').textContent = data.message;
      return true;
    },
    on: {
      hello: (h) => {
        D.serverOffset = live.serverOffset;
        if (D.configHash && D.configHash !== h.config_hash) {
          setTimeout(() => location.reload(), 1000);  // the centre's configuration changed: redraw from scratch
        }
        D.configHash = h.config_hash;
      },
      snapshot: (m) => applySnapshot(m.seq, m.state),
      'ticket.called': onCalled,
      'ticket.updated': onUpdated,
      'counter.updated': onCounter,
      'queue.updated': onQueue,
      // an administrator changed this screen's notice (sent to every client: take only ours)
      'notice.updated': (m) => {
        if (!m || (m.display !== PAGE.display && m.display !== '*') || !D.display) return;
        D.display = Object.assign({}, D.display, { notice: m.notice || '', notice_en: m.notice_en || '' });
        renderNotice();
      },
      // the server reloaded config.yaml: draw again from a fresh page (a snapshot is never announced)
      'config.reloaded': (m) => {
        if (m && m.config_hash && m.config_hash !== D.configHash) setTimeout(() => location.reload(), 1000);
      },
    },
  });
  D.socket = live.socket;

  // ------------------------------------------------------------------ rendering
  function now() { return new Date(Date.now() + D.serverOffset); }
  function parts(d) {
    const p = {};
    for (const x of new Intl.DateTimeFormat('en-GB', {
      timeZone: PAGE.tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
      second: '2-digit', weekday: 'short', hour12: false,
    }).formatToParts(d)) p[x.type] = x.value;
    return p;
  }
  const WD = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

  function renderClock() {
    const p = parts(now());
    const hh = p.hour === '24' ? '00' : p.hour;
    if (isCounter) {
      $('#cs-time').textContent = hh + ':' + p.minute;
    } else {
      $('#clock-time').textContent = hh + ':' + p.minute + ':' + p.second;
      $('#clock-date').textContent = weekday(WD[p.weekday]) + ', ' + p.day + '/' + p.month + '/' + p.year;
    }
    updateSince();
  }

  function callTime(call) {
    const m = /T(\d\d:\d\d)/.exec(call.at || '');
    return m ? m[1] : '';
  }

  function render() {
    if (isCounter) renderCounterScreen(); else renderBoard();
  }

  function flash(node, seq) {
    if (seq === null || seq === undefined || D.flashSeq !== seq || node.dataset.flashed === String(seq)) return;
    node.dataset.flashed = String(seq);
    node.classList.remove('flash');
    void node.offsetWidth;  // restart the animation
    node.classList.add('flash');
    setTimeout(() => { if (node.dataset.flashed === String(seq)) node.classList.remove('flash'); }, FLASH_MS);
  }

  function renderBoard() {
    const latest = D.calls[0] || null;
    const hl = $('#headline');
    hl.dataset.seq = latest ? latest.seq : '';
    $('#hl-code').textContent = latest ? latest.code : '—';
    $('#hl-counter-number').textContent = latest && latest.counter ? (latest.counter.number ?? latest.counter.name) : '';
    $('#hl-service').textContent = latest ? latest.service_name : t('no_call_yet');
    $('#hl-recall').hidden = !(latest && latest.recall);
    if (latest) flash(hl, latest.seq);

    // closed counters are only counted; open counters and counters on break (small) get a tile
    const all = Object.values(D.counters).sort((a, b) => a.number - b.number);
    const counters = all.filter((c) => c.state !== 'closed' || c.current);
    const closed = all.length - counters.length;
    $('#counters-closed').textContent = closed ? t('counters_closed', { n: closed }) : '';
    const grid = $('#counters');
    fitGrid(grid, counters.length, 1.7, 3);
    if (!counters.length) grid.style.setProperty('--rows', 1);
    grid.replaceChildren(...(counters.length ? [] : [el('div', { class: 'counters-none', text: t('no_counter_open') })]),
      ...counters.map((c) => {
      const cur = c.current;
      const cell = el('div', { class: 'counter st-' + c.state + (cur ? ' busy' : ''), 'data-counter': c.id },
        el('div', { class: 'c-name fit', text: c.name }),
        el('div', { class: 'c-code fit', text: cur ? cur.code : (c.state === 'open' ? '—' : stateWord(c.state)) }));
      if (latest && cur && latest.counter && latest.counter.id === c.id && latest.code === cur.code && D.flashSeq === latest.seq) {
        cell.classList.add('flash');
      }
      return cell;
    }));

    const seen = new Set();
    const list = [];
    for (const call of D.calls) {
      const key = call.code + '@' + (call.counter && call.counter.id);
      if (seen.has(key)) continue;
      seen.add(key);
      list.push(call);
    }
    // a few large rows, readable from far away: as many as fit at a large font, at most last_calls
    const calls = $('#calls');
    list.length = Math.min(list.length, callRows(calls, lastCallsLimit()));
    calls.replaceChildren(...list.map((c, i) => el('li', { 'data-seq': c.seq, class: i === 0 ? 'newest' : '' },
      el('span', { class: 'l-code', text: c.code }), el('span', { class: 'l-arrow', text: '→' }),
      el('span', { class: 'l-counter' }, ...counterLabel(c.counter)),
      el('span', { class: 'l-time', text: callTime(c) }))));
    renderWaiting();
    renderNotice();
    fitText(document.querySelectorAll('.headline .fit, #counters .fit, #calls li'));
    fitColumn($('#headline'), $('#hl-code'));
  }

  /** "QUẦY" small and the counter's number large (a counter without a number: its name). */
  function counterLabel(counter) {
    if (!counter) return [];
    if (counter.number === null || counter.number === undefined) return [el('span', { class: 'l-number', text: counter.name || counter.id })];
    return [el('span', { class: 'l-quay', text: t('counter_word') }), el('span', { class: 'l-number', text: counter.number })];
  }

  function renderWaiting() {
    if (isCounter) return;
    const waiting = $('#waiting');
    const n = D.departments.length;
    const cols = n > 12 ? 3 : n > 4 ? 2 : 1;
    waiting.style.setProperty('--cols', cols);
    waiting.style.setProperty('--rows', Math.max(4, Math.ceil(n / cols)));
    waiting.replaceChildren(...D.departments.map((d) => {
      const n = d.services.reduce((sum, sid) => sum + ((D.services[sid] && D.services[sid].waiting) || 0), 0);
      return el('li', { 'data-department': d.id }, el('span', { class: 'w-name fit', text: d.short_name || d.name }),
        el('span', { class: 'w-num', 'data-waiting': n, text: n }));
    }));
    fitText(waiting.querySelectorAll('.fit'));  // long department names: shrunk to their cell, never cut
  }

  function renderNotice() {
    const vi = (D.display && D.display.notice) || '';
    const en = (D.display && D.display.notice_en) || '';
    const text = vi && en ? vi + '   ·   ' + en : (vi || en);
    const span = $('#notice');
    $('#notice-bar').hidden = !text;
    if (span.textContent !== text) span.textContent = text;
    span.style.animationDuration = Math.max(18, text.length * 0.28) + 's';
  }

  function renderCounterScreen() {
    const c = D.counters[PAGE.counter];
    const cs = $('#cs');
    $('#cs-name').textContent = c ? c.name.toUpperCase() : t('counter_word');
    cs.dataset.state = c ? c.state : '';
    const cur = c && c.current;
    // the number being called, else the counter's own state: open and free, on break, closed
    const view = !c ? '' : (c.state === 'break' || c.state === 'closed') ? c.state : (cur ? 'ticket' : 'idle');
    cs.dataset.view = view;
    $('#cs-code').textContent = cur ? cur.code : '—';
    $('#cs-service').textContent = cur ? cur.service_name : '';
    $('#cs-status').textContent = view && view !== 'ticket' ? t('cs_' + view) : '';
    $('#cs-status-en').textContent = CS_EN[view] || '';
    $('#cs-staff').textContent = c && c.staff_name ? t('staff', { name: c.staff_name }) : '';
    fitText(document.querySelectorAll('.cs .fit'));
    fitColumn(cs, view === 'ticket' ? $('#cs-code') : $('#cs-status'));
    const own = D.calls.find((x) => x.counter && x.counter.id === PAGE.counter);
    if (own && cur && own.code === cur.code) flash(cs, own.seq);
  }

  renderClock();
  setInterval(renderClock, 1000);
  // the screen, or the top bar (the sound badge comes and goes), changed the board's size: fit it again
  new ResizeObserver(() => render()).observe(isCounter ? $('#cs') : $('.grid'));
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(() => render());
  announcer.probe();
  if (engine === 'browser') {
    setTimeout(() => { if (!announcer.viVoice) note(t('no_vi_voice')); }, 1500);
  }
})();
