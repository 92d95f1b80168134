// ictus web remote and visual metronome. No build step: plain JavaScript.
//
// Clock sync: the page pings the server; each pong carries the engine's time (seconds on
// the engine's sample clock). offset = engine - (sent + received) / 2; the sample with the
// smallest round trip wins (its error is at most half that round trip: "sync ±x ms").
// Beats arrive with their engine times and the beats that follow; each is flashed when
// performance.now() + offset reaches it, so a late message does not make a late flash.
"use strict";
(() => {
  const params = new URLSearchParams(location.search);
  const token = params.get("token");
  const view = params.get("view");
  const $ = (id) => document.getElementById(id);
  const COLOURS = { accent: "accent", normal: "normal", silent: "silent", sub: "normal" };
  const SYNC_KEEP = 20;         // ping samples kept; the best of these is used
  const FLASH_MS = 110;         // how long a flash stays lit

  const st = {
    role: "performer", offset: null, rtt: null, samples: [], pings: new Map(), pingId: 0,
    pending: [],          // beats to flash: {due (performance ms), t, bar, beat, level, countdown}
    flashes: [],          // flashes done: {t, due, drawn, bar, beat, level, full}
    unreported: [],
    status: null, sections: [], mode: "locate", lastBeat: null, nextBeat: null, beatIndex: 0,
    safe: params.get("safe") === "1" || localStorage.getItem("ictus-safe") === "1",
    epoch: performance.timeOrigin,
  };
  window.ictus = st;  // for tests and the curious

  let ws = null;
  function socketUrl() {
    const u = new URL("ws", location.href);
    u.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    u.search = "";
    if (token) u.searchParams.set("token", token);
    if (view) u.searchParams.set("view", view);
    return u.toString();
  }
  function send(obj) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(obj));
  }
  function connect() {
    ws = new WebSocket(socketUrl());
    ws.onopen = () => { $("conn").classList.add("up"); st.samples = []; burst(); };
    ws.onclose = () => {
      $("conn").classList.remove("up");
      $("state").textContent = "reconnecting";
      setTimeout(connect, 1000);
    };
    ws.onmessage = (e) => {
      const received = performance.now();
      const m = JSON.parse(e.data);
      if (m.type === "pong") pong(m, received);
      else if (m.type === "beat") beat(m);
      else if (m.type === "status") status(m);
      else if (m.type === "hello") hello(m);
      else if (m.type === "error") toast(m.message);
    };
  }

  // -- clock sync ------------------------------------------------------------------
  function ping() {
    const id = ++st.pingId;
    st.pings.set(id, performance.now());
    send({ type: "ping", id });
  }
  function burst() { for (let i = 0; i < 12; i++) setTimeout(ping, i * 60); }
  function pong(m, received) {
    const sent = st.pings.get(m.id);
    if (sent === undefined) return;
    st.pings.delete(m.id);
    const sample = { rtt: received - sent, offset: m.engine * 1000 - (sent + received) / 2 };
    // each sample puts the offset within ±rtt/2 of its value: one that cannot agree
    // with the best so far means the engine's clock moved (a restart, a slip): start over
    const old = st.samples.length ? st.samples.reduce((a, b) => (b.rtt < a.rtt ? b : a)) : null;
    if (old && Math.abs(sample.offset - old.offset) > (sample.rtt + old.rtt) / 2 + 1) {
      st.samples = [];
    }
    st.samples.push(sample);
    if (st.samples.length > SYNC_KEEP) st.samples.shift();
    const best = st.samples.reduce((a, b) => (b.rtt < a.rtt ? b : a));
    const moved = st.offset === null ? 0 : best.offset - st.offset;
    st.offset = best.offset;
    st.rtt = best.rtt;
    if (moved) for (const p of st.pending) p.due -= moved;
    $("sync").textContent = `sync ±${(best.rtt / 2).toFixed(1)} ms`;
  }
  setInterval(ping, 1000);
  const dueOf = (t) => t * 1000 - st.offset;  // engine seconds -> performance.now() ms

  // -- beats -------------------------------------------------------------------------
  function beat(m) {
    if (st.offset === null) return;
    const now = performance.now();
    // the newest forecast replaces what was planned; beats already flashed stay done
    const done = st.flashes.slice(-8).map((f) => f.t);
    st.pending = [m, ...m.next]
      .filter((b) => !done.some((t) => Math.abs(t - b.t) < 0.02))
      .map((b) => ({ ...b, due: dueOf(b.t) }))
      .filter((b) => b.due > now - 150);  // too late to be useful: skip
  }

  function flash(b, now) {
    const full = !st.safe && b.level !== "silent";
    st.lastBeat = b.due;
    st.beatIndex += 1;
    const next = st.pending[0];
    st.nextBeat = next ? next.due : null;
    const rec = { t: b.t, due: b.due + st.epoch, drawn: now + st.epoch, bar: b.bar, beat: b.beat,
                  level: b.level, full };
    st.flashes.push(rec);
    if (st.flashes.length > 400) st.flashes.splice(0, 100);
    st.unreported.push([b.t, b.bar, b.beat]);
    const stage = $("stage");
    const colour = b.bar <= 0 ? "count" : (COLOURS[b.level] || "normal");
    if (full) {
      const f = $("flash");
      f.className = `flash on ${colour}`;
      clearTimeout(flash.timer);
      flash.timer = setTimeout(() => { f.className = `flash ${colour}`; }, FLASH_MS);
    }
    stage.dataset.level = colour;
    st.currentBeat = b.beat;
    showPlace(b.bar, b.beat, b.countdown, colour);
  }

  // a flash can only show on a display frame: light it in the frame nearest its time
  let lastFrame = null;
  let frameMs = 16.7;
  function frame() {
    const now = performance.now();
    if (lastFrame !== null) frameMs = 0.9 * frameMs + 0.1 * Math.min(now - lastFrame, 50);
    lastFrame = now;
    st.frameMs = frameMs;
    while (st.pending.length && st.pending[0].due <= now + frameMs / 2) {
      const b = st.pending.shift();
      // a page that slept (screen off, tab hidden) skips what it missed: never a burst
      if (b.due >= now - 150) flash(b, now);
    }
    sweep(now);
    conduct(now);
    requestAnimationFrame(frame);
  }

  function sweep(now) {
    // the ball crosses the track once per beat, back and forth: where it is says how
    // far the beat has gone, without anything flashing
    const ball = $("ball");
    const playing = st.status && st.status.state === "playing";
    if (!playing || st.lastBeat === null) { ball.style.left = "0%"; return; }
    const next = st.pending.length ? st.pending[0].due : st.nextBeat;
    const span = next && next > st.lastBeat ? next - st.lastBeat : 500;
    const x = Math.min(Math.max((now - st.lastBeat) / span, 0), 1);
    const there = st.beatIndex % 2 ? x : 1 - x;
    ball.style.left = `calc(${(there * 100).toFixed(2)}% - ${(there * 2.2).toFixed(2)}rem)`;
  }

  // a conductor's beat pattern: where the hand is at each beat of a bar (x, y from the
  // top left, 0..1); between beats it falls into the next beat and rebounds from it
  const PATTERNS = {
    1: [[0.5, 0.85]],
    2: [[0.5, 0.85], [0.56, 0.35]],
    3: [[0.5, 0.85], [0.86, 0.62], [0.56, 0.18]],
    4: [[0.5, 0.85], [0.14, 0.62], [0.86, 0.62], [0.56, 0.18]],
    5: [[0.5, 0.85], [0.2, 0.68], [0.3, 0.5], [0.86, 0.62], [0.56, 0.18]],
    6: [[0.5, 0.85], [0.32, 0.74], [0.14, 0.6], [0.68, 0.72], [0.86, 0.58], [0.56, 0.18]],
  };
  function points(beats) {
    if (PATTERNS[beats]) return PATTERNS[beats];
    const out = [[0.5, 0.85]];  // more beats: the downbeat, then round an arc
    for (let i = 1; i < beats; i++) {
      const a = Math.PI * (0.95 - (0.9 * i) / (beats - 1));
      out.push([0.5 + 0.38 * Math.cos(a), 0.55 - 0.35 * Math.sin(a)]);
    }
    return out;
  }
  function conduct(now) {
    const canvas = $("pattern");
    if (!st.safe || canvas.clientWidth < 40) return;
    const ratio = window.devicePixelRatio || 1;
    const size = Math.round(canvas.clientWidth * ratio);
    if (canvas.width !== size) { canvas.width = size; canvas.height = size; }
    const g = canvas.getContext("2d");
    g.clearRect(0, 0, size, size);
    const beats = (st.status && st.status.beats) || 4;
    const pts = points(beats).map(([x, y]) => [x * size, y * size]);
    const css = getComputedStyle(document.documentElement);
    g.lineWidth = Math.max(2, size / 90);
    g.strokeStyle = "rgba(139,148,163,0.35)";
    g.beginPath();
    pts.forEach(([x, y], i) => {
      const [nx, ny] = pts[(i + 1) % pts.length];
      if (i === 0) g.moveTo(x, y);
      g.quadraticCurveTo((x + nx) / 2, Math.min(y, ny) - size * 0.25, nx, ny);
    });
    g.stroke();
    g.font = `700 ${Math.round(size / 14)}px system-ui, sans-serif`;
    g.textAlign = "center";
    g.textBaseline = "middle";
    const beat = Math.min(Math.max(st.currentBeat || 1, 1), pts.length);
    pts.forEach(([x, y], i) => {
      g.fillStyle = i + 1 === beat ? css.getPropertyValue("--text") : "rgba(139,148,163,0.8)";
      g.fillText(String(i + 1), x, y + size / 11);
    });
    const playing = st.status && st.status.state === "playing" && st.lastBeat !== null;
    const next = st.pending.length ? st.pending[0].due : st.nextBeat;
    const span = next && next > st.lastBeat ? next - st.lastBeat : 500;
    const t = playing ? Math.min(Math.max((now - st.lastBeat) / span, 0), 1) : 0;
    const [x0, y0] = pts[beat - 1];
    const [x1, y1] = pts[beat % pts.length];
    // up out of the beat, then faster and faster down into the next one
    const u = t * t;
    const cx = (x0 + x1) / 2;
    const cy = Math.min(y0, y1) - size * 0.25;
    const x = (1 - u) * (1 - u) * x0 + 2 * (1 - u) * u * cx + u * u * x1;
    const y = (1 - u) * (1 - u) * y0 + 2 * (1 - u) * u * cy + u * u * y1;
    g.fillStyle = css.getPropertyValue(beat === 1 ? "--accent" : "--normal");
    g.beginPath();
    g.arc(x, y, size / 22, 0, 2 * Math.PI);
    g.fill();
  }

  setInterval(() => {
    if (!st.unreported.length) return;
    send({ type: "report", flashes: st.unreported.splice(0, 64) });
  }, 2000);

  // -- what the page shows -------------------------------------------------------------
  function showPlace(bar, beat, countdown, colour) {
    const counting = bar <= 0 && countdown > 0;
    $("big").classList.toggle("hidden", counting);
    const cd = $("countdown");
    cd.classList.toggle("hidden", !counting);
    if (counting) cd.textContent = String(countdown);
    $("bar").textContent = bar > 0 ? String(bar) : "–";
    $("beat").textContent = beat > 0 ? String(beat) : "–";
    $("big").dataset.level = colour || "";
    const beats = (st.status && st.status.beats) || 4;
    const dots = $("dots");
    if (dots.children.length !== beats) {
      dots.textContent = "";
      for (let i = 0; i < beats; i++) dots.appendChild(document.createElement("i"));
    }
    [...dots.children].forEach((d, i) => {
      d.className = i + 1 === beat ? `on ${colour || ""}` : (i === 0 ? "first" : "");
    });
  }

  function status(s) {
    const was = st.status;
    st.status = s;
    $("state").textContent = s.count_in ? "count-in" : s.state;
    $("state").dataset.state = s.state;
    $("title").textContent = s.show ? showTitle(s.show) : (s.title || "ictus");
    if (s.show) setlist(s.show);
    $("section").textContent = s.count_in ? `count-in → ${s.next_section || ""}` : (s.section || "–");
    $("tempo").textContent = `${Math.round(s.tempo * 10) / 10} bpm`;
    $("scale").textContent = `${s.scale}%`;
    $("next").textContent = s.next_section || "–";
    $("cue").textContent = s.next_cue || "–";
    const flags = [];
    if (s.loop) flags.push(`<span class="flag loop">vamp ${esc(s.loop)}</span>`);
    if (s.jump) flags.push(`<span class="flag jump">jump → bar ${s.jump}</span>`);
    $("flags").innerHTML = flags.join("");
    $("engine").textContent = `${s.backend} backend · ${s.xruns} xrun${s.xruns === 1 ? "" : "s"}`;
    $("pause").textContent = s.state === "paused" ? "▶ continue" : "❚❚ pause";
    $("pause").dataset.do = s.state === "paused" ? "continue" : "pause";
    const playing = s.state === "playing";
    if (!playing) {
      st.pending = [];
      showPlace(s.bar, s.beat, s.countdown, "");
    } else if (!was || was.state !== "playing" || st.offset === null) {
      showPlace(s.bar, s.beat, s.countdown, "");
    }
    for (const b of document.querySelectorAll("#parts button")) {
      b.classList.toggle("here", b.dataset.arg === s.section);
      b.classList.toggle("looped", b.dataset.arg === s.loop);
    }
  }

  function showTitle(show) {
    const then = show.next_song ? ` · next: ${show.next_song}` : "";
    return `${show.index + 1}. ${show.song}${then}`;
  }

  function setlist(show) {
    const list = $("setlist");
    if (list.children.length !== show.setlist.length) {
      list.textContent = "";
      for (const name of show.setlist) {
        const li = document.createElement("li");
        li.textContent = name;
        list.appendChild(li);
      }
    }
    [...list.children].forEach((li, i) => {
      li.className = i === show.index ? (show.playing ? "cued playing" : "cued") : "";
      if (i === show.index + 1) li.classList.add("next");
    });
    $("then").textContent = show.finished ? "the show is over" : `then: ${show.advance}`;
  }

  function hello(m) {
    st.role = m.role;
    document.body.classList.toggle("show", !!m.show);
    $("show").classList.toggle("hidden", !m.show);
    st.sections = m.sections;
    document.body.classList.toggle("performer", m.role !== "control");
    const parts = $("parts");
    parts.textContent = "";
    for (const s of m.sections) {
      const b = document.createElement("button");
      b.dataset.arg = s.label;
      b.dataset.part = "1";
      b.innerHTML = `${esc(s.label)}<small>bar ${s.bar}</small>`;
      parts.appendChild(b);
    }
  }

  function esc(text) {
    return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  }

  function toast(text) {
    const t = $("toast");
    t.textContent = text;
    t.classList.remove("hidden");
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => t.classList.add("hidden"), 3500);
  }

  // -- the remote --------------------------------------------------------------------
  document.addEventListener("click", (e) => {
    const b = e.target.closest("button");
    if (!b || st.role !== "control") return;
    if (b.dataset.mode) {
      st.mode = b.dataset.mode;
      for (const x of document.querySelectorAll(".mode")) x.classList.toggle("on", x === b);
      return;
    }
    if (b.dataset.part) {
      const action = { locate: "locate", jump: "jump", loop: "loop" }[st.mode];
      send({ type: "do", action, arg: b.dataset.arg });
      return;
    }
    if (!b.dataset.do) return;
    const msg = { type: "do", action: b.dataset.do };
    if (b.dataset.arg !== undefined) msg.arg = Number(b.dataset.arg);
    send(msg);
  });
  $("tap").addEventListener("pointerdown", (e) => {
    e.preventDefault();
    if (st.role !== "control") return;
    const msg = { type: "do", action: "tap" };
    if (st.offset !== null) msg.at = (performance.now() + st.offset) / 1000;
    send(msg);
  });

  // a laptop's keys, as in the terminal display of ictus play
  document.addEventListener("keydown", (e) => {
    if (st.role !== "control" || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target.closest && e.target.closest("input, textarea")) return;
    const playing = st.status && st.status.state === "playing";
    const keys = {
      " ": { action: playing ? "stop" : "start" },
      ArrowLeft: { action: "step", arg: -1 },
      ArrowRight: { action: "step", arg: 1 },
      "+": { action: "nudge", arg: 1 },
      "=": { action: "nudge", arg: 1 },
      "-": { action: "nudge", arg: -1 },
      l: { action: "toggle_loop" },
      p: { action: playing ? "pause" : "continue" },
    };
    if (e.key === "t") {
      const msg = { type: "do", action: "tap" };
      if (st.offset !== null) msg.at = (performance.now() + st.offset) / 1000;
      send(msg);
    } else if (keys[e.key]) {
      send({ type: "do", ...keys[e.key] });
    } else {
      return;
    }
    e.preventDefault();
  });

  const safe = $("safe");
  safe.checked = st.safe;
  document.body.classList.toggle("safe", st.safe);
  safe.addEventListener("change", () => {
    st.safe = safe.checked;
    localStorage.setItem("ictus-safe", st.safe ? "1" : "0");
    document.body.classList.toggle("safe", st.safe);
  });

  // keep a phone's screen on while the page is open, where the browser allows it
  async function stayAwake() {
    try { if (navigator.wakeLock) await navigator.wakeLock.request("screen"); } catch (_) { /* fine */ }
  }
  document.addEventListener("visibilitychange", () => { if (!document.hidden) stayAwake(); });
  stayAwake();

  showPlace(0, 0, 0, "");
  connect();
  requestAnimationFrame(frame);
})();
