// The live web view: draws the topology once (/ui/topology.json, through the
// embedded Mermaid), then every second reads /ui/group.json and redraws the
// tables. Rates are computed here from two successive readings of a task's
// processed-records count and the time its replica published them.
"use strict";

const TOKEN_KEY = "gofka-status-token";
let token = sessionStorage.getItem(TOKEN_KEY) || "";
let asked = false;
const fromHash = location.hash.match(/token=([^&]+)/);
if (fromHash) {
  // The fragment never reaches the server or its logs; drop it from the bar.
  token = decodeURIComponent(fromHash[1]);
  sessionStorage.setItem(TOKEN_KEY, token);
  history.replaceState(null, "", location.pathname + location.search);
}

async function getJSON(path) {
  const headers = token ? { Authorization: "Bearer " + token } : {};
  const resp = await fetch(path, { headers, cache: "no-store" });
  if (resp.status === 401 && !asked) {
    asked = true; // ask once; a wrong token shows as an error, not a prompt a second
    const t = prompt("This status endpoint needs its token (--status-token-file):");
    if (t) {
      token = t.trim();
      sessionStorage.setItem(TOKEN_KEY, token);
      return getJSON(path);
    }
  }
  if (!resp.ok) throw new Error(`GET ${path}: ${resp.status} ${(await resp.text()).trim()}`);
  return resp.json();
}

// el makes an element with text children (never HTML: the data is not ours).
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : String(c ?? ""));
  return e;
}

function fill(id, rows) {
  document.querySelector(`#${id} tbody, ol#${id}`).replaceChildren(...rows);
}

const num = (n) => (n == null ? "" : Number(n).toLocaleString("en-US"));
const clock = (t) => (t ? new Date(t).toLocaleTimeString("en-GB") : "");
const secs = (s) => (s == null ? "" : s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(1)} s`);
const bytes = (b) => {
  if (!b) return "";
  const u = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
  return `${b.toFixed(i ? 1 : 0)} ${u[i]}`;
};

// Tasks sort as sub-topology then partition, numerically ("0_10" after "0_9").
const taskKey = (t) => t.split("_").map(Number);
const byTask = (a, b) => {
  const [x, y] = [taskKey(a), taskKey(b)];
  return x[0] - y[0] || x[1] - y[1];
};

async function drawTopology() {
  const box = document.getElementById("topology");
  try {
    const topo = await getJSON("/ui/topology.json");
    document.getElementById("title").textContent = `${topo.app_id} · ${topo.name}`;
    document.title = `${topo.app_id} · gofka streams`;
    mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "neutral" });
    // Left to right fits the page's wide section better than gofkagen's top-down.
    const text = topo.mermaid.replace(/^graph TD\b/, "graph LR");
    const { svg } = await mermaid.render("topology-svg", text);
    box.innerHTML = svg; // Mermaid's own output, sanitized by it (securityLevel strict)
    box.classList.remove("muted");
  } catch (err) {
    box.textContent = `cannot draw the topology: ${err.message}`;
    setTimeout(drawTopology, 2000);
  }
}

const prev = new Map(); // "replica/task" → {processed, at, rate}

function rateOf(replica, t, updated) {
  const key = `${replica}/${t.task}`;
  const at = Date.parse(updated);
  const p = prev.get(key);
  if (p && p.at === at) return p.rate;
  let rate = null;
  if (p && at > p.at && t.records_processed >= p.processed) {
    rate = ((t.records_processed - p.processed) * 1000) / (at - p.at);
  }
  prev.set(key, { processed: t.records_processed, at, rate });
  return rate;
}

function render(g) {
  const c = g.cluster || { members: [], assignment: {}, assignment_history: [], checkpoints: [] };
  // The coordinator names replicas by their Raft address; the page by their id.
  const names = new Map((c.members || []).map((m) => [m.addr, m.id]));
  const who = (addr) => (addr ? names.get(addr) || addr : "—");

  document.getElementById("summary").textContent =
    `replica ${g.self} · ${c.raft_state || "starting"} · leader ${c.leader_id || "none"} · epoch ${c.epoch ?? ""}`;
  document.getElementById("updated").textContent = `updated ${clock(Date.now())}`;
  document.getElementById("epoch").textContent = `epoch ${c.epoch ?? ""}`;
  renderMembers(c);
  const lags = standbyLags(g.replicas || []);
  fill("assignment", Object.keys(c.assignment || {}).sort(byTask).map((t) =>
    el("tr", { "data-task": t }, el("td", {}, t), el("td", { class: "owner" }, who(c.assignment[t])),
      el("td", { class: "standbys" }, ((c.standby || {})[t] || []).map((s) => {
        const lag = lags[`${who(s)} ${t}`];
        const name = (c.warmup || {})[t] === s ? `${who(s)} warm-up` : who(s);
        return lag == null ? name : `${name} (${num(lag)})`;
      }).join(", ")))));
  renderTasks(g.replicas || []);
  fill("history", (c.assignment_history || []).slice().reverse().map((h) =>
    el("li", {}, el("b", {}, `epoch ${h.epoch}`), ` ${clock(h.time)} · ${h.reason || ""}`,
      el("div", { class: "muted" }, (h.moves || []).map((mv) => `${mv.task}${mv.warmup ? " warm-up" : mv.standby ? " standby" : ""}: ${who(mv.from)} → ${who(mv.to)}`).join(", ")))));
  renderCheckpoints(c.checkpoints || [], g.local_checkpoints || [], who);
}

// standbyLags maps "<replica> <task>" to the lag that replica reports for
// its standby of the task.
function standbyLags(replicas) {
  const out = {};
  for (const r of replicas) {
    for (const s of (r.view && r.view.standbys) || []) {
      if (s.lag >= 0) out[`${r.id} ${s.task}`] = s.lag;
    }
  }
  return out;
}

function renderMembers(c) {
  const members = (c.members || []).slice().sort((a, b) => a.id.localeCompare(b.id, "en", { numeric: true }));
  fill("members", members.map((m) =>
    el("tr", { "data-member": m.id },
      el("td", {}, m.id, m.id === c.leader_id ? el("span", { class: "badge" }, "leader") : ""),
      el("td", {}, m.addr),
      el("td", { class: m.state }, m.state),
      el("td", {}, m.suffrage),
      el("td", { class: "num" }, m.tasks),
      el("td", {}, m.last_heard_ms_ago == null ? "" : `${m.last_heard_ms_ago} ms ago`))));
}

// renderTasks lists every member's tasks, then the members whose view could
// not be read, with why.
function renderTasks(replicas) {
  const rows = [];
  for (const r of replicas) {
    if (!r.view) {
      rows.push({ task: "", tr: el("tr", {}, el("td", { class: "muted" }, "—"), el("td", {}, r.id),
        el("td", { class: "dead", colspan: 7 }, r.error || "no view")) });
      continue;
    }
    for (const t of r.view.tasks || []) {
      const rate = rateOf(r.id, t, r.view.updated);
      rows.push({ task: t.task, tr: el("tr", { "data-task": t.task, "data-replica": r.id },
        el("td", {}, t.task), el("td", {}, r.id),
        el("td", { class: "num lag" }, num(t.input_lag)),
        el("td", { class: "num rate" }, rate == null ? "…" : num(Math.round(rate))),
        el("td", { class: "num" }, num(t.records_processed)),
        el("td", {}, t.state_from), el("td", { class: "num" }, secs(t.restore_seconds)),
        el("td", {}, t.stream_time_ms >= 0 ? clock(t.stream_time_ms) : ""),
        el("td", { class: "num" }, num(t.late_records))) });
    }
  }
  rows.sort((a, b) => (a.task && b.task ? byTask(a.task, b.task) : a.task ? -1 : b.task ? 1 : 0));
  fill("tasks", rows.map((r) => r.tr));
}

function renderCheckpoints(checkpoints, local, who) {
  fill("checkpoints", checkpoints.slice().reverse().map((cp) => {
    const acks = Object.values(cp.acks || {});
    const took = cp.finished ? (Date.parse(cp.finished) - Date.parse(cp.started)) / 1000 : null;
    const note = cp.reason || (cp.aborted_by ? `aborted by ${who(cp.aborted_by)} (${cp.failed_task})` : cp.expired ? "expired" : "");
    return el("tr", { "data-checkpoint": cp.id },
      el("td", {}, cp.id), el("td", { class: cp.state }, cp.state), el("td", {}, cp.epoch), el("td", {}, clock(cp.started)),
      el("td", { class: "num" }, secs(took)), el("td", { class: "num" }, `${acks.length}/${(cp.expected || []).length}`),
      el("td", { class: "num" }, bytes(acks.reduce((s, a) => s + (a.bytes || 0), 0))), el("td", { class: "note" }, note));
  }));
  fill("local-checkpoints", local.slice(-20).reverse().map((p) =>
    el("tr", {}, el("td", {}, p.id), el("td", {}, p.task), el("td", { class: "num" }, p.files ?? ""),
      el("td", { class: "num" }, bytes(p.new_bytes)), el("td", { class: "num" }, secs(p.duration_ns / 1e9)),
      el("td", { class: "dead" }, p.error || ""))));
}

async function poll() {
  const banner = document.getElementById("error");
  try {
    render(await getJSON("/ui/group.json"));
    banner.hidden = true;
  } catch (err) {
    banner.textContent = `${err.message} (retrying)`;
    banner.hidden = false;
  }
  setTimeout(poll, 1000);
}

drawTopology();
poll();
