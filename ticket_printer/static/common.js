/* Shared by the kiosk page and the ticket status page: texts for service states, small helpers. */
(function (global) {
  "use strict";

  const WEEKDAYS = {
    vi: ["Chủ nhật", "thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy"],
    en: ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
  };

  /* "13:15" (today) or "2026-11-30 07:30" (a later day), as the server sends opens_at. */
  function opensText(opensAt, lang) {
    if (!opensAt) return "";
    const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}:\d{2})$/.exec(opensAt);
    if (!m) return lang === "en" ? "opens at " + opensAt : "mở lúc " + opensAt;
    const day = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])).getUTCDay();
    const date = m[3] + "/" + m[2];
    return lang === "en"
      ? "opens " + WEEKDAYS.en[day] + " " + date + " at " + m[4]
      : "mở lúc " + m[4] + " " + WEEKDAYS.vi[day] + " " + date;
  }

  const REASONS = {
    vi: { full: "Đã hết số hôm nay", outside_hours: "Ngoài giờ tiếp nhận", closed_today: "Hôm nay không tiếp nhận",
          closed_manually: "Tạm ngừng tiếp nhận", other: "Tạm ngừng tiếp nhận" },
    en: { full: "No more tickets today", outside_hours: "Outside issuing hours", closed_today: "Not open today",
          closed_manually: "Temporarily not issuing tickets", other: "Temporarily not issuing tickets" },
  };

  /* Why a service gives no ticket now, and when it opens: "Ngoài giờ tiếp nhận — mở lúc 13:15". */
  function reasonText(svc, lang) {
    if (!svc || svc.state === "open") return "";
    const table = REASONS[lang] || REASONS.vi;
    const reason = svc.state === "full" ? "full" : (svc.reason || "other");
    const head = table[reason] || table.other;
    const when = reason === "full" || reason === "closed_manually" ? "" : opensText(svc.opens_at, lang);
    return when ? head + " — " + when : head;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (_, k) => (values[k] === undefined || values[k] === null ? "" : String(values[k])));
  }

  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of [].concat(children || [])) {
      if (c === null || c === undefined || c === false) continue;
      e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return e;
  }

  function clock(timeZone, lang, withSeconds) {
    const opts = { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: timeZone };
    if (withSeconds) opts.second = "2-digit";
    try {
      return new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "vi-VN", opts).format(new Date());
    } catch (e) {
      return new Date().toTimeString().slice(0, withSeconds ? 8 : 5);
    }
  }

  function pick(obj, field, lang) {
    if (!obj) return "";
    return (lang === "en" && obj[field + "_en"]) || obj[field] || "";
  }

  global.QMS = { opensText, reasonText, fill, el, clock, pick };
})(window);
