// Recorder web UI. Plain JavaScript, no dependencies. Everything that comes from a call (SIP fields, names,
// Call-IDs, diagnostics) is put into the page with textContent or attribute setters only, never as HTML.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const PAGE = 50;
  const LIST_POLL_MS = 3000;
  const CALL_POLL_MS = 5000;
  let session = null;
  let listTimer = null;
  let callTimer = null;
  let currentCall = null;
  let peaks = null;
  let graph = null;
  const mute = [false, false];
  const solo = [false, false];

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function show(view) {
    for (const id of ["signin-view", "search-view", "call-view", "refused-view"]) {
      $(id).hidden = id !== view;
    }
  }

  function localTime(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return isNaN(d.getTime()) ? iso : d.toLocaleString();
  }

  function duration(s) {
    if (s === null || s === undefined) return "";
    const t = Math.round(s);
    const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), sec = t % 60;
    const two = (n) => String(n).padStart(2, "0");
    return h > 0 ? h + ":" + two(m) + ":" + two(sec) : m + ":" + two(sec);
  }

  class HttpError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function api(path, options) {
    const r = await fetch(path, Object.assign({ credentials: "same-origin" }, options || {}));
    if (r.status === 401) {
      session = null;
      stopPolling();
      showSignin(false);
      throw new HttpError(401, "signed out");
    }
    if (!r.ok) {
      let message = r.status + " " + r.statusText;
      try { const body = await r.json(); if (body && body.error) message = body.error; } catch (e) { /* not JSON */ }
      throw new HttpError(r.status, message);
    }
    return r;
  }

  function stopPolling() {
    if (listTimer) { clearInterval(listTimer); listTimer = null; }
    if (callTimer) { clearInterval(callTimer); callTimer = null; }
  }

  // ---------- sign-in ----------

  function showSignin(failed) {
    $("who").hidden = true;
    $("signin-error").hidden = !failed;
    show("signin-view");
    $("token").focus();
  }

  async function start() {
    const failed = new URLSearchParams(location.search).get("signin") === "failed";
    if (failed) history.replaceState(null, "", "/ui/" + location.hash);
    const r = await fetch("/ui/api/whoami", { credentials: "same-origin" });
    const who = await r.json();
    if (!who.signed_in) { showSignin(failed); return; }
    session = who;
    $("who-name").textContent = "Signed in as " + who.name + " (" + who.role + ")";
    $("who").hidden = false;
    route();
  }

  async function signOut() {
    stopPolling();
    try {
      await api("/ui/logout", { method: "POST", headers: { "X-CSRF-Token": session ? session.csrf : "" } });
    } catch (e) { /* already signed out */ }
    session = null;
    location.replace("/ui/");
  }

  // ---------- routing ----------

  function route() {
    if (!session) return;
    stopPolling();
    if (!/^#\/call\//.test(location.hash)) $("audio").pause();
    const hash = location.hash || "#/";
    const m = /^#\/call\/(\d+)$/.exec(hash);
    if (m) { showCall(m[1]); return; }
    const q = hash.indexOf("?");
    showSearch(new URLSearchParams(q >= 0 ? hash.slice(q + 1) : ""));
  }

  // ---------- search ----------

  const FIELDS = ["number", "party", "call_id", "since", "until", "status"];

  function toLocalInput(iso) {
    const d = new Date(iso);
    if (isNaN(d.getTime())) return "";
    const two = (n) => String(n).padStart(2, "0");
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + "T" +
      two(d.getHours()) + ":" + two(d.getMinutes());
  }

  function toUtc(local) {
    const d = new Date(local);
    return isNaN(d.getTime()) ? "" : d.toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  function showSearch(params) {
    show("search-view");
    for (const f of FIELDS) {
      const input = document.querySelector('#search-form [name="' + f + '"]');
      const v = params.get(f) || "";
      input.value = (f === "since" || f === "until") && v ? toLocalInput(v) : v;
    }
    runSearch(params, true);
    listTimer = setInterval(() => runSearch(params, false), LIST_POLL_MS);
  }

  function searchParamsFromForm() {
    const p = new URLSearchParams();
    for (const f of FIELDS) {
      let v = document.querySelector('#search-form [name="' + f + '"]').value.trim();
      if ((f === "since" || f === "until") && v) v = toUtc(v);
      if (v) p.set(f, v);
    }
    return p;
  }

  function go(params) {
    location.hash = "#/?" + params.toString();
  }

  async function runSearch(params, announce) {
    const q = new URLSearchParams(params);
    q.set("limit", String(PAGE));
    let data;
    try {
      const r = await api("/ui/api/calls?" + q.toString());
      data = await r.json();
    } catch (e) {
      if (e.status !== 401) { $("search-error").textContent = e.message; $("search-error").hidden = false; }
      return;
    }
    $("search-error").hidden = true;
    renderResults(data, params, announce);
  }

  function renderResults(data, params, announce) {
    const body = $("results-body");
    clear(body);
    for (const c of data.calls) {
      const tr = el("tr");
      tr.dataset.id = String(c.id);
      const started = el("td");
      const a = el("a", localTime(c.started_at));
      a.href = "#/call/" + c.id;
      a.className = "open-call";
      started.appendChild(a);
      tr.appendChild(started);
      tr.appendChild(partyCell(c.from));
      tr.appendChild(partyCell(c.to));
      tr.appendChild(el("td", c.status === "recording" ? "running" : duration(c.duration_s)));
      const st = el("td");
      st.appendChild(el("span", c.status, c.status === "recording" ? "status-recording" : ""));
      if (c.emergency) st.appendChild(el("span", "emergency", "badge"));
      tr.appendChild(st);
      body.appendChild(tr);
    }
    const offset = Number(params.get("offset") || 0);
    const from = data.total === 0 ? 0 : offset + 1;
    const to = offset + data.calls.length;
    const text = data.total === 0 ? "No calls found." : "Calls " + from + "–" + to + " of " + data.total + ".";
    if (announce || $("result-count").textContent !== text) $("result-count").textContent = text;
    $("page-info").textContent = data.total === 0 ? "" : "Page " + (Math.floor(offset / PAGE) + 1) +
      " of " + Math.max(1, Math.ceil(data.total / PAGE));
    $("prev").disabled = offset === 0;
    $("next").disabled = to >= data.total;
    const sort = params.get("sort") || "started";
    const order = params.get("order") || "desc";
    for (const b of document.querySelectorAll("button.sort")) {
      const th = b.parentElement;
      if (b.dataset.sort === sort) th.setAttribute("aria-sort", order === "asc" ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    }
  }

  function partyCell(p) {
    const td = el("td");
    if (p.display) { td.appendChild(el("div", p.display)); }
    td.appendChild(el("div", p.uri, "note"));
    return td;
  }

  function currentParams() {
    const hash = location.hash || "#/";
    const q = hash.indexOf("?");
    return new URLSearchParams(q >= 0 ? hash.slice(q + 1) : "");
  }

  // ---------- call detail ----------

  function fact(dl, name, value) {
    if (value === null || value === undefined || value === "") return;
    dl.appendChild(el("dt", name));
    const dd = el("dd");
    if (value instanceof Node) dd.appendChild(value); else dd.textContent = String(value);
    dl.appendChild(dd);
  }

  function partyText(p) {
    let t = p.display ? p.display + " <" + p.uri + ">" : p.uri;
    if (p.number) t += "  (" + p.number + ")";
    return t;
  }

  async function showCall(id) {
    show("call-view");
    $("call-error").hidden = true;
    let data;
    try {
      data = await (await api("/ui/api/calls/" + id)).json();
    } catch (e) {
      if (e.status !== 401) { $("call-error").textContent = e.message; $("call-error").hidden = false; }
      return;
    }
    const fresh = !currentCall || currentCall.id !== data.call.id;
    currentCall = data.call;
    renderCall(data, fresh);
    if (data.call.status === "recording") {
      callTimer = setInterval(async () => {
        try {
          const d = await (await api("/ui/api/calls/" + id)).json();
          currentCall = d.call;
          renderCall(d, false);
          if (d.call.status !== "recording") { clearInterval(callTimer); callTimer = null; }
        } catch (e) { /* shown on the next full load */ }
      }, CALL_POLL_MS);
    }
  }

  function renderCall(data, fresh) {
    const c = data.call;
    $("call-title").textContent = "Call " + (c.from.display || c.from.uri) + " → " + (c.to.display || c.to.uri);
    const parties = $("parties");
    clear(parties);
    fact(parties, "From", partyText(c.from));
    fact(parties, "To", partyText(c.to));
    for (const pai of c.asserted_identity || []) fact(parties, "P-Asserted-Identity", pai);
    if (c.privacy) fact(parties, "Privacy", "identity withheld from the other party (Privacy: id)");
    const facts = $("facts");
    clear(facts);
    const status = el("span", c.status, c.status === "recording" ? "status-recording" : "");
    fact(facts, "Status", status);
    fact(facts, "Started", localTime(c.started_at));
    fact(facts, "Answered", localTime(c.answered_at));
    fact(facts, "Ended", localTime(c.ended_at));
    fact(facts, "Duration", duration(c.duration_s));
    fact(facts, "End reason", c.end_reason);
    fact(facts, "ms-diagnostics", c.diagnostics);
    if (c.emergency) {
      fact(facts, "Emergency", el("span", "emergency call", "badge"));
      fact(facts, "Location", c.location || "not given");
    }
    fact(facts, "Call-ID", c.call_id);
    fact(facts, "Ms-Conversation-ID", c.conversation_id);
    fact(facts, "Sensitivity", c.sensitivity);
    fact(facts, "Target class", c.target_class);
    fact(facts, "User agents", (c.user_agents || []).join("\n"));

    const streams = $("streams");
    clear(streams);
    for (const s of c.streams || []) {
      const tr = el("tr");
      for (const v of [s.direction, "0x" + (s.ssrc >>> 0).toString(16).padStart(8, "0"), s.codec, s.packets,
        s.lost, s.duplicates, s.decrypt_failures]) tr.appendChild(el("td", v));
      const td = el("td");
      if (s.rtp_file) {
        if (session.may_download) {
          const a = el("a", "Download pcap");
          a.href = "/ui/api/calls/" + c.id + "/rtp";
          a.setAttribute("download", "");
          td.appendChild(a);
        } else td.textContent = "kept (download needs the admin role)";
      }
      tr.appendChild(td);
      streams.appendChild(tr);
    }

    const related = $("related");
    clear(related);
    if (!data.related.length) related.appendChild(el("li", c.conversation_id ? "None." : "No conversation id."));
    for (const r of data.related) {
      const li = el("li");
      const a = el("a", localTime(r.started_at) + " — " + (r.from.display || r.from.uri) + " → " +
        (r.to.display || r.to.uri) + " (" + r.status + ")");
      a.href = "#/call/" + r.id;
      li.appendChild(a);
      related.appendChild(li);
    }

    const dtmf = $("dtmf");
    clear(dtmf);
    if (!c.dtmf.length) dtmf.appendChild(el("li", "None."));
    for (const d of c.dtmf) {
      const at = (d.at_us - c.started_at_us) / 1e6;
      dtmf.appendChild(el("li", "“" + d.digit + "” at " + duration(at) + " for " + d.duration_ms + " ms"));
    }

    const audio = $("audio");
    const note = $("player-note");
    const dl = $("download");
    if (c.file) {
      const src = "/ui/api/calls/" + c.id + "/audio";
      if (fresh || !audio.getAttribute("src")) { audio.src = src; }
      dl.hidden = !session.may_download;
      dl.href = "/ui/api/calls/" + c.id + "/download";
      note.textContent = session.may_download ? "" : "Your role can listen to recordings but not download them.";
      if (c.status === "recording") note.textContent = "This call is still being recorded; the waveform updates.";
      loadPeaks(c.id);
    } else {
      audio.removeAttribute("src");
      audio.load();
      dl.hidden = true;
      note.textContent = "This call has no audio file.";
      peaks = null;
      drawWaveform();
    }
  }

  // ---------- waveform ----------

  function parsePeaks(buf) {
    const dv = new DataView(buf);
    if (buf.byteLength < 20) return null;
    const version = dv.getInt32(0, true);
    const flags = dv.getUint32(4, true);
    const rate = dv.getInt32(8, true);
    const spp = dv.getInt32(12, true);
    const length = dv.getUint32(16, true);
    const channels = version === 2 ? dv.getInt32(20, true) : 1;
    const start = version === 2 ? 24 : 20;
    const eight = (flags & 1) === 1;
    const count = length * channels * 2;
    if (buf.byteLength < start + count * (eight ? 1 : 2)) return null;
    const values = eight ? new Int8Array(buf, start, count) : new Int16Array(buf.slice(start, start + count * 2));
    return { rate, spp, length, channels, values, scale: eight ? 128 : 32768 };
  }

  async function loadPeaks(id) {
    try {
      const r = await api("/ui/api/calls/" + id + "/peaks");
      const p = parsePeaks(await r.arrayBuffer());
      if (currentCall && currentCall.id === id) { peaks = p; drawWaveform(); }
    } catch (e) {
      if (e.status !== 401) { peaks = null; drawWaveform(); $("player-note").textContent = "No waveform: " + e.message; }
    }
  }

  const COLORS = ["rgb(95,179,255)", "rgb(123,224,123)"];

  function drawWaveform() {
    const canvas = $("waveform");
    const w = Math.max(100, Math.round(canvas.clientWidth || canvas.width));
    if (canvas.width !== w) canvas.width = w;
    const h = canvas.height;
    const g = canvas.getContext("2d");
    g.fillStyle = "rgb(15,29,43)";
    g.fillRect(0, 0, w, h);
    if (!peaks || peaks.length === 0) { canvas.dataset.drawn = "0"; return; }
    const lanes = Math.min(2, peaks.channels);
    const laneH = Math.floor(h / lanes);
    for (let c = 0; c < lanes; c++) {
      g.fillStyle = COLORS[c];
      const mid = c * laneH + laneH / 2;
      for (let x = 0; x < w; x++) {
        const p0 = Math.floor(x * peaks.length / w);
        const p1 = Math.max(p0 + 1, Math.floor((x + 1) * peaks.length / w));
        let lo = 0, hi = 0;
        for (let p = p0; p < p1 && p < peaks.length; p++) {
          const k = (p * peaks.channels + c) * 2;
          lo = Math.min(lo, peaks.values[k]);
          hi = Math.max(hi, peaks.values[k + 1]);
        }
        const top = Math.floor(mid - (hi / peaks.scale) * (laneH / 2 - 1));
        const bottom = Math.ceil(mid - (lo / peaks.scale) * (laneH / 2 - 1));
        g.fillRect(x, top, 1, Math.max(1, bottom - top));
      }
    }
    const total = peaks.length * peaks.spp / peaks.rate;
    if (currentCall && total > 0) {
      g.fillStyle = "rgb(255,214,0)";
      for (const d of currentCall.dtmf || []) {
        const x = Math.round(((d.at_us - currentCall.started_at_us) / 1e6) / total * w);
        if (x >= 0 && x < w) g.fillRect(x, 0, 1, 8);
      }
    }
    const audio = $("audio");
    const dur = isFinite(audio.duration) && audio.duration > 0 ? audio.duration : total;
    if (dur > 0) {
      g.fillStyle = "rgb(255,255,255)";
      g.fillRect(Math.min(w - 1, Math.round(audio.currentTime / dur * w)), 0, 1, h);
    }
    canvas.dataset.drawn = String(peaks.length);
  }

  function seekTo(seconds) {
    const audio = $("audio");
    const total = isFinite(audio.duration) && audio.duration > 0 ? audio.duration :
      (peaks ? peaks.length * peaks.spp / peaks.rate : 0);
    if (total <= 0) return;
    audio.currentTime = Math.max(0, Math.min(total, seconds));
  }

  // ---------- channels ----------

  function ensureGraph() {
    if (graph) return graph;
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    const ctx = new Ctx();
    const source = ctx.createMediaElementSource($("audio"));
    const split = ctx.createChannelSplitter(2);
    const merge = ctx.createChannelMerger(2);
    const gains = [ctx.createGain(), ctx.createGain()];
    source.connect(split);
    for (let c = 0; c < 2; c++) {
      split.connect(gains[c], c);
      gains[c].connect(merge, 0, c);
    }
    merge.connect(ctx.destination);
    graph = { ctx, gains };
    return graph;
  }

  function applyChannels() {
    const anySolo = solo[0] || solo[1];
    for (let c = 0; c < 2; c++) {
      $("mute-" + c).setAttribute("aria-pressed", String(mute[c]));
      $("solo-" + c).setAttribute("aria-pressed", String(solo[c]));
    }
    const g = ensureGraph();
    if (!g) return;
    if (g.ctx.state === "suspended") g.ctx.resume();
    for (let c = 0; c < 2; c++) {
      g.gains[c].gain.value = anySolo ? (solo[c] ? 1 : 0) : (mute[c] ? 0 : 1);
    }
  }

  // ---------- wiring ----------

  document.addEventListener("DOMContentLoaded", () => {
    $("signout").addEventListener("click", signOut);
    $("search-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const p = searchParamsFromForm();
      const cur = currentParams();
      for (const k of ["sort", "order"]) if (cur.get(k)) p.set(k, cur.get(k));
      go(p);
    });
    $("search-form").addEventListener("reset", () => setTimeout(() => go(new URLSearchParams()), 0));
    for (const b of document.querySelectorAll("button.sort")) {
      b.addEventListener("click", () => {
        const p = currentParams();
        const same = (p.get("sort") || "started") === b.dataset.sort;
        const order = same && (p.get("order") || "desc") === "desc" ? "asc" : "desc";
        p.set("sort", b.dataset.sort);
        p.set("order", order);
        p.delete("offset");
        go(p);
      });
    }
    $("prev").addEventListener("click", () => {
      const p = currentParams();
      p.set("offset", String(Math.max(0, Number(p.get("offset") || 0) - PAGE)));
      go(p);
    });
    $("next").addEventListener("click", () => {
      const p = currentParams();
      p.set("offset", String(Number(p.get("offset") || 0) + PAGE));
      go(p);
    });
    const canvas = $("waveform");
    canvas.addEventListener("click", (e) => {
      const rect = canvas.getBoundingClientRect();
      const audio = $("audio");
      const total = isFinite(audio.duration) && audio.duration > 0 ? audio.duration :
        (peaks ? peaks.length * peaks.spp / peaks.rate : 0);
      seekTo((e.clientX - rect.left) / rect.width * total);
    });
    canvas.addEventListener("keydown", (e) => {
      const audio = $("audio");
      if (e.key === "ArrowRight") { seekTo(audio.currentTime + 5); e.preventDefault(); }
      else if (e.key === "ArrowLeft") { seekTo(audio.currentTime - 5); e.preventDefault(); }
      else if (e.key === "Home") { seekTo(0); e.preventDefault(); }
      else if (e.key === " ") { if (audio.paused) audio.play(); else audio.pause(); e.preventDefault(); }
    });
    const audio = $("audio");
    for (const ev of ["timeupdate", "seeked", "loadedmetadata"]) audio.addEventListener(ev, drawWaveform);
    for (let c = 0; c < 2; c++) {
      $("mute-" + c).addEventListener("click", () => { mute[c] = !mute[c]; applyChannels(); });
      $("solo-" + c).addEventListener("click", () => { solo[c] = !solo[c]; applyChannels(); });
    }
    window.addEventListener("hashchange", route);
    window.addEventListener("resize", drawWaveform);
    start();
  });
})();
