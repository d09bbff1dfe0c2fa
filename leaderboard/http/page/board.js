"use strict";
// A board's live page: the top 100 of a scope from the public API, kept current by the
// scope's event stream (read with fetch, so that a key can go in a header), redrawn at
// most once per animation frame however many events arrive.
const SHOWN = 100;
const KEY = "leaderboard-key";
const QUIET_MS = 40000; // no byte for this long (heartbeats come every 15 s): reconnect
const board = decodeURIComponent(location.pathname.split("/")[2] || "default");
const api = "/v1/boards/" + encodeURIComponent(board);
const $ = (id) => document.getElementById(id);
const state = {
  order: "desc", scores: new Map(), info: new Map(),
  fresh: new Set(), asked: new Set(), follow: null, drawing: false,
};

class NeedsKey extends Error {}

function headers() {
  const key = sessionStorage.getItem(KEY);
  return key ? { Authorization: "Bearer " + key } : {};
}

async function getJson(path) {
  const res = await fetch(path, { headers: headers() });
  if (res.status === 401 || res.status === 403) throw new NeedsKey();
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ? body.error.message : res.statusText);
  return body;
}

function say(text) { $("status").textContent = text; }

function askKey() {
  if (state.follow) state.follow.abort();
  sessionStorage.removeItem(KEY);
  $("key-form").hidden = false;
  $("key").focus();
  say("this board needs a client key");
}

function fail(err) {
  if (err instanceof NeedsKey) askKey();
  else say(String(err.message || err));
}

function ahead(a, b) { // [id, score] pairs in list order: better score, then id (byte-wise)
  if (a[1] !== b[1]) return (state.order === "desc" ? b[1] - a[1] : a[1] - b[1]);
  return a[0] < b[0] ? -1 : (a[0] > b[0] ? 1 : 0);
}

function details(metadata) {
  if (!metadata) return "";
  return Object.entries(metadata).map(([k, v]) =>
    k + ": " + (typeof v === "string" ? v : JSON.stringify(v))).join(", ");
}

function draw() {
  state.drawing = false;
  const rows = [...state.scores.entries()].sort(ahead).slice(0, SHOWN);
  const body = document.createElement("tbody");
  let rank = 0;
  rows.forEach(([pid, score], i) => {
    if (i === 0 || score !== rows[i - 1][1]) rank = i + 1;
    const info = state.info.get(pid) || {};
    const tr = body.insertRow();
    tr.dataset.player = pid;
    for (const [text, kind] of [[rank, "rank"], [info.name || pid, "player"], [score, "score"],
      [info.region || "", "region"], [details(info.metadata), "details"]]) {
      const td = tr.insertCell();
      td.className = kind;
      td.textContent = text;
    }
  });
  $("top").tBodies[0].replaceWith(body);
  $("empty").hidden = rows.length > 0;
  learn(rows.map(([pid]) => pid).filter((pid) => !state.fresh.has(pid)));
}

function redraw() {
  if (!state.drawing) {
    state.drawing = true;
    requestAnimationFrame(draw);
  }
}

function remember(entry) {
  state.info.set(entry.player_id,
    { name: entry.name, region: entry.region, metadata: entry.metadata });
  state.fresh.add(entry.player_id);
}

async function learn(ids) { // names, regions and metadata of players events changed
  if (state.asked.size) return; // one lookup at a time, however fast events come
  const wanted = ids.slice(0, 100);
  if (!wanted.length) return;
  wanted.forEach((pid) => state.asked.add(pid));
  try {
    const found = await getJson(api + "/players?ids=" + wanted.map(encodeURIComponent).join(","));
    found.entries.forEach(remember);
    wanted.forEach((pid) => state.fresh.add(pid)); // missing ones too: not asked again
    redraw();
  } catch (err) {
    // asked again at the next change
  } finally {
    wanted.forEach((pid) => state.asked.delete(pid));
  }
}

function apply(event) { // the player may have changed region or name too: asked again
  if (event.type === "reset") state.scores.clear(); // a new period starts empty
  else if (event.type === "left") state.scores.delete(event.player_id);
  else state.scores.set(event.player_id, event.score);
  state.fresh.delete(event.player_id);
  redraw();
}

async function stream(scope, control, onOpen, onEvent) {
  let last = null;
  let pause = 500;
  while (!control.signal.aborted) {
    const conn = new AbortController();
    const stop = () => conn.abort();
    control.signal.addEventListener("abort", stop);
    let quiet = setTimeout(stop, QUIET_MS);
    try {
      const h = headers();
      if (last) h["Last-Event-ID"] = last;
      const url = api + "/events/stream?scope=" + encodeURIComponent(scope);
      const res = await fetch(url, { headers: h, signal: conn.signal });
      if (res.status === 401 || res.status === 403) { askKey(); return; }
      if (!res.ok) throw new Error("event stream: " + res.status);
      say("live");
      pause = 500;
      onOpen(stop);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        clearTimeout(quiet);
        quiet = setTimeout(stop, QUIET_MS);
        text += value;
        let cut;
        while ((cut = text.indexOf("\n\n")) >= 0) {
          const block = text.slice(0, cut);
          text = text.slice(cut + 2);
          let data = "";
          for (const line of block.split("\n")) {
            if (line.startsWith("id: ")) last = line.slice(4);
            else if (line.startsWith("data: ")) data += line.slice(6);
          }
          if (data) onEvent(JSON.parse(data));
        }
      }
    } catch (err) {
      // a dropped or stopped connection: tried again below
    } finally {
      clearTimeout(quiet);
      control.signal.removeEventListener("abort", stop);
    }
    if (control.signal.aborted) return;
    say("reconnecting…");
    await new Promise((done) => setTimeout(done, pause));
    pause = Math.min(pause * 2, 5000);
  }
}

function show(scope) {
  // At each (re)connection the stream opens first and what it brings waits until the top
  // page is read again: every change after that read is then applied, in order, on top
  // of it, also those made while the page was cut off.
  if (state.follow) state.follow.abort();
  const control = new AbortController();
  state.follow = control;
  state.scores = new Map();
  let waiting = null;
  for (const tab of $("tabs").children) {
    const on = tab.dataset.scope === scope;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
  }
  $("top-title").textContent = "Top " + SHOWN + (scope === "global" ? "" : " in " + scope);
  redraw();
  const loadTop = async (reconnect) => {
    waiting = [];
    try {
      const page = await getJson(api + "/top?limit=" + SHOWN + "&scope=" + encodeURIComponent(scope));
      if (control.signal.aborted) return;
      state.scores = new Map();
      page.entries.forEach((e) => { state.scores.set(e.player_id, e.score); remember(e); });
      waiting.forEach(apply);
      waiting = null;
      redraw();
    } catch (err) {
      fail(err);
      if (!(err instanceof NeedsKey)) reconnect(); // and read the top again then
    }
  };
  stream(scope, control, loadTop, (event) => (waiting ? waiting.push(event) : apply(event)));
}

function tabs(scopes) {
  const nav = $("tabs");
  nav.replaceChildren();
  for (const scope of scopes) {
    const tab = document.createElement("button");
    tab.type = "button";
    tab.setAttribute("role", "tab");
    tab.dataset.scope = scope;
    tab.id = "tab-" + scope;
    tab.textContent = scope;
    tab.addEventListener("click", () => show(scope));
    tab.addEventListener("keydown", (e) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
      if (!step) return;
      const next = scopes[(scopes.indexOf(scope) + step + scopes.length) % scopes.length];
      show(next);
      $("tab-" + next).focus();
    });
    nav.append(tab);
  }
}

async function search(event) {
  event.preventDefault();
  const pid = $("player").value.trim();
  const out = $("found");
  out.replaceChildren();
  if (!pid) return;
  try {
    const me = await getJson(api + "/players/" + encodeURIComponent(pid));
    const around = await getJson(api + "/players/" + encodeURIComponent(pid) + "/around?radius=3");
    const line = document.createElement("p");
    line.id = "ranks";
    line.textContent = (me.name || pid) + ": global rank " + me.rank.global + " of " +
      me.total.global + ", rank " + me.rank.region + " of " + me.total.region + " in " + me.region;
    const table = document.createElement("table");
    table.id = "around";
    table.createTHead().insertRow().append(...["Rank", "Player", "Score"].map((t) => {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = t;
      return th;
    }));
    const body = table.createTBody();
    for (const e of around.entries) {
      const tr = body.insertRow();
      if (e.player_id === pid) tr.className = "me";
      for (const text of [e.rank, e.name || e.player_id, e.score]) tr.insertCell().textContent = text;
    }
    out.append(line, table);
  } catch (err) {
    if (err instanceof NeedsKey) askKey();
    else out.textContent = String(err.message || err);
  }
}

async function start() {
  try {
    const config = await getJson(api);
    state.order = config.order;
    document.title = board + " · leaderboard";
    $("title").textContent = board;
    tabs(["global", ...config.regions]);
    show("global");
  } catch (err) {
    fail(err);
  }
}

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, $("key").value);
  $("key-form").hidden = true;
  start();
});
$("search").addEventListener("submit", search);
start();
