/* Shared by the supervisor, reports and admin pages: sign-in (token in sessionStorage, the same key as the
 * counter terminal), the REST helper, Vietnamese/English texts, small formatting and DOM helpers. */
(function () {
  'use strict';
  const PAGE = JSON.parse(document.getElementById('qms-page').textContent);
  const KEY = 'qms.staff';
  const Q = (window.QMS = { page: PAGE, dict: { vi: {}, en: {} } });
  Q.lang = localStorage.getItem('qms.lang') === 'en' ? 'en' : 'vi';

  Q.words = function (vi, en) {
    Object.assign(Q.dict.vi, vi);
    Object.assign(Q.dict.en, en);
  };
  Q.words({
    username: 'Tên đăng nhập', password: 'Mật khẩu', signin: 'Đăng nhập', logout: 'Đăng xuất',
    signin_title: 'Đăng nhập', no_role: 'Tài khoản này không có quyền vào trang này.',
    supervisor: 'Giám sát', reports: 'Báo cáo', admin: 'Quản trị', conn_on: 'Đang kết nối trực tiếp',
    conn_off: 'Mất kết nối — đang thử lại', error: 'Lỗi', saved: 'Đã lưu',
  }, {
    username: 'Username', password: 'Password', signin: 'Sign in', logout: 'Sign out',
    signin_title: 'Sign in', no_role: 'This account may not use this page.',
    supervisor: 'Supervision', reports: 'Reports', admin: 'Administration', conn_on: 'Live',
    conn_off: 'Disconnected — retrying', error: 'Error', saved: 'Saved',
  });

  Q.t = function (key, vars) {
    let s = (Q.dict[Q.lang] && Q.dict[Q.lang][key]) || Q.dict.vi[key] || key;
    for (const [k, v] of Object.entries(vars || {})) s = s.split('{' + k + '}').join(v);
    return s;
  };
  Q.applyI18n = function () {
    document.documentElement.lang = Q.lang;
    for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = Q.t(node.dataset.i18n);
    for (const node of document.querySelectorAll('[data-i18n-placeholder]')) node.placeholder = Q.t(node.dataset.i18nPlaceholder);
    const b = document.getElementById('btn-lang');
    if (b) b.textContent = Q.lang === 'vi' ? 'EN' : 'VI';
  };

  Q.$ = (sel, root) => (root || document).querySelector(sel);
  Q.$$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  Q.el = function (tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') node.textContent = v;
      else if (k === 'class') node.className = v;
      else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
      else if (k === 'checked' || k === 'value' || k === 'disabled' || k === 'selected') node[k] = v;
      else node.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c.nodeType ? c : String(c));
    return node;
  };

  Q.session = function () {
    try { return JSON.parse(sessionStorage.getItem(KEY) || 'null'); } catch (e) { return null; }
  };
  Q.token = () => (Q.session() || {}).token || null;

  Q.api = async function (method, path, body, opts) {
    const headers = { 'Accept-Language': Q.lang };
    const token = Q.token();
    if (token) headers.Authorization = 'Bearer ' + token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch('/api/v1' + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (opts && opts.raw && res.ok) return res;
    let data = null;
    try { data = await res.json(); } catch (e) { data = { error: 'bad_response', message: res.statusText }; }
    if (!res.ok) {
      if (res.status === 401 && path !== '/login') Q.signout();
      const err = new Error((data && data.message) || res.statusText);
      err.status = res.status; err.data = data;
      throw err;
    }
    return data;
  };

  Q.signout = function () {
    const token = Q.token();
    sessionStorage.removeItem(KEY);
    if (token) fetch('/api/v1/logout', { method: 'POST', headers: { Authorization: 'Bearer ' + token } }).catch(() => {});
    document.body.dataset.view = 'signin';
    Q.$('#view-signin').hidden = false;
    Q.$('#view-main').hidden = true;
    const who = Q.$('#who'); if (who) who.textContent = '';
    if (Q.onSignout) Q.onSignout();
  };

  /* Sign in with one of `roles`; calls ready(staff) once signed in (at once when the tab already is). */
  Q.start = function (roles, ready) {
    Q.applyI18n();
    const langBtn = Q.$('#btn-lang');
    if (langBtn) langBtn.addEventListener('click', () => {
      Q.lang = Q.lang === 'vi' ? 'en' : 'vi';
      localStorage.setItem('qms.lang', Q.lang);
      Q.applyI18n();
      if (Q.onLang) Q.onLang();
    });
    const out = Q.$('#btn-logout');
    if (out) out.addEventListener('click', () => Q.signout());
    const enter = (staff) => {
      document.body.dataset.view = 'main';
      Q.$('#view-signin').hidden = true;
      Q.$('#view-main').hidden = false;
      const who = Q.$('#who');
      if (who) who.textContent = (staff.full_name || staff.username) + ' (' + staff.role + ')';
      for (const a of Q.$$('[data-role-link]')) a.hidden = !a.dataset.roleLink.split(',').includes(staff.role);
      ready(staff);
    };
    Q.$('#signin-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const err = Q.$('#signin-error');
      err.textContent = '';
      try {
        const r = await Q.api('POST', '/login', { username: Q.$('#username').value.trim(), password: Q.$('#password').value });
        if (!roles.includes(r.staff.role)) {
          fetch('/api/v1/logout', { method: 'POST', headers: { Authorization: 'Bearer ' + r.token } }).catch(() => {});
          err.textContent = Q.t('no_role');
          return;
        }
        sessionStorage.setItem(KEY, JSON.stringify({ token: r.token, staff: r.staff }));
        Q.$('#password').value = '';
        enter(r.staff);
      } catch (e) {
        err.textContent = e.message;
      }
    });
    const s = Q.session();
    if (s && s.staff && roles.includes(s.staff.role)) {
      Q.api('GET', '/me').then((me) => {
        if (me.kind === 'staff' && roles.includes(me.role)) enter(me); else Q.signout();
      }).catch(() => Q.signout());
    }
  };

  Q.pad = (n) => String(n).padStart(2, '0');
  Q.fmtDuration = function (ms) {
    if (ms === null || ms === undefined || ms < 0) return '';
    const s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + ':' + Q.pad(m) : m) + ':' + Q.pad(s % 60);
  };
  Q.fmtMinutes = (sec) => (sec === null || sec === undefined ? '–' : (sec / 60).toLocaleString(Q.lang === 'vi' ? 'vi-VN' : 'en-GB', { maximumFractionDigits: 1 }));
  Q.fmtPercent = (x) => (x === null || x === undefined ? '–' : (x * 100).toLocaleString(Q.lang === 'vi' ? 'vi-VN' : 'en-GB', { maximumFractionDigits: 1 }) + ' %');
  Q.fmtTime = function (ms) {
    if (!ms) return '–';
    return new Date(ms).toLocaleTimeString(Q.lang === 'vi' ? 'vi-VN' : 'en-GB', { timeZone: PAGE.tz, hour12: false });
  };
  Q.fmtDateTime = function (ms) {
    if (!ms) return '–';
    return new Date(ms).toLocaleString(Q.lang === 'vi' ? 'vi-VN' : 'en-GB', { timeZone: PAGE.tz, hour12: false });
  };
  Q.today = function () {  // the centre's local day, YYYY-MM-DD
    const parts = new Intl.DateTimeFormat('en-CA', { timeZone: PAGE.tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
    return parts;
  };
  Q.toast = function (text, bad) {
    const box = Q.$('#toast');
    if (!box) return;
    box.textContent = text;
    box.dataset.kind = bad ? 'error' : 'ok';
    box.hidden = false;
    clearTimeout(Q._toast);
    Q._toast = setTimeout(() => { box.hidden = true; }, bad ? 8000 : 2500);
  };
})();
