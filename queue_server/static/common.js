/* What every page of the centre shares, loaded by the base template (templates/base.html) before the page's
 * own script: the page's data, an element helper, the strings (Vietnamese first, English available),
 * formatting, the REST helper with the staff sign-in, a device token taken from the address, and the live
 * connection to Socket.IO with last_seq catch-up and resync. Everything hangs on window.QMS.
 */
(function (global) {
  'use strict';
  const Q = (global.QMS = global.QMS || {});

  // ------------------------------------------------------------------ the page's data and the DOM
  let pageData;
  /** The JSON the server put in <script id="qms-page">, read once. */
  Q.page = function () {
    if (pageData === undefined) {
      const node = document.getElementById('qms-page');
      pageData = node ? JSON.parse(node.textContent) : {};
    }
    return pageData;
  };
  Q.$ = (sel, root) => (root || document).querySelector(sel);
  Q.$$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  Q.byId = (id) => document.getElementById(id);

  const PROPS = new Set(['checked', 'value', 'disabled', 'selected']);
  /** el('button', {class, text, onclick, 'data-x': 1, disabled: true}, child, [children], 'text') */
  Q.el = function (tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
      else if (PROPS.has(k)) node[k] = v;
      else node.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : String(c));
    }
    return node;
  };

  // ------------------------------------------------------------------ strings
  Q.dict = { vi: {}, en: {} };
  Q.lang = 'vi';
  /** Add a page's words: the Vietnamese table first, then the English one. */
  Q.words = function (vi, en) {
    Object.assign(Q.dict.vi, vi);
    Object.assign(Q.dict.en, en || {});
  };
  /** "Đã gọi số {code}." with {code: 'A001'}; a value left out keeps its {placeholder}, null gives "". */
  Q.fill = function (template, values) {
    return String(template).replace(/\{(\w+)\}/g, (all, k) => {
      if (!values || !(k in values)) return all;
      const v = values[k];
      return v === null || v === undefined ? '' : String(v);
    });
  };
  Q.t = function (key, values) {
    const s = (Q.dict[Q.lang] && Q.dict[Q.lang][key]) || Q.dict.vi[key];
    return s === undefined ? key : Q.fill(s, values);
  };
  /** The language a staff page last chose on this browser (the terminal and supervisor pages share it). */
  Q.savedLang = () => (localStorage.getItem('qms.lang') === 'en' ? 'en' : 'vi');
  Q.setLang = function (lang, remember) {
    Q.lang = lang === 'en' ? 'en' : 'vi';
    if (remember) localStorage.setItem('qms.lang', Q.lang);
    return Q.lang;
  };
  /** Texts of [data-i18n] / [data-t] elements and [data-i18n-placeholder] inputs in the current language. */
  Q.applyI18n = function (root) {
    document.documentElement.lang = Q.lang;
    for (const node of Q.$$('[data-i18n]', root)) node.textContent = Q.t(node.dataset.i18n);
    for (const node of Q.$$('[data-t]', root)) node.textContent = Q.t(node.dataset.t);
    for (const node of Q.$$('[data-i18n-placeholder]', root)) node.placeholder = Q.t(node.dataset.i18nPlaceholder);
  };
  /** obj.name, or obj.name_en in English when there is one. */
  Q.pick = function (obj, field, lang) {
    if (!obj) return '';
    return ((lang || Q.lang) === 'en' && obj[field + '_en']) || obj[field] || '';
  };
  /** Search that ignores case and Vietnamese diacritics: "dang ky khai sinh" finds "Đăng ký khai sinh". */
  Q.fold = function (text) {
    return String(text || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '')
      .replace(/đ/g, 'd').replace(/Đ/g, 'D').toLowerCase().replace(/\s+/g, ' ').trim();
  };

  Q.words({
    username: 'Tên đăng nhập', password: 'Mật khẩu', signin: 'Đăng nhập', logout: 'Đăng xuất',
    no_role: 'Tài khoản này không có quyền vào trang này.',
    conn_online: 'Đã kết nối', conn_offline: 'Mất kết nối', conn_connecting: 'Đang kết nối…',
    st_open: 'Đang mở', st_break: 'Tạm nghỉ', st_closed: 'Đóng', st_waiting: 'Đang chờ', st_called: 'Đã gọi',
    st_serving: 'Đang phục vụ', st_parked: 'Tạm giữ', st_done: 'Hoàn thành', st_no_show: 'Vắng',
    st_cancelled: 'Đã hủy', st_unserved: 'Chưa phục vụ', st_transferred: 'Đã chuyển',
    why_full: 'Đã hết số hôm nay', why_outside_hours: 'Ngoài giờ tiếp nhận', why_closed_today: 'Hôm nay không tiếp nhận',
    why_closed_manually: 'Tạm ngừng tiếp nhận', why_other: 'Tạm ngừng tiếp nhận',
    opens_at: 'mở lúc {time}', opens_on: 'mở lúc {time} {weekday} {date}',
  }, {
    username: 'Username', password: 'Password', signin: 'Sign in', logout: 'Sign out',
    no_role: 'This account may not use this page.',
    conn_online: 'Connected', conn_offline: 'Connection lost', conn_connecting: 'Connecting…',
    st_open: 'Open', st_break: 'On break', st_closed: 'Closed', st_waiting: 'Waiting', st_called: 'Called',
    st_serving: 'Serving', st_parked: 'Parked', st_done: 'Done', st_no_show: 'No-show', st_cancelled: 'Cancelled',
    st_unserved: 'Unserved', st_transferred: 'Transferred',
    why_full: 'No more tickets today', why_outside_hours: 'Outside issuing hours', why_closed_today: 'Not open today',
    why_closed_manually: 'Temporarily not issuing tickets', why_other: 'Temporarily not issuing tickets',
    opens_at: 'opens at {time}', opens_on: 'opens {weekday} {date} at {time}',
  });

  Q.WEEKDAYS = {
    vi: ['Chủ nhật', 'thứ Hai', 'thứ Ba', 'thứ Tư', 'thứ Năm', 'thứ Sáu', 'thứ Bảy'],
    en: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'],
  };
  const inLang = (lang, key, values) => {
    const s = (Q.dict[lang] && Q.dict[lang][key]) || Q.dict.vi[key];
    return Q.fill(s, values);
  };

  /** "13:15" (today) or "2026-11-30 07:30" (a later day), as the server sends opens_at. */
  Q.opensText = function (opensAt, lang) {
    lang = lang === 'en' ? 'en' : 'vi';
    if (!opensAt) return '';
    const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}:\d{2})$/.exec(opensAt);
    if (!m) return inLang(lang, 'opens_at', { time: opensAt });
    const day = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])).getUTCDay();
    return inLang(lang, 'opens_on', { time: m[4], weekday: Q.WEEKDAYS[lang][day], date: m[3] + '/' + m[2] });
  };

  /** Why a service gives no ticket now, and when it opens: "Ngoài giờ tiếp nhận — mở lúc 13:15". */
  Q.reasonText = function (svc, lang) {
    if (!svc || svc.state === 'open') return '';
    lang = lang === 'en' ? 'en' : 'vi';
    const reason = svc.state === 'full' ? 'full' : (svc.reason || 'other');
    const head = Q.dict[lang]['why_' + reason] ? inLang(lang, 'why_' + reason) : inLang(lang, 'why_other');
    const when = reason === 'full' || reason === 'closed_manually' ? '' : Q.opensText(svc.opens_at, lang);
    return when ? head + ' — ' + when : head;
  };

  // ------------------------------------------------------------------ time
  Q.pad = (n) => String(n).padStart(2, '0');
  /** The time of day in the centre's time zone: "14:05" or "14:05:09". */
  Q.clock = function (timeZone, lang, withSeconds, when) {
    const opts = { hour: '2-digit', minute: '2-digit', hour12: false, timeZone };
    if (withSeconds) opts.second = '2-digit';
    const d = when === undefined ? new Date() : new Date(when);
    try {
      return new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'vi-VN', opts).format(d);
    } catch (e) {
      return d.toTimeString().slice(0, withSeconds ? 8 : 5);
    }
  };
  /** 65 000 ms -> "1:05"; with two-digit minutes (counter timers) "01:05"; hours as "1:02:05". */
  Q.fmtDuration = function (ms, twoDigitMinutes) {
    if (ms === null || ms === undefined || ms < 0) return '';
    const s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    const mm = h || twoDigitMinutes ? Q.pad(m) : String(m);
    return (h ? h + ':' : '') + mm + ':' + Q.pad(s % 60);
  };

  // ------------------------------------------------------------------ REST and the staff sign-in
  const STAFF_KEY = 'qms.staff';
  /** {token, staff} of the staff member signed in on this tab (terminal, supervisor, reports, admin). */
  Q.session = function () {
    try { return JSON.parse(sessionStorage.getItem(STAFF_KEY) || 'null'); } catch (e) { return null; }
  };
  Q.token = () => (Q.session() || {}).token || null;
  Q.saveSession = function (token, staff) {
    if (token) sessionStorage.setItem(STAFF_KEY, JSON.stringify({ token, staff }));
    else sessionStorage.removeItem(STAFF_KEY);
  };

  /** fetch /api/v1<path> with JSON; throws an Error with .status, .code and .data on an error answer.
   * opts.token: the bearer token (default: the staff session's); opts.raw: the Response itself when ok. */
  Q.api = async function (method, path, body, opts) {
    opts = opts || {};
    const headers = { Accept: 'application/json', 'Accept-Language': Q.lang };
    const token = opts.token !== undefined ? opts.token : Q.token();
    if (token) headers.Authorization = 'Bearer ' + token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch('/api/v1' + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (opts.raw && res.ok) return res;
    let data = null;
    try { data = await res.json(); } catch (e) { data = { error: 'bad_response', message: 'HTTP ' + res.status }; }
    if (!res.ok) {
      const err = new Error((data && data.message) || 'HTTP ' + res.status);
      err.status = res.status; err.code = data && data.error; err.data = data;
      if (res.status === 401 && path !== '/login' && Q.onUnauthorized) Q.onUnauthorized(err);
      throw err;
    }
    return data;
  };

  /** POST /login; keeps the token for this tab and answers {token, staff, counters}. */
  Q.login = async function (username, password) {
    const out = await Q.api('POST', '/login', { username, password }, { token: null });
    Q.saveSession(out.token, out.staff);
    return out;
  };
  /** Forget the tab's sign-in and end the token on the server (it may already be gone). */
  Q.logout = function (token) {
    token = token || Q.token();
    Q.saveSession(null);
    if (token) return Q.api('POST', '/logout', {}, { token }).catch(() => null);
    return Promise.resolve(null);
  };

  /** Wire the sign-in form (#signin-form with #username, #password, #signin-btn, #signin-error): signs in,
   * refuses an account without one of `roles` (when given) and awaits onSignedIn({token, staff, counters}). */
  Q.bindSignIn = function (onSignedIn, roles) {
    Q.$('#signin-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const btn = Q.$('#signin-btn'), err = Q.$('#signin-error');
      if (btn) btn.disabled = true;
      err.textContent = '';
      try {
        const out = await Q.login(Q.$('#username').value.trim(), Q.$('#password').value);
        if (roles && !roles.includes(out.staff.role)) {
          Q.logout(out.token);
          err.textContent = Q.t('no_role');
          return;
        }
        Q.$('#password').value = '';
        await onSignedIn(out);
      } catch (e) {
        err.textContent = e.message;
      } finally {
        if (btn) btn.disabled = false;
      }
    });
  };

  /** A device token handed over in the address (?token=...): taken out of the address bar and history. */
  Q.takeUrlToken = function () {
    const url = new URL(global.location.href);
    const token = url.searchParams.get('token');
    if (token !== null) {
      url.searchParams.delete('token');
      global.history.replaceState(null, '', url.pathname + (url.search || '') + url.hash);
    }
    return token;
  };

  // ------------------------------------------------------------------ the live connection
  const KEPT = 5000; // applied messages remembered, to apply none twice
  // the queue messages sent live with `prev` and replayed by a catch-up: each is applied once
  const CHAINED = ['ticket.issued', 'ticket.called', 'ticket.updated', 'counter.updated'];
  /**
   * Join one Socket.IO room. opts: room; token and lang (values or functions, read at every connect);
   * catchUp: on reconnect send last_seq, so the server replays what was missed (flagged `replayed`) instead of
   * a snapshot; on: {event: handler}; onState('connecting'|'online'|'offline'); onRefused(code, data) for a
   * refused connection; io: more socket.io-client options.
   * A lost message is mended: a live message's `prev` (and `live.beat`'s) names, per room, the seq sent there
   * before it; one above what the greeting covered that was never applied is a gap, and the client asks
   * `catch_up` with its last seq in that room. Each message is applied once (a replay of one already applied
   * is dropped), so no call is announced twice.
   * Returns {socket, lastSeq, serverOffset, configHash, resync(), close()}.
   */
  Q.live = function (opts) {
    const value = (v) => (typeof v === 'function' ? v() : v);
    const live = { socket: null, lastSeq: null, serverOffset: 0, configHash: null, gaps: 0 };
    live.seen = function (seq) {
      if (typeof seq === 'number' && (live.lastSeq === null || seq > live.lastSeq)) live.lastSeq = seq;
    };
    // the gap rule: rooms joined, the seq the greeting covered, the last seq per room, what was applied
    let rooms = null, floor = null, roomLast = {}, asking = false, pending = null;
    const appliedSeqs = new Set(), appliedKeys = new Set();
    const remember = (set, item) => {
      set.add(item);
      if (set.size > KEPT) set.delete(set.values().next().value);
    };
    const keyOf = (name, m) => [name, m.seq, (m.counter && m.counter.id) || '', (m.ticket && m.ticket.id) || ''].join('|');
    const gapIn = (prev) => {
      let since = null;
      if (!prev || typeof prev !== 'object' || floor === null) return null;
      for (const [room, p] of Object.entries(prev)) {
        if (typeof p !== 'number' || (rooms && !rooms.includes(room)) || p <= floor || appliedSeqs.has(p)) continue;
        const mine = Math.min(room in roomLast ? roomLast[room] : floor, p - 1);
        since = since === null ? mine : Math.min(since, mine);
      }
      return since;
    };
    const askCatchUp = (since) => {
      if (since === null) return;
      if (asking) { pending = pending === null ? since : Math.min(pending, since); return; }
      asking = true;
      live.gaps += 1;
      socket.timeout(10000).emit('catch_up', { last_seq: since }, (err, ack) => {
        asking = false;
        if (!err && ack && ack.ok && typeof ack.as_of === 'number') floor = Math.max(floor || 0, ack.as_of);
        const again = pending;
        pending = null;
        if (again !== null) askCatchUp(again > (floor || 0) ? again : null);
      });
    };
    const auth = (cb) => {
      const a = { room: value(opts.room), lang: value(opts.lang) || Q.lang };
      const token = value(opts.token);
      if (token) a.token = token;
      if (opts.catchUp && live.lastSeq !== null) a.last_seq = live.lastSeq;
      cb(a);
    };
    const socket = global.io(Object.assign({ auth, reconnectionDelay: 500, reconnectionDelayMax: 5000 }, opts.io || {}));
    live.socket = socket;
    const state = (s) => { if (opts.onState) opts.onState(s); };
    socket.on('connect', () => state('online'));
    socket.on('disconnect', () => state('offline'));
    socket.on('connect_error', (err) => {
      const data = (err && err.data) || {};
      if (data.error && opts.onRefused && opts.onRefused(data.error, data) === true) return;
      state('offline');
    });
    socket.on('hello', (h) => {
      const server = Date.parse(h && h.server_time);
      if (!Number.isNaN(server)) live.serverOffset = server - Date.now();
      live.configHash = h && h.config_hash;
      rooms = h && Array.isArray(h.rooms) ? h.rooms : null;
      floor = h && typeof h.as_of === 'number' ? h.as_of : null;
      roomLast = {};
      asking = false;
      pending = null;
    });
    socket.on('live.beat', (m) => askCatchUp(gapIn(m && m.prev)));
    // A snapshot starts the count again (it may come from a new database); the page's handler still sees the
    // highest seq before it in live.lastSeq. Any other event with a seq moves the count on, once.
    const handlers = Object.assign({ snapshot: () => {} }, opts.on || {});
    for (const name of CHAINED) if (!handlers[name]) handlers[name] = () => {}; // their seqs count, shown or not
    for (const [name, handler] of Object.entries(handlers)) {
      socket.on(name, (m, ...rest) => {
        let gap = null;
        if (m && name !== 'snapshot' && typeof m.seq === 'number' && !CHAINED.includes(name)) live.seen(m.seq);
        if (m && CHAINED.includes(name) && typeof m.seq === 'number') {
          const key = keyOf(name, m);
          if (appliedKeys.has(key)) return undefined; // live and replayed: applied once
          if (!m.replayed) {
            gap = gapIn(m.prev);
            for (const room of Object.keys(m.prev || {})) {
              if (!rooms || rooms.includes(room)) roomLast[room] = Math.max(room in roomLast ? roomLast[room] : (floor || 0), m.seq);
            }
          }
          remember(appliedKeys, key);
          remember(appliedSeqs, m.seq);
          live.seen(m.seq);
        }
        const out = handler(m, ...rest);
        if (name === 'snapshot' && m && typeof m.seq === 'number') {
          live.lastSeq = m.seq;
          floor = m.seq;
          roomLast = {};
          appliedSeqs.clear(); // a fresh state (perhaps of a new database): what counts comes after it
          appliedKeys.clear();
        }
        askCatchUp(gap);
        return out;
      });
    }
    live.resync = () => socket.emit('resync');
    live.close = () => { socket.removeAllListeners(); socket.disconnect(); };
    state('connecting');
    return live;
  };
})(window);
