/* Shared by the supervisor, reports and admin pages, on top of the shared script (common.js): the pages'
 * sign-in flow (signed in or not, role links, language button), a toast, and the figures' formats. */
(function () {
  'use strict';
  const Q = window.QMS;
  const PAGE = Q.page();
  Q.setLang(Q.savedLang());

  Q.words({
    signin_title: 'Đăng nhập', supervisor: 'Giám sát', reports: 'Báo cáo', admin: 'Quản trị',
    conn_on: 'Đang kết nối trực tiếp', conn_off: 'Mất kết nối — đang thử lại', error: 'Lỗi', saved: 'Đã lưu',
    role_staff: 'cán bộ', role_supervisor: 'giám sát', role_admin: 'quản trị',
  }, {
    signin_title: 'Sign in', supervisor: 'Supervision', reports: 'Reports', admin: 'Administration',
    conn_on: 'Live', conn_off: 'Disconnected — retrying', error: 'Error', saved: 'Saved',
    role_staff: 'staff', role_supervisor: 'supervisor', role_admin: 'admin',
  });

  const applyI18n = Q.applyI18n;
  Q.applyI18n = function () {
    applyI18n();
    const b = Q.$('#btn-lang');
    if (b) b.textContent = Q.lang === 'vi' ? 'EN' : 'VI';
  };

  Q.signout = function () {
    Q.logout();
    document.body.dataset.view = 'signin';
    Q.$('#view-signin').hidden = false;
    Q.$('#view-main').hidden = true;
    Q.staff = null;
    const who = Q.$('#who'); if (who) who.textContent = '';
    if (Q.onSignout) Q.onSignout();
  };
  Q.onUnauthorized = () => Q.signout();

  /** The signed-in person and their role, in the page's language. */
  function showWho() {
    const who = Q.$('#who');
    const staff = Q.staff;
    if (!who || !staff) return;
    const role = Q.dict.vi['role_' + staff.role] ? Q.t('role_' + staff.role) : staff.role;
    who.textContent = (staff.full_name || staff.username) + ' (' + role + ')';
  }

  /* Sign in with one of `roles`; calls ready(staff) once signed in (at once when the tab already is). */
  Q.start = function (roles, ready) {
    Q.applyI18n();
    const langBtn = Q.$('#btn-lang');
    if (langBtn) langBtn.addEventListener('click', () => {
      Q.setLang(Q.lang === 'vi' ? 'en' : 'vi', true);
      Q.applyI18n();
      showWho();
      if (Q.onLang) Q.onLang();
    });
    const out = Q.$('#btn-logout');
    if (out) out.addEventListener('click', () => Q.signout());
    const enter = (staff) => {
      document.body.dataset.view = 'main';
      Q.$('#view-signin').hidden = true;
      Q.$('#view-main').hidden = false;
      Q.staff = staff;
      showWho();
      for (const a of Q.$$('[data-role-link]')) a.hidden = !a.dataset.roleLink.split(',').includes(staff.role);
      ready(staff);
    };
    Q.bindSignIn((r) => enter(r.staff), roles);
    const s = Q.session();
    if (s && s.staff && roles.includes(s.staff.role)) {
      Q.api('GET', '/me').then((me) => {
        if (me.kind === 'staff' && roles.includes(me.role)) enter(me); else Q.signout();
      }).catch(() => Q.signout());
    }
  };

  const locale = () => (Q.lang === 'vi' ? 'vi-VN' : 'en-GB');
  Q.fmtMinutes = (sec) => (sec === null || sec === undefined ? '–' : (sec / 60).toLocaleString(locale(), { maximumFractionDigits: 1 }));
  Q.fmtPercent = (x) => (x === null || x === undefined ? '–' : (x * 100).toLocaleString(locale(), { maximumFractionDigits: 1 }) + ' %');
  Q.fmtTime = function (ms) {
    if (!ms) return '–';
    return new Date(ms).toLocaleTimeString(locale(), { timeZone: PAGE.tz, hour12: false });
  };
  Q.fmtDateTime = function (ms) {
    if (!ms) return '–';
    return new Date(ms).toLocaleString(locale(), { timeZone: PAGE.tz, hour12: false });
  };
  Q.today = function () {  // the centre's local day, YYYY-MM-DD
    return new Intl.DateTimeFormat('en-CA', { timeZone: PAGE.tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
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
