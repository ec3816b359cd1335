/* Counter terminal: sign in, pick a counter, then call and serve over Socket.IO with acknowledgements.
 *
 * Room counter:<id> (auth {room, token, lang}); snapshot {counter, services, history}; live events
 * ticket.called, ticket.updated, counter.updated, queue.updated. Every press is the socket event "action"
 * with an ack {ok, ...} or {ok:false, error, message}; the answer is shown in #ack. While the connection is
 * down every action button is disabled and #offline-reason says why.
 */
(function () {
  'use strict';

  const PAGE = JSON.parse(document.getElementById('qms-page').textContent);
  const ACK_TIMEOUT_MS = 8000;

  // ------------------------------------------------------------------ words
  const WORDS = {
    vi: {
      title: 'Quầy giao dịch', conn_idle: 'Chưa kết nối', conn_online: 'Đã kết nối', conn_connecting: 'Đang kết nối…',
      conn_offline: 'Mất kết nối', switch_counter: 'Đổi quầy', logout: 'Đăng xuất', signin_title: 'Đăng nhập cán bộ',
      username: 'Tên đăng nhập', password: 'Mật khẩu', signin: 'Đăng nhập', pick_title: 'Chọn quầy làm việc',
      current: 'Số đang phục vụ', op_next: 'Gọi tiếp', op_recall: 'Gọi lại', op_call: 'Gọi số', op_no_show: 'Vắng',
      op_start: 'Bắt đầu', op_finish: 'Hoàn thành', op_transfer: 'Chuyển', op_park: 'Tạm giữ', op_open: 'Mở quầy',
      op_break: 'Tạm nghỉ', op_back: 'Trở lại làm việc', op_close: 'Đóng quầy', op_resume: 'Gọi lại số tạm giữ',
      parked: 'Số đang tạm giữ', waiting: 'Đang chờ', history: 'Vừa phục vụ', h_code: 'Số', h_service: 'Dịch vụ',
      h_status: 'Trạng thái', h_time: 'Giờ gọi', call_title: 'Gọi số', call_code: 'Số cần gọi',
      call_service: 'Dịch vụ (khi có nhiều số trùng)', any_service: '— bất kỳ —', cancel: 'Hủy',
      transfer_title: 'Chuyển số', to_service: 'Sang dịch vụ', to_counter: 'Sang quầy',
      search: 'Tìm (gõ không dấu cũng được)', go_last: 'Xếp cuối hàng đợi', nothing_found: 'Không tìm thấy',
      st_open: 'Đang mở', st_break: 'Tạm nghỉ', st_closed: 'Đóng', st_waiting: 'Đang chờ', st_called: 'Đã gọi',
      st_serving: 'Đang phục vụ', st_parked: 'Tạm giữ', st_done: 'Hoàn thành', st_no_show: 'Vắng',
      st_cancelled: 'Đã hủy', st_unserved: 'Chưa phục vụ', st_transferred: 'Đã chuyển',
      timer_called: 'Đã gọi', timer_serving: 'Đang phục vụ', recalls: 'Gọi lại {n} lần', people: 'người',
      r_offline: 'Mất kết nối máy chủ — đang kết nối lại. Các nút tạm khóa cho tới khi có kết nối.',
      r_connecting: 'Đang kết nối tới máy chủ…', r_pending: 'Đang chờ máy chủ trả lời…',
      r_closed: 'Quầy đang đóng: bấm “Mở quầy” để đăng nhập vào quầy.',
      r_break: 'Quầy đang tạm nghỉ: bấm “Trở lại làm việc” để gọi số.',
      r_taken: 'Quầy đang do {name} phụ trách.', r_no_ticket: 'Chưa có số nào tại quầy: bấm “Gọi tiếp”.',
      r_serving: 'Đang phục vụ: “Gọi lại”, “Vắng” và “Bắt đầu” chỉ dùng khi số vừa được gọi.',
      ok_next: 'Đã gọi số {code}.', ok_repeated: 'Số {code} đã được gọi trước đó (bấm lặp), không gọi thêm ai.',
      ok_call: 'Đã gọi số {code}.', ok_recall: 'Đã gọi lại số {code}.', ok_no_show: 'Đã ghi vắng số {code}.',
      ok_start: 'Bắt đầu phục vụ số {code}.', ok_finish: 'Đã hoàn thành số {code}.',
      ok_transfer: 'Đã chuyển số {code} sang {target}.', ok_park: 'Đã tạm giữ số {code}.',
      ok_resume: 'Đã gọi lại số tạm giữ {code}.', ok_open: 'Đã mở quầy.', ok_break: 'Quầy đang tạm nghỉ.',
      ok_back: 'Đã trở lại làm việc.', ok_close: 'Đã đóng quầy.', no_answer: 'Máy chủ không trả lời trong {s} giây; trạng thái đã được tải lại, hãy kiểm tra trước khi bấm lại.',
      confirm_close: 'Đóng quầy và đăng xuất khỏi quầy?', sending: 'Đang gửi: {op}…',
      offline_send: 'Mất kết nối: thao tác chưa được gửi.', no_counters: 'Tài khoản chưa được phân quầy nào.',
      bad_session: 'Phiên đăng nhập đã hết hạn, vui lòng đăng nhập lại.', taken_by: 'đang do {name} phụ trách',
      none: '—', waiting_total: 'Tổng', next_codes: 'Tiếp theo',
    },
    en: {
      title: 'Counter terminal', conn_idle: 'Not connected', conn_online: 'Connected', conn_connecting: 'Connecting…',
      conn_offline: 'Connection lost', switch_counter: 'Change counter', logout: 'Sign out', signin_title: 'Staff sign-in',
      username: 'Username', password: 'Password', signin: 'Sign in', pick_title: 'Choose your counter',
      current: 'Current ticket', op_next: 'Next', op_recall: 'Recall', op_call: 'Call number', op_no_show: 'No-show',
      op_start: 'Start', op_finish: 'Finish', op_transfer: 'Transfer', op_park: 'Park', op_open: 'Open counter',
      op_break: 'Break', op_back: 'Back to work', op_close: 'Close counter', op_resume: 'Resume parked ticket',
      parked: 'Parked tickets', waiting: 'Waiting', history: 'Recent tickets', h_code: 'No.', h_service: 'Service',
      h_status: 'Status', h_time: 'Called', call_title: 'Call a number', call_code: 'Ticket number',
      call_service: 'Service (when several tickets share the number)', any_service: '— any —', cancel: 'Cancel',
      transfer_title: 'Transfer ticket', to_service: 'To a service', to_counter: 'To a counter',
      search: 'Search (diacritics optional)', go_last: 'Send to the back of the queue', nothing_found: 'Nothing found',
      st_open: 'Open', st_break: 'On break', st_closed: 'Closed', st_waiting: 'Waiting', st_called: 'Called',
      st_serving: 'Serving', st_parked: 'Parked', st_done: 'Done', st_no_show: 'No-show', st_cancelled: 'Cancelled',
      st_unserved: 'Unserved', st_transferred: 'Transferred', timer_called: 'Called', timer_serving: 'Serving',
      recalls: 'Recalled {n}×', people: 'waiting',
      r_offline: 'Connection to the server lost — reconnecting. Buttons stay locked until it is back.',
      r_connecting: 'Connecting to the server…', r_pending: 'Waiting for the server to answer…',
      r_closed: 'The counter is closed: press “Open counter” to sign in at it.',
      r_break: 'The counter is on break: press “Back to work” to call.',
      r_taken: 'The counter is signed in by {name}.', r_no_ticket: 'No ticket at the counter: press “Next”.',
      r_serving: 'Serving: recall, no-show and start apply to a ticket just called.',
      ok_next: 'Called {code}.', ok_repeated: '{code} was already called (repeated press); nobody new was called.',
      ok_call: 'Called {code}.', ok_recall: 'Recalled {code}.', ok_no_show: '{code} marked as no-show.',
      ok_start: 'Serving {code}.', ok_finish: '{code} finished.', ok_transfer: '{code} transferred to {target}.',
      ok_park: '{code} parked.', ok_resume: 'Parked ticket {code} called back.', ok_open: 'Counter open.',
      ok_break: 'Counter on break.', ok_back: 'Back to work.', ok_close: 'Counter closed.',
      no_answer: 'No answer from the server in {s} s; the state was reloaded, check it before pressing again.',
      confirm_close: 'Close the counter and sign out of it?', sending: 'Sending: {op}…',
      offline_send: 'Offline: the action was not sent.', no_counters: 'No counter is assigned to this account.',
      bad_session: 'Your session expired, please sign in again.', taken_by: 'signed in by {name}',
      none: '—', waiting_total: 'Total', next_codes: 'Next',
    },
  };
  let lang = (localStorage.getItem('qms.lang') === 'en') ? 'en' : 'vi';
  function t(key, params) {
    let s = (WORDS[lang] && WORDS[lang][key]) || WORDS.vi[key] || key;
    if (params) for (const [k, v] of Object.entries(params)) s = s.split('{' + k + '}').join(String(v));
    return s;
  }

  // Search that ignores case and Vietnamese diacritics: "dang ky khai sinh" finds "Đăng ký khai sinh".
  function fold(text) {
    return String(text || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '')
      .replace(/đ/g, 'd').replace(/Đ/g, 'D').toLowerCase().replace(/\s+/g, ' ').trim();
  }

  const $ = (sel) => document.querySelector(sel);
  const $$ = (sel) => Array.from(document.querySelectorAll(sel));
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v; else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
    return e;
  }

  // ------------------------------------------------------------------ state
  const S = {
    token: null, staff: null, counters: [], counterId: null,
    socket: null, conn: 'idle', serverOffset: 0,
    counter: null, counterSeq: -1, services: {}, history: [], servicesInfo: {}, allCounters: [],
    snapSeq: -1, pending: null, lastAck: null,
    presses: [],  // {op, ms}: when each action left this page (support and tests)
    ackCount: 0,  // answers received from the server (or timed out)
  };
  window.qmsTerminal = S;  // for tests and for support staff looking at the console
  let entering = 0;  // the latest enterCounter call; an older one still awaiting gives up

  function session() {
    try { return JSON.parse(sessionStorage.getItem('qms.staff') || 'null'); } catch (e) { return null; }
  }
  function saveSession() {
    if (S.token) sessionStorage.setItem('qms.staff', JSON.stringify({ token: S.token, staff: S.staff }));
    else sessionStorage.removeItem('qms.staff');
    if (S.counterId) sessionStorage.setItem('qms.counter', S.counterId); else sessionStorage.removeItem('qms.counter');
  }

  async function api(method, path, body) {
    const headers = { 'Accept': 'application/json', 'Accept-Language': lang };
    if (S.token) headers.Authorization = 'Bearer ' + S.token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch('/api/v1' + path + (path.includes('?') ? '&' : '?') + 'lang=' + lang,
      { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    let data = null;
    try { data = await r.json(); } catch (e) { data = { error: 'bad_response', message: 'HTTP ' + r.status }; }
    if (!r.ok) { const err = new Error(data.message || ('HTTP ' + r.status)); err.code = data.error; err.status = r.status; throw err; }
    return data;
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
    document.documentElement.lang = lang;
    for (const e of $$('[data-i18n]')) e.textContent = t(e.dataset.i18n);
    for (const e of $$('[data-i18n-placeholder]')) e.placeholder = t(e.dataset.i18nPlaceholder);
    $('#btn-lang').textContent = lang === 'vi' ? 'EN' : 'VI';
    setConn(S.conn);
    if (document.body.dataset.view === 'picker') renderPicker();
    if (document.body.dataset.view === 'terminal') render();
  }

  // ------------------------------------------------------------------ sign in and picker
  async function signIn(ev) {
    ev.preventDefault();
    const btn = $('#signin-btn');
    btn.disabled = true;
    $('#signin-error').textContent = '';
    try {
      const out = await api('POST', '/login', { username: $('#username').value.trim(), password: $('#password').value });
      S.token = out.token; S.staff = out.staff; S.counters = out.counters;
      $('#password').value = '';
      saveSession();
      await openPicker();
    } catch (err) {
      $('#signin-error').textContent = err.message;
    } finally {
      btn.disabled = false;
    }
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

  function renderPicker() {
    const list = $('#counter-list');
    list.replaceChildren(...S.counters.map((c) => el('button', {
      type: 'button', class: 'pick', 'data-counter': c.id, onclick: () => enterCounter(c.id),
    }, el('strong', { text: c.name }), el('span', { class: 'chip st-' + c.state, text: t('st_' + c.state) }),
    c.staff_name ? el('span', { class: 'muted', text: c.staff_name }) : null)));
  }

  function signedOut(message) {
    entering += 1;
    leaveCounter();
    S.token = null; S.staff = null; S.counterId = null; saveSession();
    show('signin');
    $('#signin-error').textContent = message || '';
  }

  async function logout() {
    try { if (S.token) await api('POST', '/logout', {}); } catch (e) { /* the token may already be gone */ }
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
    if (S.socket) { S.socket.removeAllListeners(); S.socket.disconnect(); S.socket = null; }
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
    const socket = io({ auth: { room: 'counter:' + id, token: S.token, lang }, forceNew: true,
      reconnectionDelay: 500, reconnectionDelayMax: 5000 });
    S.socket = socket;
    socket.on('connect', () => setConn('online'));
    socket.on('disconnect', () => { setConn('offline'); failPending(t('offline_send')); });
    socket.on('connect_error', (err) => {
      const code = err && err.data && err.data.error;
      if (code === 'unauthenticated') return signedOut(t('bad_session'));
      if (code === 'forbidden' || code === 'counter_unknown') return openPicker(err.data.message);
      setConn('offline');
    });
    socket.on('hello', (h) => {
      const server = Date.parse(h.server_time);
      if (!Number.isNaN(server)) S.serverOffset = server - Date.now();
    });
    socket.on('snapshot', (m) => {
      S.snapSeq = m.seq; S.counter = m.state.counter; S.counterSeq = m.seq;
      S.services = m.state.services || {}; S.history = m.state.history || [];
      if (!Object.keys(S.servicesInfo).length) loadServicesInfo().then(render).catch(() => {});
      render();
    });
    socket.on('counter.updated', (m) => { if (m.seq > S.snapSeq) setCounter(m.counter, m.seq); });
    socket.on('ticket.called', (m) => {
      if (m.seq <= S.snapSeq) return;
      upsertHistory(m.ticket);
      render();
    });
    socket.on('ticket.updated', (m) => {
      if (m.seq <= S.snapSeq) return;
      const tk = m.ticket;
      const away = m.change === 'transferred' && !(m.data && m.data.to_counter === S.counterId);
      upsertHistory(tk, away ? 'transferred' : undefined);
      if (S.counter && S.counter.current && S.counter.current.id === tk.id &&
          ['finished', 'no_show', 'parked', 'transferred', 'cancelled', 'unserved'].includes(m.change)) {
        S.counter = Object.assign({}, S.counter, { current: null });
      }
      render();
    });
    socket.on('config.reloaded', () => {  // services or counters may have changed: names and lists again
      loadServicesInfo().then(render).catch(() => {});
      api('GET', '/counters').then((out) => { S.allCounters = out.counters; }).catch(() => {});
      socket.emit('resync');
    });
    socket.on('queue.updated', (m) => {
      for (const [sid, st] of Object.entries(m.services || {})) S.services[sid] = st;
      renderWaiting();
    });
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

  function showAck(ok, text, code) {
    const a = $('#ack');
    a.className = 'ack ' + (ok === null ? 'sending' : ok ? 'ok' : 'err');
    a.dataset.error = code || '';
    const now = new Date(Date.now() + S.serverOffset);
    a.replaceChildren(el('span', { class: 'ack-time', text: fmtClock(now) }), ' ', el('span', { text: (ok === true ? '✓ ' : ok === false ? '✗ ' : '… ') + text }));
    S.lastAck = { ok, text, code: code || null, n: S.ackCount };
  }

  function press(op) {
    if (op === 'call') return openCallDialog();
    if (op === 'transfer') return openTransferDialog();
    if (op === 'close') {
      if (reasonFor('close')) return send('close');
      if (!window.confirm(t('confirm_close'))) return;
    }
    return send(op);
  }

  // ------------------------------------------------------------------ dialogs
  function openCallDialog() {
    const reason = reasonFor('call');
    if (reason) return showAck(false, reason);
    const sel = $('#call-service');
    const ids = (S.counter && S.counter.services) || [];
    sel.replaceChildren(el('option', { value: '', text: t('any_service') }),
      ...ids.map((id) => el('option', { value: id, text: (S.servicesInfo[id] || {}).name || id })));
    $('#call-code').value = '';
    $('#dlg-call').showModal();
    $('#call-code').focus();
  }

  async function submitCall(ev) {
    ev.preventDefault();
    const code = $('#call-code').value.trim().toUpperCase();
    if (!code) return;
    const extra = { code };
    if ($('#call-service').value) extra.service = $('#call-service').value;
    $('#dlg-call').close();
    await send('call', extra);
  }

  let transferTab = 'service';
  function openTransferDialog() {
    const reason = reasonFor('transfer');
    if (reason) return showAck(false, reason);
    $('#transfer-code').textContent = currentTicket() ? currentTicket().code : '';
    $('#transfer-search').value = '';
    $('#transfer-last').checked = false;
    setTransferTab('service');
    $('#dlg-transfer').showModal();
    $('#transfer-search').focus();
  }

  function setTransferTab(tab) {
    transferTab = tab;
    for (const b of $$('#dlg-transfer .tab')) b.setAttribute('aria-selected', String(b.dataset.tab === tab));
    renderTransferList();
  }

  function transferTargets() {
    if (transferTab === 'service') {
      return Object.values(S.servicesInfo).map((s) => ({
        kind: 'service', id: s.id, label: s.name, sub: s.department_name + ' · ' + s.waiting + ' ' + t('people'),
        search: fold(s.name + ' ' + (s.name_en || '') + ' ' + s.department_name + ' ' + s.id),
      }));
    }
    return S.allCounters.filter((c) => c.id !== S.counterId).map((c) => ({
      kind: 'counter', id: c.id, label: c.name, sub: t('st_' + c.state) + (c.staff_name ? ' · ' + c.staff_name : ''),
      search: fold(c.name + ' ' + c.number + ' ' + (c.staff_name || '') + ' ' + c.department),
    }));
  }

  function renderTransferList() {
    const q = fold($('#transfer-search').value);
    const words = q ? q.split(' ') : [];
    const items = transferTargets().filter((it) => words.every((w) => it.search.includes(w)));
    const list = $('#transfer-list');
    if (!items.length) { list.replaceChildren(el('p', { class: 'muted', text: t('nothing_found') })); return; }
    list.replaceChildren(...items.map((it) => el('button', {
      type: 'button', class: 'target', role: 'option', 'data-kind': it.kind, 'data-id': it.id,
      onclick: () => doTransfer(it),
    }, el('strong', { text: it.label }), el('span', { class: 'muted', text: it.sub }))));
  }

  function doTransfer(it) {
    const extra = { go_last: $('#transfer-last').checked };
    if (it.kind === 'service') extra.service = it.id; else extra.to_counter = it.id;
    const cur = currentTicket();
    if (cur) extra.ticket = cur.id;
    $('#dlg-transfer').close();
    return send('transfer', extra, { target: it.label });
  }

  // ------------------------------------------------------------------ rendering
  const pad = (n) => String(n).padStart(2, '0');
  function fmtClock(d) {
    const parts = new Intl.DateTimeFormat('en-GB', { timeZone: PAGE.tz, hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(d);
    return parts;
  }
  function fmtTimeMs(ms) {
    if (!ms) return '';
    return new Intl.DateTimeFormat('en-GB', { timeZone: PAGE.tz, hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date(ms));
  }
  function fmtDuration(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(s / 3600);
    return (h ? h + ':' + pad(Math.floor(s / 60) % 60) : pad(Math.floor(s / 60))) + ':' + pad(s % 60);
  }

  function render() {
    if (document.body.dataset.view !== 'terminal') return;
    const c = S.counter;
    $('#counter-name').textContent = c ? c.name : ((S.allCounters.find((x) => x.id === S.counterId) || {}).name || '');
    const st = $('#counter-state');
    st.textContent = c ? t('st_' + c.state) : '';
    st.className = 'chip' + (c ? ' st-' + c.state : '');
    $('#counter-staff').textContent = c && c.staff_name ? c.staff_name : '';
    const cur = currentTicket();
    $('#current-code').textContent = cur ? cur.code : t('none');
    $('#current-code').dataset.ticket = cur ? cur.id : '';
    $('#current-service').textContent = cur ? cur.service_name : '';
    const cs = $('#current-status');
    cs.textContent = cur ? t('st_' + cur.status) : '';
    cs.className = 'chip' + (cur ? ' st-' + cur.status : '');
    $('#current-recalls').textContent = cur && cur.recall_count ? t('recalls', { n: cur.recall_count }) : '';
    $('#current-card').dataset.status = cur ? cur.status : 'none';
    tick();
    renderButtons();
    renderWaiting();
    renderHistory();
    renderParked();
  }

  function renderButtons() {
    const offline = S.conn !== 'online';
    const r = $('#offline-reason');
    r.hidden = !offline;
    r.textContent = offline ? (S.conn === 'connecting' ? t('r_connecting') : t('r_offline')) : '';
    const c = S.counter;
    let shownReason = '';
    for (const b of $$('#actions .act')) {
      const op = b.dataset.op;
      const why = reasonFor(op);
      // state toggles: show only the one that applies
      if (op === 'open') b.hidden = !!c && c.state !== 'closed';
      if (op === 'break') b.hidden = !c || c.state !== 'open';
      if (op === 'back') b.hidden = !c || c.state !== 'break';
      if (op === 'close') b.hidden = !c || c.state === 'closed';
      b.disabled = !!why;
      b.title = why && why !== '-' ? why : '';
      b.classList.toggle('busy', !!S.pending && S.pending.op === op);
      if (!shownReason && why && why !== '-' && !b.hidden && ['next', 'open', 'back'].includes(op)) shownReason = why;
    }
    $('#actions-reason').textContent = offline ? '' : shownReason;
    for (const b of $$('#parked-list button')) {
      const why = reasonFor('resume');
      b.disabled = !!why; b.title = why;
    }
  }

  function renderWaiting() {
    if (document.body.dataset.view !== 'terminal') return;
    const ids = (S.counter && S.counter.services) || Object.keys(S.services);
    let total = 0;
    const rows = ids.map((id) => {
      const st = S.services[id] || { waiting: 0, next: [] };
      total += st.waiting || 0;
      const info = S.servicesInfo[id] || {};
      return el('tr', { 'data-service': id },
        el('td', { class: 'svc' }, el('strong', { text: info.name || id }),
          st.state && st.state !== 'open' ? el('span', { class: 'chip st-closed', text: t('st_closed') }) : null),
        el('td', { class: 'num', 'data-waiting': st.waiting || 0, text: st.waiting || 0 }),
        el('td', { class: 'next', text: (st.next || []).slice(0, 4).join(' · ') }));
    });
    rows.push(el('tr', { class: 'total' }, el('td', { text: t('waiting_total') }), el('td', { class: 'num', id: 'waiting-total', text: total }), el('td')));
    $('#waiting-body').replaceChildren(...rows);
  }

  function renderHistory() {
    const rows = S.history.slice(0, 12).map((h) => el('tr', { 'data-ticket': h.id, 'data-status': h.status },
      el('td', { class: 'code', text: h.code }), el('td', { text: h.service_name }),
      el('td', {}, el('span', { class: 'chip st-' + (h.note || h.status), text: t('st_' + (h.note || h.status)) })),
      el('td', { text: fmtTimeMs(h.called_ms) })));
    $('#history-body').replaceChildren(...rows);
  }

  function renderParked() {
    const parked = S.history.filter((h) => h.status === 'parked' && h.counter && h.counter.id === S.counterId);
    $('#parked-card').hidden = !parked.length;
    $('#parked-list').replaceChildren(...parked.map((h) => el('button', {
      type: 'button', class: 'act small-act', 'data-resume': h.id,
      onclick: () => send('resume', { ticket: h.id }, { label: t('op_resume') }),
    }, el('strong', { text: h.code }), ' ', el('span', { text: t('op_resume') }))));
    renderButtonsParkedOnly();
  }
  function renderButtonsParkedOnly() {
    for (const b of $$('#parked-list button')) { const why = reasonFor('resume'); b.disabled = !!why; b.title = why; }
  }

  function tick() {
    const cur = currentTicket();
    const out = $('#current-timer');
    if (!cur) { out.textContent = ''; return; }
    const now = Date.now() + S.serverOffset;
    if (cur.status === 'serving' && cur.started_ms) out.textContent = t('timer_serving') + ' ' + fmtDuration(now - cur.started_ms);
    else if (cur.called_ms) out.textContent = t('timer_called') + ' ' + fmtDuration(now - cur.called_ms);
    else out.textContent = '';
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
    $('#signin-form').addEventListener('submit', signIn);
    $('#btn-logout').addEventListener('click', logout);
    $('#btn-switch').addEventListener('click', () => openPicker());
    $('#btn-lang').addEventListener('click', () => {
      lang = lang === 'vi' ? 'en' : 'vi';
      localStorage.setItem('qms.lang', lang);
      if (S.socket) S.socket.auth.lang = lang;  // the server's messages follow from the next connection
      applyWords();
    });
    for (const b of $$('#actions .act')) b.addEventListener('click', () => press(b.dataset.op));
    document.addEventListener('keydown', onKey);
    $('#call-form').addEventListener('submit', submitCall);
    $('#transfer-search').addEventListener('input', renderTransferList);
    for (const b of $$('#dlg-transfer .tab')) b.addEventListener('click', () => setTransferTab(b.dataset.tab));
    for (const b of $$('dialog [data-close]')) b.addEventListener('click', () => b.closest('dialog').close());
    setInterval(tick, 1000);

    const saved = session();
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
