// The rating page of one counter (/rate/<counter>): a tablet at the counter, or a PC with a USB keypad that
// types keys 1-5. It follows the ticket the counter finished last (polled every second: a newer one replaces
// the one shown at once), shows the scale with large buttons, accepts keys, and thanks only once the server
// has accepted the rating; a refusal is said in the same large type, with the server's reason. A low rating
// asks a reason. The page returns to idle after rating.tablet_idle_seconds.
(function () {
  "use strict";
  const Q = window.QMS;
  const PAGE = Q.page();
  const counter = PAGE.counter;
  const { el, t } = Q;
  Q.words({
      idle_title: "Cảm ơn công dân", idle_text: "Sau khi được phục vụ, xin công dân đánh giá mức độ hài lòng tại đây.",
      ticket: "Số", question: "Công dân có hài lòng với việc phục vụ tại quầy?",
      keys_hint: "Chạm vào một ô, hoặc bấm phím số trên bàn phím đánh giá.",
      reason_title: "Xin công dân cho biết lý do chưa hài lòng", skip: "Bỏ qua",
      sending: "Đang gửi đánh giá…", thanks: "Cảm ơn công dân đã đánh giá!", key: "Phím", counter: "Quầy số",
      refused_title: "Đánh giá chưa được ghi nhận", refused_hint: "Xin công dân báo cán bộ tại quầy.",
      failed: "Không gửi được đánh giá đến máy chủ.", lang: "English",
  }, {
      idle_title: "Thank you", idle_text: "After your service, please rate how satisfied you are here.",
      ticket: "Ticket", question: "Are you satisfied with the service at this counter?",
      keys_hint: "Touch a box, or press a number key on the rating keypad.",
      reason_title: "Please tell us why you are not satisfied", skip: "Skip",
      sending: "Sending your rating…", thanks: "Thank you for your rating!", key: "Key", counter: "Counter",
      refused_title: "Your rating was not recorded", refused_hint: "Please tell the officer at the counter.",
      failed: "The rating could not reach the server.", lang: "Tiếng Việt",
  });
  Q.setLang(new URLSearchParams(location.search).get("lang") || PAGE.lang || "vi");

  // A device token (?token=...) is kept by the page, then removed from the address bar.
  const TOKEN_KEY = "qms.rate.token." + counter.id;
  const fromUrl = Q.takeUrlToken();
  if (fromUrl) localStorage.setItem(TOKEN_KEY, fromUrl);
  const token = localStorage.getItem(TOKEN_KEY);
  const params = new URLSearchParams(location.search);
  // From the slip's status page on a phone: ?ticket=<the slip's secret token> rates that ticket only.
  const slip = params.get("ticket");
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = "Bearer " + token;

  const $ = Q.byId;
  const levels = PAGE.levels.slice();
  // Which keypad key gives which level: rating.buttons, or key N -> the level whose value is N.
  const keyOfLevel = {};
  const levelOfKey = {};
  if (PAGE.buttons && Object.keys(PAGE.buttons).length) {
    for (const [key, value] of Object.entries(PAGE.buttons)) {
      levelOfKey[key] = value;
      if (!(value in keyOfLevel)) keyOfLevel[value] = key;
    }
  } else {
    for (const lv of levels) { levelOfKey[String(lv.value)] = lv.value; keyOfLevel[lv.value] = String(lv.value); }
  }
  const byValue = Object.fromEntries(levels.map((lv) => [lv.value, lv]));

  let mode = "idle";
  let armed = null;         // {ticket, code}: the ticket the buttons rate
  let lastRating = null;    // the rating just stored (for its reason)
  const handled = new Set(); // tickets rated, refused or timed out: not armed again
  let idleTimer = null;

  function text() {
    Q.applyI18n();
    $("counter-name").textContent = t("counter") + " " + counter.number;
    $("lang").textContent = t("lang");
    renderLevels();
    renderReasons();
  }

  function label(lv) { return Q.pick(lv, "label"); }

  function renderLevels() {
    const n = levels.length;
    $("levels").replaceChildren(...levels.map((lv, i) => el("button", {
      type: "button", class: "level tone-" + (n <= 1 ? 0 : Math.round((i * 4) / (n - 1))), "data-level": lv.value,
      onclick: () => rate({ level: lv.value }),
    }, PAGE.scale === "stars" ? el("span", { class: "face", text: "★".repeat(lv.value) }) : null,
    el("span", { text: label(lv) }),
    keyOfLevel[lv.value] !== undefined ? el("span", { class: "key", text: t("key") + " " + keyOfLevel[lv.value] }) : null)));
  }

  function renderReasons() {
    $("reason-list").replaceChildren(...PAGE.low_reasons.map((r, i) => el("button", {
      type: "button", class: "reason", "data-reason": r, onclick: () => giveReason(r),
    }, el("span", { class: "key", text: t("key") + " " + (i + 1) }), r)));
  }

  function show(next) {
    mode = next;
    document.body.dataset.state = next;
    for (const id of ["idle", "armed", "sending", "reasons", "thanks", "refused"]) $(id).hidden = id !== next;
  }

  function restartIdle(seconds) {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(toIdle, seconds * 1000);
  }

  function toIdle() {
    clearTimeout(idleTimer);
    if (armed) handled.add(armed.ticket);
    armed = null;
    lastRating = null;
    show("idle");
  }

  function arm(target) {
    if (armed) handled.add(armed.ticket);  // a newer ticket replaces the one shown: its citizen has left
    armed = { ticket: target.ticket, code: target.code };
    lastRating = null;
    $("code").textContent = target.code;
    document.body.dataset.ticket = String(target.ticket);
    show("armed");
    restartIdle(PAGE.idle_seconds);
  }

  function refused(message) {
    $("refused-detail").textContent = message;
    show("refused");
    restartIdle(PAGE.idle_seconds);
  }

  function newId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes); // works on plain http too, unlike crypto.randomUUID
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function post(url, body, tries, before) {
    for (let i = 0; i < tries; i++) {
      if (before) before();
      try {
        const r = await fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
        if (r.status < 500) return r;
      } catch (e) { /* network: try again */ }
      await new Promise((res) => setTimeout(res, 1000));
    }
    return null;
  }

  /** The server's reason for a refusal (its message in the page's language), or "could not reach the server". */
  async function reasonOf(r) {
    if (!r) return t("failed");
    try { return (await r.json()).message || t("failed"); } catch (e) { return t("failed"); }
  }

  async function rate(choice) {
    if (mode !== "armed" || !armed) return;
    const ticket = armed.ticket;
    handled.add(ticket);
    clearTimeout(idleTimer);
    const pressed = Date.now();
    const body = { id: newId(), counter: counter.id, ticket, ...choice, age_ms: 0 };
    if (slip) body.ticket_token = slip;
    show("sending");
    // Retries keep the same id: the server counts the rating once.
    const r = await post("/api/v1/ratings", body, 3, () => { body.age_ms = Date.now() - pressed; });
    if (!armed || armed.ticket !== ticket || mode !== "sending") return;  // a newer ticket took the screen
    if (!r || (r.status !== 200 && r.status !== 201)) { refused(await reasonOf(r)); return; }
    const stored = (await r.json()).rating;
    const level = byValue[stored.level];
    if (level && !level.positive && PAGE.low_reasons.length && stored.status === "attributed") {
      lastRating = stored;
      show("reasons");
      restartIdle(PAGE.idle_seconds);
    } else {
      $("thanks-detail").textContent = level ? label(level) : "";
      show("thanks");
      restartIdle(Math.min(PAGE.idle_seconds, 5));
    }
  }

  async function giveReason(reason) {
    if (mode !== "reasons" || !lastRating) return;
    const id = lastRating.id;
    const ticket = armed && armed.ticket;
    clearTimeout(idleTimer);
    show("sending");
    const r = await post("/api/v1/ratings/" + encodeURIComponent(id) + "/reason", { reason }, 3);
    if (mode !== "sending" || (armed && armed.ticket) !== ticket) return;
    if (!r || r.status !== 200) { refused(await reasonOf(r)); return; }
    $("thanks-detail").textContent = reason;
    show("thanks");
    restartIdle(Math.min(PAGE.idle_seconds, 5));
  }

  document.addEventListener("keydown", (ev) => {
    const m = /^(?:Digit|Numpad)([0-9])$/.exec(ev.code || "") || /^([0-9])$/.exec(ev.key || "");
    if (!m) return;
    const key = m[1];
    if (mode === "armed" && levelOfKey[key] !== undefined) {
      ev.preventDefault();
      rate({ button: key });
    } else if (mode === "reasons") {
      const r = PAGE.low_reasons[Number(key) - 1];
      if (r) { ev.preventDefault(); giveReason(r); }
    }
  });
  $("skip").addEventListener("click", () => {
    lastRating = null;
    $("thanks-detail").textContent = "";
    show("thanks");
    restartIdle(Math.min(PAGE.idle_seconds, 3));
  });
  $("lang").addEventListener("click", () => { Q.setLang(Q.lang === "vi" ? "en" : "vi"); text(); });

  /** The newest finished ticket, followed live: a ticket not yet rated replaces whatever the page shows, except
   * while a rating is on its way (the answer decides what is shown; the next poll then arms the new ticket). */
  function follow(target) {
    if (!target || target.rated || target.expires_in_ms <= 0 || handled.has(target.ticket)) return;
    if (armed && armed.ticket === target.ticket) return;
    if (mode === "sending") return;
    arm(target);
  }

  async function poll() {
    try {
      const q = slip ? "?ticket=" + encodeURIComponent(slip) : "";
      const r = await fetch("/api/v1/rate/" + encodeURIComponent(counter.id) + q, { headers: slip ? {} : headers });
      if (r.ok) follow((await r.json()).target);
      // a token the server refuses (or none where one is needed): say so now, before a citizen presses in vain
      else if ((r.status === 401 || r.status === 403) && mode !== "refused" && mode !== "sending") refused(await reasonOf(r));
    } catch (e) { /* the server is away: try again on the next tick */ }
    setTimeout(poll, 1000);
  }

  text();
  show("idle");
  poll();
})();
