/* The browser-side announcer of a display: one queue of calls, played one after another.
 *
 * Each call carries `voice` (built by the server for display rooms only: queue_server/read_models.py call_view, core/voice.py):
 *   {clips: ["chime", "xin_moi_cong_dan_co_so_thu_tu", "mot", "khong", "khong", "nam", "den_quay_so", "ba",
 *            "xin_moi_cong_dan_co_so_thu_tu", ...], repeat: 2, sentence: [one saying], sentence_en, pack,
 *    text: "Xin mời công dân có số thứ tự 1005 đến quầy số 3", spoken: "... một không không năm ...", text_en}
 * `clips` is the full sequence (the chime once, then the sentence `repeat` times): it is played exactly in
 * that order from `${base}/${pack}/${name}.wav`, with a short pause between repetitions. With the engine
 * "browser" and a vi-VN speechSynthesis voice in the browser, `spoken` (else `text`) is said `repeat` times
 * instead; without such a voice the clips are played.
 *
 * Guarantees:
 *  - never two sounds at once: one item plays at a time, one clip at a time;
 *  - never twice for one call: a call is accepted once per `seq` (a recall is a new call with a new seq);
 *  - never stalls: a clip that fails, is missing, or neither ends nor fails within its timeout is skipped;
 *  - when the browser refuses to play (autoplay blocked: NotAllowedError) the queue waits, `onBlocked` is
 *    told, and `unlock()` (from a tap) resumes with the clip that was refused.
 * The caller decides what is announced at all (not replayed events, not calls from a snapshot).
 *
 * For tests and support: `log` lists every accepted call {seq, clips, repeat, text, pack, engine, ...},
 * `played` every clip attempt {seq, clip, url, start, end, result}.
 */
(function (global) {
  'use strict';

  function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

  /** A short silent WAV as a blob URL: plays nothing audible, tells whether the browser lets us play. */
  function silentWav(ms) {
    const rate = 8000, n = Math.max(1, Math.round(rate * ms / 1000));
    const buf = new ArrayBuffer(44 + n * 2), v = new DataView(buf);
    const w = (o, s) => { for (let i = 0; i < s.length; i++) v.setUint8(o + i, s.charCodeAt(i)); };
    w(0, 'RIFF'); v.setUint32(4, 36 + n * 2, true); w(8, 'WAVE'); w(12, 'fmt ');
    v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true); v.setUint32(24, rate, true);
    v.setUint32(28, rate * 2, true); v.setUint16(32, 2, true); v.setUint16(34, 16, true); w(36, 'data');
    v.setUint32(40, n * 2, true);
    return URL.createObjectURL(new Blob([buf], { type: 'audio/wav' }));
  }

  class Announcer {
    constructor(opts) {
      opts = opts || {};
      this.base = (opts.base || '/clips').replace(/\/$/, '');
      this.engine = opts.engine || 'clips';        // clips | browser | off
      this.clipTimeoutMs = opts.clipTimeoutMs || 6000;   // a clip whose length is unknown
      this.errorSkipMs = opts.errorSkipMs === undefined ? 150 : opts.errorSkipMs;
      this.repeatGapMs = opts.repeatGapMs === undefined ? 500 : opts.repeatGapMs;
      this.callGapMs = opts.callGapMs === undefined ? 700 : opts.callGapMs;
      this.reprobeMs = opts.reprobeMs || 4000;
      this.onBlocked = opts.onBlocked || function () {};
      this.onUnblocked = opts.onUnblocked || function () {};
      this.onNote = opts.onNote || function () {};
      this.queue = [];
      this.log = [];
      this.played = [];
      this.seen = new Set();
      this.running = false;
      this.blocked = false;
      this.current = null;          // {seq, clip} playing now
      this._unblock = null;
      this._cache = new Map();      // url -> HTMLAudioElement (preloaded)
      this.viVoice = null;
      this._watchVoices();
    }

    // ------------------------------------------------------------ what to announce
    /** Remember seqs that must never be announced (calls already in a snapshot or a catch-up). */
    markSeen(seq) { if (seq !== null && seq !== undefined) this.seen.add(seq); }

    /** Forget which seqs were announced (the server's event log started again). */
    forget() { this.seen.clear(); }

    /** Queue a call; false when it was already accepted once, has no voice, or the announcer is off. */
    announce(call) {
      if (!call || call.seq === null || call.seq === undefined || this.seen.has(call.seq)) return false;
      this.seen.add(call.seq);
      if (this.engine === 'off') return false;
      const v = call.voice;
      if (!v || !Array.isArray(v.clips)) {
        this.onNote('Cuộc gọi ' + call.code + ' không có dữ liệu giọng đọc (voice).');
        return false;
      }
      const item = {
        seq: call.seq, clips: v.clips.slice(), repeat: Math.max(1, v.repeat || 1),
        sentence: Array.isArray(v.sentence) ? v.sentence : null, sentence_en: Array.isArray(v.sentence_en) ? v.sentence_en : null,
        text: v.spoken || v.text || '', text_en: v.spoken_en || v.text_en || '',
        pack: v.pack || 'default', engine: this.engine, code: call.code, queued_ms: Date.now(),
      };
      this.log.push(item);
      this.queue.push(item);
      this._pump();
      return true;
    }

    get pending() { return this.queue.length + (this.running ? 1 : 0); }

    // ------------------------------------------------------------ autoplay
    /** Try a silent sound: when the browser refuses, show the "sound off" badge at once. */
    async probe() {
      if (this.engine === 'off') return true;
      const a = new Audio(silentWav(60));
      try {
        await a.play();
        return true;
      } catch (err) {
        if (err && err.name === 'NotAllowedError') this._setBlocked(true);
        return false;
      }
    }

    async _reprobe() {
      if (!this.blocked) return;
      try {
        await new Audio(silentWav(60)).play();
        this._setBlocked(false);
      } catch (err) { /* still blocked: keep asking for a tap */ }
    }

    /** Called from a user gesture (tap, click, key): the browser now lets the page play sound. */
    unlock() {
      // play something inside the gesture so the browser records the activation for media
      const a = new Audio(silentWav(30));
      a.play().catch(() => {});
      if (global.speechSynthesis) { try { global.speechSynthesis.resume(); } catch (e) { /* ignore */ } }
      this._setBlocked(false);
    }

    _setBlocked(on) {
      if (on === this.blocked) return;
      this.blocked = on;
      clearInterval(this._reprobeTimer);
      if (on) {
        this.onBlocked();
        // the browser may allow sound later without a tap (a tab brought to the front, a policy that learnt
        // the site): look again now and then, and drop the badge by itself when playing works
        this._reprobeTimer = setInterval(() => this._reprobe(), this.reprobeMs);
      } else {
        this.onUnblocked();
        const r = this._unblock; this._unblock = null;
        if (r) r();
      }
    }

    _waitUnblocked() {
      if (!this.blocked) return Promise.resolve();
      return new Promise((r) => { const prev = this._unblock; this._unblock = () => { if (prev) prev(); r(); }; });
    }

    // ------------------------------------------------------------ the queue
    async _pump() {
      if (this.running) return;
      this.running = true;
      try {
        while (this.queue.length) {
          const item = this.queue.shift();
          item.start_ms = Date.now();
          try {
            await this._playItem(item);
          } catch (err) {
            item.error = String(err);  // never stop the queue on one bad item
          }
          item.end_ms = Date.now();
          if (this.queue.length) await sleep(this.callGapMs);
        }
      } finally {
        this.running = false;
        this.current = null;
      }
    }

    async _playItem(item) {
      if (item.engine === 'browser') {
        const voice = this._pickVoice();
        if (voice) { item.engine_used = 'browser'; return this._speakItem(item, voice); }
        item.engine_used = 'clips';
        item.note = 'no vi-VN speech voice in this browser; clips played';
      } else {
        item.engine_used = 'clips';
      }
      const seq = this.sequence(item);
      this._preload(seq, item.pack);
      for (const step of seq) {
        if (step === '|') { await sleep(this.repeatGapMs); continue; }
        await this._playClip(item, step);
      }
    }

    /** The clips to play for one item, in order: exactly `clips`, with '|' (a pause) between repetitions
     *  of the sentence when the sequence is the chime plus the sentence `repeat` times. */
    sequence(item) {
      const clips = item.clips.slice();
      const one = (item.sentence || []).concat(item.sentence_en || []);
      const head = clips[0] === 'chime' ? 1 : 0;
      if (!one.length || clips.length !== head + one.length * item.repeat) return clips;
      for (let i = 0; i < item.repeat; i++) {
        if (clips.slice(head + i * one.length, head + (i + 1) * one.length).join('/') !== one.join('/')) return clips;
      }
      const out = clips.slice(0, head);
      for (let i = 0; i < item.repeat; i++) {
        if (i > 0) out.push('|');
        out.push(...one);
      }
      return out;
    }

    url(pack, name) { return this.base + '/' + encodeURIComponent(pack) + '/' + encodeURIComponent(name) + '.wav'; }

    _preload(seq, pack) {
      for (const name of new Set(seq.filter((s) => s !== '|'))) this._audio(this.url(pack, name));
    }

    _audio(url) {
      let a = this._cache.get(url);
      if (!a) {
        a = new Audio();
        a.preload = 'auto';
        a.src = url;
        if (this._cache.size > 200) this._cache.delete(this._cache.keys().next().value);
        this._cache.set(url, a);
      }
      return a;
    }

    async _playClip(item, name) {
      const url = this.url(item.pack, name);
      for (;;) {
        await this._waitUnblocked();
        const rec = { seq: item.seq, clip: name, url, start: performance.now(), end: null, result: null };
        this.current = { seq: item.seq, clip: name };
        this.played.push(rec);
        const result = await this._playOnce(url);
        rec.end = performance.now();
        rec.result = result;
        this.current = null;
        if (result === 'blocked') { this._setBlocked(true); continue; }  // retry this clip after the tap
        if (result !== 'ended') {
          if (this._cache.get(url) && result === 'error') this._cache.delete(url);  // try a fresh load next time
          await sleep(this.errorSkipMs);
        }
        return result;
      }
    }

    /** Play one clip to its end: 'ended', 'error', 'timeout' or 'blocked'. */
    _playOnce(url) {
      const a = this._audio(url);
      return new Promise((resolve) => {
        let done = false, timer = null;
        const finish = (result) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          a.removeEventListener('ended', onEnded);
          a.removeEventListener('error', onError);
          a.removeEventListener('loadedmetadata', onMeta);
          if (result !== 'ended') { try { a.pause(); } catch (e) { /* ignore */ } }
          resolve(result);
        };
        const arm = (ms) => { clearTimeout(timer); timer = setTimeout(() => finish('timeout'), ms); };
        const onEnded = () => finish('ended');
        const onError = () => finish('error');
        const onMeta = () => { if (Number.isFinite(a.duration)) arm(a.duration * 1000 + 1500); };
        a.addEventListener('ended', onEnded);
        a.addEventListener('error', onError);
        a.addEventListener('loadedmetadata', onMeta);
        if (a.error) return finish('error');
        try { a.currentTime = 0; } catch (e) { /* not loaded yet */ }
        arm(Number.isFinite(a.duration) ? a.duration * 1000 + 1500 : this.clipTimeoutMs);
        let p;
        try { p = a.play(); } catch (err) { return finish('error'); }
        if (p && p.catch) {
          p.catch((err) => finish(err && err.name === 'NotAllowedError' ? 'blocked' : 'error'));
        }
      });
    }

    // ------------------------------------------------------------ browser speech (optional setting)
    _watchVoices() {
      const ss = global.speechSynthesis;
      if (!ss) return;
      const pick = () => {
        const voices = ss.getVoices() || [];
        this.viVoice = voices.find((v) => /^vi([-_]|$)/i.test(v.lang)) || null;
      };
      pick();
      if (ss.addEventListener) ss.addEventListener('voiceschanged', pick);
    }

    _pickVoice() { return global.speechSynthesis ? this.viVoice : null; }

    async _speakItem(item, voice) {
      const ss = global.speechSynthesis;
      const en = item.text_en ? (ss.getVoices() || []).find((v) => /^en([-_]|$)/i.test(v.lang)) : null;
      const sayings = [[item.text, voice, 'vi-VN']].concat(en ? [[item.text_en, en, en.lang]] : []);
      for (let i = 0; i < item.repeat; i++) {
        if (i > 0) await sleep(this.repeatGapMs);
        for (const [text, v, tag] of sayings) {
          for (;;) {
            await this._waitUnblocked();
            if (await this._speak(item, text, v, tag) !== 'blocked') break;
            this._setBlocked(true);
          }
        }
      }
    }

    _speak(item, text, voice, langTag) {
      const ss = global.speechSynthesis;
      const rec = { seq: item.seq, clip: 'speech', url: null, text, start: performance.now(), end: null, result: null };
      this.played.push(rec);
      return new Promise((resolve) => {
        let done = false;
        const finish = (result) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          rec.end = performance.now();
          rec.result = result;
          if (result === 'timeout') { try { ss.cancel(); } catch (e) { /* ignore */ } }
          resolve(result);
        };
        const u = new SpeechSynthesisUtterance(text);
        u.lang = langTag;
        u.voice = voice;
        u.rate = 0.95;
        u.onend = () => finish('ended');
        u.onerror = (e) => finish(e && e.error === 'not-allowed' ? 'blocked' : 'error');
        const timer = setTimeout(() => finish('timeout'), Math.max(8000, text.length * 180));
        ss.speak(u);
      });
    }
  }

  global.QmsAnnouncer = Announcer;
})(window);
