/* Counter terminal: sign in, pick a counter, then call and serve over Socket.IO with acknowledgements.
 *
 * Room counter:<id> (auth {room, token, lang}); snapshot {counter, services, history}; live events
 * ticket.called, ticket.updated, counter.updated, queue.updated. Every press is the socket event "action"
 * with an ack {ok, ...} or {ok:false, error, message}; the answer is shown in #ack. While the connection is
 * down every action button is disabled and #offline-reason says why.
 *
 * An empty queue is not an error: "next" with nobody waiting shows a calm "Chưa có công dân chờ", cleared when a
 * citizen arrives; then "Gọi tiếp" shows the count and, with the page setting `chime`, a soft chime plays.
 * With `confirm_next`, "Gọi tiếp" while a ticket is at the counter asks before it is finished. A change of
 * language reconnects, so the server answers in the new language.
 */
(function () {
  'use strict';

  const Q = window.QMS;
  const { $, $$, t } = Q;
  const ACK_TIMEOUT_MS = 8000;
  const PAGE = Q.page();
  Q.setLang(Q.savedLang());

  // ------------------------------------------------------------------ state
  const S = {
    token: null, staff: null, counters: [], counterId: null,
    live: null, socket: null, conn: 'idle', serverOffset: 0,
    counter: null, counterSeq: -1, services: {}, history: [], servicesInfo: {}, allCounters: [],
    snapSeq: -1, pending: null, lastAck: null,
    presses: [],  // {op, ms}: when each action left this page (support and tests)
    ackCount: 0,  // answers received from the server (or timed out)
    chimes: [],  // {ms, sound}: each chime for a citizen arriving at an empty queue (sound: the audio's state)
  };
  window.qmsTerminal = S;  // for tests and for support staff looking at the console
  let entering = 0;  // the latest enterCounter call; an older one still awaiting gives up
  const api = (method, path, body) => Q.api(method, path, body, { token: S.token });
  const view = Q.terminalView({ S, reasonFor, currentTicket, send, enterCounter, api });
  const { renderPicker, showAck, render, renderButtons, renderWaiting, tick } = view;

  function saveSession() {
    Q.saveSession(S.token, S.staff);
    if (S.counterId) sessionStorage.setItem('qms.counter', S.counterId); else sessionStorage.removeItem('qms.counter');
  }

  // ------------------------------------------------------------------ views
  function show(view) {
    document.body.dataset.view = view;
    for (const v of ['signin', 'picker', 'terminal']) $('#view-' + v).hidden = v !== view;
    $('#btn-logout').hidden = view === 'signin';
    $('#btn-switch').hidden = view !== 'terminal';
    $('#who').textContent = S.staff ? (S.staff.full_name || S.staff.username) : '';
  }

  function applyWords() {
    Q.applyI18n();
    $('#btn-lang').textContent = Q.lang === 'vi' ? 'EN' : 'VI';
    setConn(S.conn);
    if (document.body.dataset.view === 'picker') renderPicker();
    if (document.body.dataset.view === 'terminal') render();
  }

  // ------------------------------------------------------------------ sign in and picker
  async function signedIn(out) {
    S.token = out.token; S.staff = out.staff; S.counters = out.counters;
    saveSession();
    await openPicker();
  }

  const isSupervisor = () => S.staff && (S.staff.role === 'supervisor' || S.staff.role === 'admin');

  async function loadCounters() {
    const all = (await api('GET', '/counters')).counters;
    S.allCounters = all;
    S.counters = isSupervisor() ? all : all.filter((c) => S.staff.counters.includes(c.id));
  }

  async function openPicker(message) {
    entering += 1;
    leaveCounter();
    S.counterId = null; saveSession();
    try { await loadCounters(); } catch (err) { return signedOut(err.status === 401 ? t('bad_session') : err.message); }
    show('picker');
    $('#picker-error').textContent = message || (S.counters.length ? '' : t('no_counters'));
    renderPicker();
    if (!message && S.counters.length === 1 && !isSupervisor()) enterCounter(S.counters[0].id);
  }

  function signedOut(message) {
    entering += 1;
    leaveCounter();
    S.token = null; S.staff = null; S.counterId = null; saveSession();
    show('signin');
    $('#signin-error').textContent = message || '';
  }

  async function logout() {
    await Q.logout(S.token);  // the token may already be gone
    signedOut('');
  }

  // ------------------------------------------------------------------ the counter's live connection
  function setConn(state) {
    S.conn = state;
    const c = $('#conn');
    c.dataset.state = state;
    c.textContent = t('conn_' + state);
    document.body.dataset.conn = state;
    if (document.body.dataset.view === 'terminal') renderButtons();
  }

  function leaveCounter() {
    if (S.live) { S.live.close(); S.live = null; S.socket = null; }
    S.counter = null; S.counterSeq = -1; S.snapSeq = -1; S.history = []; S.services = {}; S.pending = null;
    setConn('idle');
  }

  async function loadServicesInfo() {
    const svc = (await api('GET', '/services')).services;
    S.servicesInfo = Object.fromEntries(svc.map((s) => [s.id, s]));
  }

  async function enterCounter(id) {
    const turn = ++entering;
    leaveCounter();
    S.counterId = id; saveSession();
    show('terminal');
    $('#ack').textContent = ''; $('#ack').className = 'ack';
    try {
      await loadServicesInfo();
      if (!S.allCounters.length) S.allCounters = (await api('GET', '/counters')).counters;
    } catch (err) {
      if (err.status === 401) return signedOut(t('bad_session'));
      // the server is unreachable: connect anyway, names are loaded with the first snapshot
    }
    if (turn !== entering) return;
    setConn('connecting');
    render();
    const live = Q.live({
      room: 'counter:' + id, token: S.token, lang: () => Q.lang, io: { forceNew: true },
      onState: (s) => {
        if (s === 'connecting') return;
        setConn(s);
        if (s === 'offline') failPending(t('offline_send'));
      },
      onRefused: (code, data) => {
        if (code === 'unauthenticated') signedOut(t('bad_session'));
        else if (code === 'forbidden' || code === 'counter_unknown') openPicker(data.message);
        else return false;
        return true;
      },
      on: {
        hello: () => { S.serverOffset = live.serverOffset; },
        snapshot: (m) => {
          S.snapSeq = m.seq; S.counter = m.state.counter; S.counterSeq = m.seq;
          S.services = m.state.services || {}; S.history = m.state.history || [];
          if (!Object.keys(S.servicesInfo).length) loadServicesInfo().then(render).catch(() => {});
          render();
        },
        'counter.updated': (m) => { if (m.seq > S.snapSeq) setCounter(m.counter, m.seq); },
        'ticket.called': (m) => {
          if (m.seq <= S.snapSeq) return;
          upsertHistory(m.ticket);
          render();
        },
        'ticket.updated': (m) => {
          if (m.seq <= S.snapSeq) return;
          const tk = m.ticket;
          const away = m.change === 'transferred' && !(m.data && m.data.to_counter === S.counterId);
          upsertHistory(tk, away ? 'transferred' : undefined);
          if (S.counter && S.counter.current && S.counter.current.id === tk.id &&
              ['finished', 'no_show', 'parked', 'transferred', 'cancelled', 'unserved'].includes(m.change)) {
            S.counter = Object.assign({}, S.counter, { current: null });
          }
          render();
        },
        'config.reloaded': () => {  // services or counters may have changed: names and lists again
          loadServicesInfo().then(render).catch(() => {});
          api('GET', '/counters').then((out) => { S.allCounters = out.counters; }).catch(() => {});
          live.resync();
        },
        'queue.updated': (m) => {
          const before = waitingTotal();
          for (const [sid, st] of Object.entries(m.services || {})) S.services[sid] = st;
          if (before === 0 && waitingTotal() > 0) arrived();
          renderWaiting();
          if (view.transferOpen()) view.refreshTransfer();
        },
      },
    });
    S.live = live;
    S.socket = live.socket;
  }

  /** Citizens waiting for this counter's services. */
  function waitingTotal() {
    const ids = (S.counter && S.counter.services) || Object.keys(S.services);
    return ids.reduce((n, id) => n + ((S.services[id] || {}).waiting || 0), 0);
  }

  /** The first citizen after an empty queue: the calm "nobody waiting" goes, the button lights, a chime. */
  function arrived() {
    view.clearEmpty();
    const next = $("#actions .act[data-op='next']");
    next.classList.remove('arrived'); void next.offsetWidth; next.classList.add('arrived');
    if (PAGE.chime && S.counter && S.counter.state === 'open') view.chime();
  }

  function setCounter(counter, seq) {
    if (seq !== null && seq !== undefined && seq < S.counterSeq) return;
    if (seq !== null && seq !== undefined) S.counterSeq = seq;
    S.counter = counter;
    if (counter.current) upsertHistory(counter.current);
    render();
  }

  /** note: 'transferred' marks a ticket sent elsewhere; null clears it; undefined keeps what was there. */
  function upsertHistory(ticket, note) {
    if (!ticket) return;
    const i = S.history.findIndex((h) => h.id === ticket.id);
    const old = i >= 0 ? S.history[i] : {};
    const merged = Object.assign({}, old, ticket, { note: note === undefined ? old.note : note });
    if (ticket.status !== 'waiting') merged.note = note || null;
    if (i >= 0) S.history[i] = merged; else S.history.unshift(merged);
    S.history.sort((a, b) => (b.called_ms || b.issued_ms || 0) - (a.called_ms || a.issued_ms || 0));
    if (S.history.length > 30) S.history.length = 30;
  }

  // ------------------------------------------------------------------ actions
  const OP_WIRE = { back: 'open' };  // "Trở lại làm việc" reopens the counter after a break

  function currentTicket() { return S.counter && S.counter.current ? S.counter.current : null; }
  function mine() { return S.counter && S.staff && (S.counter.staff_id === S.staff.id); }

  /** Why an action is not possible now, or '' when it is. */
  function reasonFor(op) {
    if (S.conn !== 'online') return S.conn === 'connecting' ? t('r_connecting') : t('r_offline');
    if (S.pending) return t('r_pending');
    const c = S.counter;
    if (!c) return t('r_connecting');
    const cur = currentTicket();
    const taken = c.state !== 'closed' && c.staff_id && !mine() && !isSupervisor();
    if (op === 'open') return c.state === 'closed' ? (taken ? t('r_taken', { name: c.staff_name }) : '') : '-';
    if (op === 'back') return c.state === 'break' ? (taken ? t('r_taken', { name: c.staff_name }) : '') : '-';
    if (taken) return t('r_taken', { name: c.staff_name });
    if (op === 'close') return c.state === 'closed' ? '-' : '';
    if (op === 'break') return c.state === 'open' ? '' : '-';
    if (c.state === 'closed') return t('r_closed');
    if (c.state === 'break') return t('r_break');
    if (op === 'next' || op === 'call') return '';
    if (op === 'resume') return '';
    if (!cur) return t('r_no_ticket');
    if (op === 'recall' || op === 'no_show' || op === 'start') return cur.status === 'called' ? '' : t('r_serving');
    return '';  // finish, transfer, park: a called or serving ticket
  }

  function send(op, extra, opts) {
    opts = opts || {};
    const reason = reasonFor(op);
    if (reason) {
      showAck(false, reason === '-' ? t('r_pending') : reason);
      return Promise.resolve(null);
    }
    if (!S.socket || !S.socket.connected) { showAck(false, t('offline_send')); return Promise.resolve(null); }
    const payload = Object.assign({ op: OP_WIRE[op] || op, counter: S.counterId }, extra || {});
    const cur = currentTicket();
    if (op === 'next') payload.current = cur ? cur.id : null;
    const tk = cur ? cur.code : '';
    const startedFor = S.socket;
    S.pending = { op, label: opts.label || t('op_' + op) };
    S.presses.push({ op, ms: Date.now() });
    if (S.presses.length > 100) S.presses.shift();
    showAck(null, t('sending', { op: S.pending.label }));
    renderButtons();
    return new Promise((resolve) => {
      startedFor.timeout(ACK_TIMEOUT_MS).emit('action', payload, (err, res) => {
        if (S.socket !== startedFor) return resolve(null);
        S.pending = null;
        S.ackCount += 1;
        if (err) {
          showAck(false, t('no_answer', { s: ACK_TIMEOUT_MS / 1000 }));
          startedFor.emit('resync');
        } else if (res && res.error === 'nothing_waiting') {
          view.showEmpty(res);
        } else if (!res || !res.ok) {
          showAck(false, (res && res.message) || 'error', res && res.error);
        } else {
          onAck(op, res, tk, opts);
        }
        renderButtons();
        resolve(res || null);
      });
    });
  }

  function failPending(message) {
    if (S.pending) { S.pending = null; showAck(false, message); }
  }

  function onAck(op, res, code, opts) {
    if (res.counter) {
      if (res.seq === null || res.seq === undefined) {
        // nothing new happened (a repeated press): ask for the whole state instead of guessing
        S.socket.emit('resync');
      } else {
        setCounter(res.counter, res.seq);
      }
    }
    if (res.ticket) upsertHistory(res.ticket, op === 'transfer' ? 'transferred' : undefined);
    const tcode = (res.ticket && res.ticket.code) || code;
    let msg;
    if (op === 'next' && res.repeated) msg = t('ok_repeated', { code: tcode });
    else if (op === 'transfer') msg = t('ok_transfer', { code: tcode, target: opts.target || '' });
    else msg = t('ok_' + op, { code: tcode });
    showAck(true, msg);
    render();
  }

  function press(op) {
    if (op === 'call') return view.openCallDialog();
    if (op === 'next') {
      $("#actions .act[data-op='next']").classList.remove('arrived');
      if (PAGE.confirm_next && PAGE.next_with_open_ticket !== 'refuse' && currentTicket() && !reasonFor('next')) {
        return view.openNextDialog();
      }
    }
    if (op === 'transfer') return view.openTransferDialog();
    if (op === 'close') {
      if (reasonFor('close')) return send('close');
      if (!window.confirm(t('confirm_close'))) return;
    }
    return send(op);
  }

  // ------------------------------------------------------------------ wiring
  function onKey(ev) {
    if (document.body.dataset.view !== 'terminal') return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (document.querySelector('dialog[open]')) return;  // Escape closes a dialog natively
    const tag = (ev.target && ev.target.tagName) || '';
    if (['INPUT', 'TEXTAREA', 'SELECT'].includes(tag)) return;
    const key = ev.key.toLowerCase();
    const btn = $$('#actions .act').find((b) => b.dataset.key === key && !b.hidden);
    if (!btn) return;
    ev.preventDefault();
    if (ev.repeat) return;  // a held key is one press
    press(btn.dataset.op);
  }

  function init() {
    applyWords();
    Q.bindSignIn(signedIn);
    $('#btn-logout').addEventListener('click', logout);
    $('#btn-switch').addEventListener('click', () => openPicker());
    $('#btn-lang').addEventListener('click', () => {
      Q.setLang(Q.lang === 'vi' ? 'en' : 'vi', true);
      applyWords();
      // the server's messages are in the language the socket connected with: connect again in the new one
      if (S.socket && S.socket.connected && !S.pending) { S.socket.disconnect(); S.socket.connect(); }
    });
    for (const b of $$('#actions .act')) b.addEventListener('click', () => press(b.dataset.op));
    document.addEventListener('keydown', onKey);
    $('#call-form').addEventListener('submit', view.submitCall);
    $('#next-form').addEventListener('submit', (ev) => { ev.preventDefault(); $('#dlg-next').close(); send('next'); });
    $('#transfer-go').addEventListener('click', view.confirmTransfer);
    $('#transfer-last').addEventListener('change', view.showTransferConfirm);
    $('#parked-chip').addEventListener('click', () => {
      $('#parked-card').scrollIntoView({ block: 'center' });
      const first = $('#parked-list button');
      if (first) first.focus();
    });
    $('#transfer-search').addEventListener('input', view.renderTransferList);
    for (const b of $$('#dlg-transfer .tab')) b.addEventListener('click', () => view.setTransferTab(b.dataset.tab));
    for (const b of $$('dialog [data-close]')) b.addEventListener('click', () => b.closest('dialog').close());
    setInterval(tick, 1000);

    const saved = Q.session();
    if (!saved || !saved.token) return show('signin');
    S.token = saved.token; S.staff = saved.staff;
    api('GET', '/me').then((me) => {
      if (me.kind !== 'staff') return signedOut(t('bad_session'));
      S.staff = me;
      const counter = sessionStorage.getItem('qms.counter');
      return loadCounters().then(() => {
        if (counter && S.counters.some((c) => c.id === counter)) enterCounter(counter);
        else openPicker();
      });
    }).catch(() => signedOut(t('bad_session')));
  }

  init();
})();
