/* Remote walk-in numbers (docs/remote-numbers.md): the hall board's QR code. The code of each minute is asked
 * of the server with the display's device token (GET /api/v1/displays/<id>/remote-qr) and drawn as the SVG the
 * server made; it is asked again as the next minute starts. A code the server would no longer accept (the
 * server unreachable for two minutes) is taken off the screen, and so is the code while no service takes numbers by
 * phone (outside hours, closed or full): the box says so instead. */
(function () {
  'use strict';
  const Q = window.QMS;
  const PAGE = Q.page();
  const box = Q.byId('remote-qr');
  const img = Q.byId('rq-img');
  if (!box || !img) return;
  const TOKEN_KEY = 'qms.display.token.' + PAGE.display;  // kept by display.js from the start URL's ?token=
  let acceptedUntil = 0;

  async function renew() {
    let next = 10000;
    try {
      const token = localStorage.getItem(TOKEN_KEY) || null;
      const q = await Q.api('GET', '/displays/' + encodeURIComponent(PAGE.display) + '/remote-qr', undefined, { token });
      img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(q.svg);
      img.hidden = !q.open;  // no service open by phone now (outside hours, closed, full): no code to scan
      box.dataset.url = q.url;
      box.dataset.minute = String(q.minute);
      box.dataset.state = q.open ? 'shown' : 'closed';
      acceptedUntil = Date.now() + q.renew_in_ms + 60000;  // a code is good for its minute and the next
      next = q.renew_in_ms + 300;
    } catch (err) {
      if (err.status) { box.dataset.state = 'refused'; next = 60000; }  // no token, or not configured: ask rarely
    }
    setTimeout(renew, next);
  }

  setInterval(() => {
    if (acceptedUntil && Date.now() > acceptedUntil) { img.hidden = true; box.dataset.state = 'stale'; }
  }, 5000);
  renew();
})();
