// VoiceMood's page: record or pick a file, send it to /api/analyse, show the answer as the bots do.
// Every sentence comes from /api/messages (bots/i18n.py); this file writes no wording of its own.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  const MAX_RECORD_S = 300;
  let cat = null;
  let lang = "en";
  let last = null;
  let recorder = null;
  let picking = false;
  let practice = { round: null, attempt: null, summary: null };
  // What is kept for this browser (GET /api/me): only after "remember" (or "donate") was ticked.
  let me = { remembered: false, words: {} };
  let period = "week";
  // The last songs shown (their keys go back as `avoid`, so the next three differ); never stored.
  let music = { mode: null, keys: [] };
  const CUES = ["pitch_hz", "pitch_range_st", "loudness_db", "speech_rate", "pause_share"];

  // Python's str.format placeholders ({name} or {name:spec}) filled from params.
  const fill = (template, params) =>
    template.replace(/\{(\w+)(?::[^}]*)?\}/g, (m, k) => (k in params ? String(params[k]) : m));
  const tr = (key, params = {}) => fill(cat.text[lang][key] ?? cat.text.en[key] ?? key, params);
  // The visitor's own word for a tone (/words) where they chose one, as the bots say it.
  const labelName = (label) => me.words[label] ?? cat.labels[lang][label] ?? label;
  const emoji = (label) => cat.emoji[label] ?? "🤔";
  const percent = (p) => `${Math.round(100 * p)}%`;
  const clock = (s) => {
    const t = Math.round(s);
    return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, "0")}`;
  };
  // One colour per tone, served with the sentences from bots/palette.py (the charts' palette).
  const colour = (label) => cat.colours[label] ?? cat.colours.other;

  function chooseLanguage() {
    const saved = localStorage.getItem("voicemood.lang");
    if (cat.languages.includes(saved)) return saved;
    for (const tag of navigator.languages ?? [navigator.language]) {
      const code = String(tag).slice(0, 2).toLowerCase();
      if (cat.languages.includes(code)) return code;
    }
    return cat.default;
  }

  function applyLanguage() {
    document.documentElement.lang = lang;
    for (const el of document.querySelectorAll("[data-t]")) el.textContent = tr(el.dataset.t);
    const other = cat.languages.find((l) => l !== lang);
    $("lang").textContent = tr("web.other_language");
    $("lang").lang = other;
    for (const which of Object.keys(RECORDERS)) setRecording(which, recordingFor === which);
    $("map").setAttribute("aria-label", tr("web.map"));
    for (const kind of ["csv", "json"]) $(`export-${kind}`).href = `/api/me/export.${kind}?lang=${lang}`;
    renderToneChoices();
    $("music").hidden = true; // its sentences came in the other language: asked again on a tap
    if (last) renderAnswer();
    renderPractice();
    refreshMe();
  }

  function status(text, error = false) {
    $("status").textContent = text;
    $("status").classList.toggle("error", error);
  }

  // Recording

  // Where a recording goes: the Listen tab's answer, or the Practice tab's attempt.
  const RECORDERS = {
    listen: { button: "record", label: "record-label", say: (text, error) => status(text, error), done: (blob, name) => analyse(blob, name) },
    practice: { button: "practice-record", label: "practice-record-label", say: (text, error) => practiceStatus(text, error), done: (blob, name) => sendAttempt(blob, name) },
  };
  let recordingFor = null;

  async function toggleRecording(which) {
    if (recorder) {
      recorder.stop();
      return;
    }
    const ui = RECORDERS[which];
    if (!window.isSecureContext || !navigator.mediaDevices || !window.MediaRecorder) {
      ui.say(tr("web.mic_unavailable"), true);
      return;
    }
    // The camera (off by default, the listen tab only): its pictures go with this recording
    // so its face is read, and are never kept.
    const camera = which === "listen" && $("camera").checked;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: camera });
    } catch {
      ui.say(tr(camera ? "web.camera_denied" : "web.mic_denied"), true);
      return;
    }
    const kinds = camera
      ? ["video/webm;codecs=vp8,opus", "video/webm", "video/mp4"]
      : ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4"];
    const type = kinds.find((t) => MediaRecorder.isTypeSupported(t));
    const view = $("camera-view");
    if (camera) {
      view.srcObject = stream;
      view.hidden = false;
      view.play().catch(() => {});
    }
    const chunks = [];
    const started = Date.now();
    const timer = setInterval(() => {
      const seconds = (Date.now() - started) / 1000;
      ui.say(tr("web.recording", { seconds: Math.floor(seconds) }));
      if (seconds >= MAX_RECORD_S && recorder) recorder.stop();
    }, 250);
    recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    recordingFor = which;
    recorder.ondataavailable = (event) => event.data.size && chunks.push(event.data);
    recorder.onstop = () => {
      clearInterval(timer);
      for (const track of stream.getTracks()) track.stop();
      view.hidden = true;
      view.srcObject = null;
      const mime = recorder.mimeType || type || "audio/webm";
      recorder = null;
      setRecording(which, false);
      recordingFor = null;
      const ext = mime.includes("mp4") ? (camera ? "mp4" : "m4a") : mime.includes("ogg") ? "ogg" : "webm";
      ui.done(new Blob(chunks, { type: mime }), `recording.${ext}`);
    };
    recorder.start(500);
    setRecording(which, true);
    ui.say(tr("web.recording", { seconds: 0 }));
  }

  function setRecording(which, on) {
    const ui = RECORDERS[which];
    $(ui.button).setAttribute("aria-pressed", String(on));
    $(ui.label).textContent = tr(on ? "web.stop" : "web.record");
  }

  // Analysing

  async function analyse(blob, name) {
    if (!navigator.onLine) {
      status(tr("web.offline"), true);
      return;
    }
    const form = new FormData();
    form.append("lang", lang);
    form.append("donate", $("donate").checked ? "true" : "false");
    form.append("remember", $("remember").checked ? "true" : "false");
    form.append("face", $("camera").checked ? "true" : "false");
    form.append("audio", blob, name);
    status(tr("web.listening"));
    $("answer").hidden = true;
    $("record").disabled = true;
    try {
      const response = await fetch("/api/analyse", { method: "POST", body: form });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) {
        status(body.error ?? tr("error.error"), true);
        return;
      }
      last = body;
      music = { mode: null, keys: [] };
      $("music").hidden = true;
      if (body.remembered) me = { remembered: true, words: body.words ?? {} };
      picking = false;
      $("feedback-msg").textContent = "";
      status("");
      renderAnswer();
      $("answer").scrollIntoView({ behavior: "smooth", block: "start" });
      if (body.remembered) refreshMe();
    } catch {
      status(tr(navigator.onLine ? "error.error" : "web.offline"), true);
    } finally {
      $("record").disabled = false;
      $("file").value = "";
    }
  }

  // The answer

  function renderAnswer() {
    const a = last;
    const unsure = a.not_sure && a.top.length >= 2;
    $("emoji").textContent = unsure ? "🤔" : emoji(a.label);
    const sentence = unsure
      ? tr("not_sure", {
          first: labelName(a.top[0].label),
          p1: percent(a.top[0].probability),
          second: labelName(a.top[1].label),
          p2: percent(a.top[1].probability),
        })
      : tr("answer", { emoji: emoji(a.label), label: labelName(a.label), confidence: percent(a.confidence) });
    // The sentence's own leading emoji is already shown large beside it.
    $("sentence").textContent = sentence.replace(/^\p{Extended_Pictographic}\uFE0F?\s*/u, "");
    // The face's lines (with the camera on), worded by the server in the page's language.
    $("face-line").textContent = a.face_text ?? "";
    $("face-line").hidden = !a.face_text;
    renderTop(a.top);
    renderCues(a);
    renderTimeline(a);
    renderMap(a);
    renderFeedback();
    $("answer").hidden = false;
  }

  // Music for the answer's mood (POST /api/music): worded by the server in the page's language.

  async function sendMusic(mode) {
    try {
      const response = await fetch("/api/music", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          valence: last.valence,
          arousal: last.arousal,
          not_sure: last.not_sure,
          mode,
          avoid: music.keys,
          lang,
        }),
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) {
        $("feedback-msg").textContent = body.error ?? tr("error.error");
        return;
      }
      music = { mode, keys: body.songs.map((song) => song.key) };
      renderMusic(body);
    } catch {
      $("feedback-msg").textContent = tr("web.offline");
    }
  }

  function renderMusic(body) {
    $("music-header").textContent = body.header;
    $("music-unsure").textContent = body.not_sure ?? "";
    $("music-why").textContent = body.why;
    $("music-songs").replaceChildren(
      ...body.songs.map((song) => {
        const li = document.createElement("li");
        const a = document.createElement("a");
        a.href = song.link;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        a.textContent = song.name;
        li.append(a);
        return li;
      }),
    );
    $("music").hidden = false;
  }

  function renderTop(top) {
    $("top").replaceChildren(
      ...top.map(({ label, probability }) => {
        const li = document.createElement("li");
        const name = document.createElement("span");
        name.textContent = `${emoji(label)} ${labelName(label)}`;
        const track = document.createElement("span");
        track.className = "track";
        const fillBar = document.createElement("span");
        fillBar.className = "fill";
        fillBar.style.display = "block";
        fillBar.style.width = percent(probability);
        fillBar.style.background = colour(label);
        fillBar.dataset.label = label;
        track.append(fillBar);
        const pct = document.createElement("span");
        pct.className = "pct";
        pct.textContent = percent(probability);
        li.append(name, track, pct);
        return li;
      }),
    );
  }

  function renderTimeline(a) {
    const long = a.timeline.length > 1;
    $("timeline").hidden = !long;
    if (!long) return;
    const total = a.duration_s || a.timeline[a.timeline.length - 1].end_s;
    $("strip").replaceChildren(
      ...a.timeline.map((seg) => {
        const share = Math.max(seg.end_s - seg.start_s, 0.01) / total;
        const part = document.createElement("div");
        // Widths are the stretches' share of the note at every screen width (min-width: 0 in
        // the CSS); an emoji is drawn only where the stretch has room for it, never clipped.
        part.style.flexGrow = String(share);
        part.style.background = colour(seg.label);
        part.dataset.label = seg.label;
        part.title = `${clock(seg.start_s)}–${clock(seg.end_s)} ${labelName(seg.label)} ${percent(seg.confidence)}`;
        if (share >= 0.09) part.textContent = emoji(seg.label);
        return part;
      }),
    );
    // "How the tone moved:" over a short list, one stretch a line, instead of one run-on title.
    $("steps").textContent = tr("timeline", { steps: "" }).trim();
    $("steps-list").replaceChildren(
      ...a.timeline.map((seg) => {
        const item = document.createElement("li");
        const swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.style.background = colour(seg.label);
        swatch.dataset.label = seg.label;
        item.append(
          swatch,
          seg.not_sure
            ? tr("timeline_unsure", { clock: clock(seg.start_s), label: labelName(seg.label) })
            : `${clock(seg.start_s)} ${emoji(seg.label)} ${labelName(seg.label)}`,
        );
        return item;
      }),
    );
  }

  // One row per cue: its name, a marker for this note against the reference (the middle line,
  // the shaded band where a difference is not noticeable), and the word, so colour is never the
  // only cue. Departures come from the server (inference.cues.departure), in tolerance units.
  function renderCues(a) {
    const reading = a.cue_reading ?? {};
    const against = reading.against;
    const measured = against && CUES.some((name) => a.cues[name]?.word);
    $("cue-line").textContent = measured ? (reading.line?.[lang] ?? "") : tr("web.cues_none");
    $("cue-explain").textContent = measured ? tr(`web.cues_explain.${against}`) : "";
    if (!measured) {
      $("cue-rows").replaceChildren();
      return;
    }
    // Across the track: the reference in the middle, +-3 tolerances at the ends, inset by the
    // dot's radius so a far-off dot is drawn whole.
    const share = (d) => (3 + Math.max(-3, Math.min(3, d))) / 6;
    const at = (d) => `calc(0.45rem + (100% - 0.9rem) * ${share(d)})`;
    const part = (className, style = {}) => {
      const el = document.createElement("span");
      el.className = className;
      Object.assign(el.style, style);
      return el;
    };
    $("cue-rows").replaceChildren(
      ...CUES.map((name) => {
        const cue = a.cues[name] ?? {};
        const word = cue.word ?? "";
        const li = document.createElement("li");
        li.dataset.cue = name;
        li.dataset.word = word;
        const label = document.createElement("span");
        label.className = "cue-name";
        label.textContent = tr(`web.cue.${name}`);
        const track = part("cue-track");
        track.setAttribute("aria-hidden", "true");
        track.append(
          part("band", { left: at(-1), width: `calc((100% - 0.9rem) * ${share(1) - share(-1)})` }),
          part("mid"),
        );
        const departure = reading.departures?.[name];
        if (departure !== null && departure !== undefined) {
          track.append(part("dot", { left: at(departure) }));
        }
        const said = document.createElement("span");
        said.className = "cue-word";
        said.textContent =
          word === "higher" || word === "lower"
            ? tr(`cue.${name}.${word}`)
            : word === "typical"
              ? tr(against === "own" ? "web.cue_as_usual" : "web.cue_typical")
              : tr("web.cue_none");
        li.append(label, track, said);
        return li;
      }),
    );
  }

  function svg(name, attrs, text) {
    const el = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    if (text !== undefined) el.textContent = text;
    return el;
  }

  // Valence left to right, arousal bottom to top, both -1..1, in a 240 x 240 box.
  function renderMap(a) {
    const x = (v) => 120 + 100 * v;
    const y = (ar) => 120 - 100 * ar;
    const parts = [
      svg("rect", { class: "frame", x: 4, y: 4, width: 232, height: 232, rx: 14 }),
      svg("line", { class: "axis", x1: 14, y1: 120, x2: 226, y2: 120 }),
      svg("line", { class: "axis", x1: 120, y1: 14, x2: 120, y2: 226 }),
      svg("text", { class: "axis-label", x: 228, y: 228, "text-anchor": "end" }, `${tr("chart.valence_short")} →`),
      svg("text", { class: "axis-label", x: 126, y: 22 }, `↑ ${tr("chart.arousal_short")}`),
    ];
    // The note's dot goes under the reference emoji, so it never hides its own answer's emoji,
    // which is drawn in full (the others are faded) and ringed in its tone's colour.
    const nx = x(a.valence);
    const ny = y(a.arousal);
    const own = a.not_sure ? null : a.label;
    parts.push(
      svg("circle", { class: "halo", cx: nx, cy: ny, r: 18, fill: colour(a.label) }),
      svg("circle", { class: "note", cx: nx, cy: ny, r: 8, fill: colour(a.label), "data-label": a.label }),
    );
    for (const label of cat.pickable) {
      const [v, ar] = cat.affect[label];
      if (label === own) {
        parts.push(svg("circle", { class: "own-ring", cx: x(v), cy: y(ar), r: 11, stroke: colour(label), "data-label": label }));
      }
      const spot = svg(
        "text",
        { class: label === own ? "spot own" : "spot", x: x(v), y: y(ar) + 5, "text-anchor": "middle", "data-label": label },
        emoji(label),
      );
      spot.append(svg("title", {}, labelName(label)));
      // The word to the right of its emoji (so close neighbours such as angry, fearful and
      // disgusted sit on their own lines), or to its left where the frame has no room.
      const right = x(v) < 170;
      const gap = label === own ? 15 : 12; // clear of the ring
      const word = svg(
        "text",
        { class: "spot-word", x: x(v) + (right ? gap : -gap), y: y(ar) + 4, "text-anchor": right ? "start" : "end" },
        labelName(label),
      );
      parts.push(spot, word);
    }
    parts.push(
      svg("text", { class: "note-label", x: nx, y: ny < 40 ? ny + 30 : ny - 22, "text-anchor": "middle" }, tr("web.map_note")),
    );
    $("map").replaceChildren(...parts);
  }

  // Feedback

  function button(text, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.addEventListener("click", onClick);
    return b;
  }

  function renderFeedback() {
    const box = $("feedback");
    if (!picking) {
      box.replaceChildren(
        button(tr("button.right"), () => sendFeedback(last.label)),
        button(tr("button.wrong"), () => {
          picking = true;
          renderFeedback();
        }),
      );
      return;
    }
    const prompt = document.createElement("p");
    prompt.className = "prompt";
    prompt.textContent = tr("pick.prompt");
    box.replaceChildren(
      prompt,
      ...cat.pickable.map((label) => button(`${emoji(label)} ${labelName(label)}`, () => sendFeedback(label))),
      button(tr("button.back"), () => {
        picking = false;
        renderFeedback();
      }),
    );
  }

  async function sendFeedback(label) {
    try {
      const response = await fetch("/api/feedback", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ label, note_id: last.note_id ?? null, lang }),
      });
      const body = await response.json().catch(() => ({}));
      $("feedback-msg").textContent = body.message ?? body.error ?? tr("error.error");
    } catch {
      $("feedback-msg").textContent = tr("web.offline");
    }
    picking = false;
    renderFeedback();
  }

  async function forget() {
    const response = await fetch(`/api/forget?lang=${lang}`, { method: "POST" });
    const body = await response.json().catch(() => ({}));
    $("forget-msg").textContent = body.message ?? tr("error.error");
    if (response.ok) {
      // Forgetting withdraws the opt-in too: nothing more is kept until it is ticked again.
      $("remember").checked = false;
      localStorage.removeItem("voicemood.remember");
      me = { remembered: false, words: {} };
      practice = { round: null, attempt: null, summary: null };
      if (last) renderAnswer();
      renderPractice();
      await refreshMe();
    }
  }

  // Tabs: Listen, Me, Practice

  function showTab(name) {
    for (const tab of ["listen", "me", "practice"]) {
      $(tab).hidden = tab !== name;
      $(`tab-${tab}`).setAttribute("aria-selected", String(tab === name));
    }
    if (name === "me") refreshMe();
    if (name === "practice" && !practice.round && !practice.summary) loadPractice();
  }

  // Practice: a tone and a sentence, attempts heard (never kept), a score, a summary

  function practiceStatus(text, error = false) {
    $("practice-status").textContent = text;
    $("practice-status").classList.toggle("error", error);
  }

  async function loadPractice() {
    try {
      const response = await fetch(`/api/practice?lang=${lang}`);
      const body = await response.json();
      practice.round = body.round;
      renderPractice();
    } catch {
      practiceStatus(tr("web.offline"), true);
    }
  }

  async function startPractice() {
    const response = await fetch("/api/practice/start", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ lang }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      practiceStatus(body.error ?? tr("error.error"), true);
      return;
    }
    practice = { round: body.round, attempt: null, summary: null };
    practiceStatus("");
    renderPractice();
  }

  async function sendAttempt(blob, name) {
    const form = new FormData();
    form.append("lang", lang);
    form.append("audio", blob, name);
    practiceStatus(tr("web.listening"));
    $("practice-record").disabled = true;
    try {
      const response = await fetch("/api/practice/attempt", { method: "POST", body: form });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) {
        practiceStatus(body.error ?? tr("error.error"), true);
        if (body.code === "no_practice") await loadPractice();
        return;
      }
      practice.attempt = body;
      practice.round = { ...practice.round, number: practice.round.number + 1 };
      practiceStatus("");
      renderPractice();
    } catch {
      practiceStatus(tr(navigator.onLine ? "error.error" : "web.offline"), true);
    } finally {
      $("practice-record").disabled = false;
      $("practice-file").value = "";
    }
  }

  async function stopPractice() {
    const response = await fetch("/api/practice/stop", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ lang }),
    });
    const body = await response.json().catch(() => ({}));
    practice = { round: null, attempt: null, summary: body.summary ?? null };
    practiceStatus(body.summary ? "" : (body.message ?? body.error ?? ""));
    renderPractice();
  }

  const lines = (text) =>
    text.split("\n").filter((line) => line.trim()).map((line) => {
      const p = document.createElement("p");
      p.textContent = line;
      return p;
    });

  function renderPractice() {
    if (!cat) return;
    const { round, attempt, summary } = practice;
    $("practice-round").hidden = !round;
    $("practice-idle").hidden = Boolean(round);
    $("practice-summary").hidden = !summary;
    if (summary) $("practice-summary").replaceChildren(...lines(summary.text[lang]));
    if (!round) return;
    $("practice-number").textContent = tr("web.practice.number", { number: round.number });
    $("practice-target").textContent = tr("web.practice.say", {
      emoji: emoji(round.tone),
      tone: cat.labels[lang][round.tone] ?? round.tone,
    });
    $("practice-target").dataset.tone = round.tone;
    $("practice-sentence").textContent = `“${round.sentence[lang]}”`;
    $("practice-result").hidden = !attempt;
    if (!attempt) return;
    $("practice-badge").textContent = attempt.hit ? `🎯 ${tr("web.practice.hit")}` : tr("web.practice.miss");
    $("practice-badge").dataset.hit = String(attempt.hit);
    $("practice-lines").replaceChildren(...lines(attempt.text[lang]));
  }

  // Me: history, export and words, for a remembered browser only

  async function refreshMe() {
    try {
      const response = await fetch(`/api/me?lang=${lang}`);
      if (!response.ok) return;
      const body = await response.json();
      me = { remembered: body.remembered, words: body.words ?? {} };
      $("me-status").textContent = body.message;
    } catch {
      return;
    }
    $("me-area").hidden = !me.remembered;
    if (!me.remembered) return;
    renderWords();
    await loadHistory();
  }

  async function loadHistory() {
    $("me-week").setAttribute("aria-pressed", String(period === "week"));
    $("me-month").setAttribute("aria-pressed", String(period === "month"));
    const response = await fetch(`/api/me/history?period=${period}&lang=${lang}`);
    const body = await response.json().catch(() => ({}));
    $("history-text").textContent = body.text ?? body.error ?? tr("error.error");
    const chart = $("history-chart");
    chart.hidden = !body.chart;
    if (body.chart) {
      chart.src = body.chart;
      chart.alt = tr("web.me.history_alt", { caption: body.text });
    } else {
      chart.removeAttribute("src");
    }
  }

  function renderToneChoices() {
    const select = $("word-tone");
    const chosen = select.value;
    select.replaceChildren(
      ...cat.pickable.map((label) => {
        const option = document.createElement("option");
        option.value = label;
        option.textContent = `${emoji(label)} ${cat.labels[lang][label] ?? label}`;
        return option;
      }),
    );
    if (chosen) select.value = chosen;
  }

  function renderWords() {
    const chosen = cat.pickable.filter((label) => me.words[label]);
    $("words-list").textContent = chosen.length
      ? tr("web.me.words_yours", {
          items: chosen.map((label) => `${cat.labels[lang][label]} → ${me.words[label]}`).join(", "),
        })
      : tr("web.me.words_none");
    $("words-reset").hidden = chosen.length === 0;
  }

  async function sendWords(body) {
    const response = await fetch("/api/me/words", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ...body, lang, remember: $("remember").checked }),
    });
    const answer = await response.json().catch(() => ({}));
    $("words-msg").textContent = answer.message ?? answer.error ?? tr("error.error");
    if (!response.ok) return;
    me = { remembered: true, words: answer.words ?? {} };
    $("word").value = "";
    if (last) renderAnswer();
    await refreshMe();
  }

  // Wiring

  function wire() {
    $("record").addEventListener("click", () => toggleRecording("listen"));
    $("practice-record").addEventListener("click", () => toggleRecording("practice"));
    $("practice-file").addEventListener("change", () => {
      const file = $("practice-file").files[0];
      if (file) sendAttempt(file, file.name);
    });
    $("practice-start").addEventListener("click", startPractice);
    $("practice-next").addEventListener("click", startPractice);
    $("practice-stop").addEventListener("click", stopPractice);
    for (const tab of ["listen", "me", "practice"]) {
      $(`tab-${tab}`).addEventListener("click", () => showTab(tab));
    }
    $("file").addEventListener("change", () => {
      const file = $("file").files[0];
      if (file) analyse(file, file.name);
    });
    const drop = $("drop");
    drop.addEventListener("dragover", (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (event) => {
      event.preventDefault();
      drop.classList.remove("over");
      const file = event.dataTransfer.files[0];
      if (file) analyse(file, file.name);
    });
    $("lang").addEventListener("click", () => {
      lang = cat.languages.find((l) => l !== lang);
      localStorage.setItem("voicemood.lang", lang);
      applyLanguage();
    });
    $("forget").addEventListener("click", forget);
    $("music-match").addEventListener("click", () => sendMusic("match"));
    $("music-lift").addEventListener("click", () => sendMusic("lift"));
    $("remember").checked = localStorage.getItem("voicemood.remember") === "1";
    $("remember").addEventListener("change", () => {
      const on = $("remember").checked;
      if (on) localStorage.setItem("voicemood.remember", "1");
      else localStorage.removeItem("voicemood.remember");
      if (!on && me.remembered) status(tr("web.remember_stopped"));
    });
    for (const [id, which] of [["me-week", "week"], ["me-month", "month"]]) {
      $(id).addEventListener("click", () => {
        period = which;
        loadHistory();
      });
    }
    $("words-form").addEventListener("submit", (event) => {
      event.preventDefault();
      sendWords({ label: $("word-tone").value, word: $("word").value });
    });
    $("words-reset").addEventListener("click", () => sendWords({ reset: true }));
  }

  async function start() {
    const response = await fetch("/api/messages");
    cat = await response.json();
    lang = chooseLanguage();
    applyLanguage();
    wire();
    $("record").disabled = false;
    document.body.dataset.ready = "true";
    if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
  }

  start();
})();
