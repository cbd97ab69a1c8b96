// The Server screen: live charts from INFO polled every second (drawn by hand on <canvas>),
// SLOWLOG, CLIENT LIST, replication, and a command box with COMMAND DOCS hints.

import { cmd, stats } from "./api.js";
import { el, render, text, list, pairs, splitArgs } from "./tree.js";

const POINTS = 120; // two minutes of history per chart
const $ = (id) => document.getElementById(id);

/** A line chart over a ring of the last POINTS values; ``data`` is readable by tests. */
export class Chart {
  constructor(parent, id, title, format = (v) => (v >= 10 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(1)), floor = 1) {
    this.id = id; this.title = title; this.format = format; this.floor = floor; this.data = [];
    this.value = el("span", { class: "muted" });
    this.canvas = el("canvas", { id: "chart-" + id, width: 600, height: 220 });
    parent.append(el("div", { class: "chart" }, el("h4", {}, title, this.value), this.canvas));
  }

  push(v) {
    this.data.push(v);
    if (this.data.length > POINTS) this.data.shift();
    this.value.textContent = this.format(v);
    this.draw();
  }

  draw() {
    const c = this.canvas; const g = c.getContext("2d");
    const w = c.width; const h = c.height; const pad = 28;
    g.clearRect(0, 0, w, h);
    const max = Math.max(this.floor, ...this.data) * 1.1;
    g.strokeStyle = "#e3e7eb"; g.fillStyle = "#6b7682"; g.font = "20px system-ui"; g.lineWidth = 1;
    for (let i = 0; i <= 2; i++) {
      const y = pad / 2 + (h - pad) * (i / 2);
      g.beginPath(); g.moveTo(0, y); g.lineTo(w, y); g.stroke();
      g.fillText(this.format(max * (1 - i / 2)), 4, y + (i === 2 ? -4 : 20));
    }
    if (this.data.length < 2) return;
    const step = w / (POINTS - 1);
    const x0 = w - step * (this.data.length - 1);
    const y = (v) => pad / 2 + (h - pad) * (1 - v / max);
    g.beginPath();
    this.data.forEach((v, i) => (i ? g.lineTo(x0 + i * step, y(v)) : g.moveTo(x0, y(v))));
    g.strokeStyle = "#c6302b"; g.lineWidth = 3; g.stroke();
    g.lineTo(x0 + (this.data.length - 1) * step, h - pad / 2); g.lineTo(x0, h - pad / 2); g.closePath();
    g.fillStyle = "rgba(198,48,43,0.08)"; g.fill();
  }
}

export function human(bytes) {
  const units = ["B", "K", "M", "G", "T"]; let i = 0; let v = bytes;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i ? v.toFixed(1) : String(Math.round(v))) + units[i];
}

export const server = { charts: {}, timer: null, last: null, polls: 0, docs: new Map() };

export function setup() {
  const box = $("charts");
  const c = server.charts;
  c.ops = new Chart(box, "ops", "ops/s");
  c.clients = new Chart(box, "clients", "connected clients");
  c.memory = new Chart(box, "memory", "memory (RSS)", human, 1024);
  c.disk = new Chart(box, "disk", "disk (SST files)", human, 1024);
  c.keys = new Chart(box, "keys", "keys (all dbs)");
  c.lag = new Chart(box, "lag", "replication lag (bytes)", human, 1024);
  $("slowlog-refresh").onclick = slowlog;
  $("clients-refresh").onclick = clients;
  const input = $("cmd-input");
  input.addEventListener("input", () => hint(input.value));
  input.addEventListener("keydown", async (e) => {
    if (e.key !== "Enter") return;
    const argv = splitArgs(input.value);
    if (!argv.length) return;
    const out = $("cmd-output");
    const reply = await cmd(argv, { resp: 2 });
    out.prepend(el("div", { class: "cmd-result" }, el("div", { class: "muted", text: "> " + input.value }), render(reply)));
    while (out.children.length > 20) out.lastChild.remove();
  });
}

export function start() {
  if (server.timer) return;
  poll(); slowlog(); clients();
  server.timer = setInterval(poll, 1000);
}

export function stop() { clearInterval(server.timer); server.timer = null; }

async function poll() {
  let s;
  try { s = await stats(); } catch { return; }
  const info = s.info;
  const st = info.stats || {};
  const c = server.charts;
  if (server.last) {
    const dt = Math.max(0.001, s.time - server.last.time);
    c.ops.push(Math.max(0, (st.total_commands_processed - server.last.commands) / dt));
  }
  server.last = { time: s.time, commands: st.total_commands_processed };
  c.clients.push((info.clients || {}).connected_clients || 0);
  c.memory.push((info.memory || {}).used_memory_rss || 0);
  c.disk.push(s.disk || 0);
  let keys = 0;
  for (const db of Object.values(info.keyspace || {})) keys += db.keys || 0;
  c.keys.push(keys);
  const repl = info.replication || {};
  const replicas = Object.entries(repl).filter(([k]) => /^slave\d+$/.test(k)).map(([, v]) => v);
  const lag = replicas.length ? Math.max(...replicas.map((r) => Math.max(0, (repl.master_repl_offset || 0) - (r.offset || 0)))) : 0;
  c.lag.push(lag);
  server.polls++;
  drawReplication(repl, replicas);
}

function drawReplication(repl, replicas) {
  const box = $("replication");
  box.innerHTML = "";
  const rows = [["role", repl.role]];
  if (repl.role === "slave") rows.push(["master", `${repl.master_host}:${repl.master_port}`], ["link", repl.master_link_status], ["offset", repl.slave_repl_offset]);
  else rows.push(["offset", repl.master_repl_offset], ["replicas", replicas.length]);
  const table = el("table", { class: "table", id: "replication-table" });
  for (const [k, v] of rows) table.append(el("tr", {}, el("th", { text: k }), el("td", { text: String(v ?? "") })));
  for (const r of replicas) table.append(el("tr", {}, el("th", { text: "replica" }), el("td", { text: `${r.ip}:${r.port} ${r.state} offset ${r.offset} lag ${r.lag}s` })));
  box.append(table);
}

async function slowlog() {
  const reply = await cmd(["SLOWLOG", "GET", 50]);
  const table = $("slowlog");
  table.innerHTML = "";
  table.append(el("tr", {}, ["id", "time", "µs", "command", "client"].map((h) => el("th", { text: h }))));
  for (const e of list(reply)) {
    const [id, at, us, args, addr, name] = e.v;
    table.append(el("tr", {}, el("td", { text: text(id) }), el("td", { text: new Date(Number(at.v) * 1000).toLocaleTimeString() }),
      el("td", { text: text(us) }), el("td", { text: list(args).map(text).join(" ") }),
      el("td", { text: `${addr ? text(addr) : ""} ${name ? text(name) : ""}` })));
  }
}

async function clients() {
  const reply = await cmd(["CLIENT", "LIST"]);
  const table = $("clients");
  table.innerHTML = "";
  const rows = text(reply).split("\n").filter(Boolean).map((line) =>
    Object.fromEntries(line.split(" ").map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)])));
  const cols = ["id", "addr", "name", "age", "idle", "db", "cmd", "flags"];
  table.append(el("tr", {}, cols.map((h) => el("th", { text: h }))));
  for (const r of rows) table.append(el("tr", {}, cols.map((h) => el("td", { text: r[h] ?? "" }))));
}

/** COMMAND DOCS of the typed command (and subcommand), cached per name. */
async function docsFor(name) {
  if (!server.docs.has(name)) {
    const reply = await cmd(["COMMAND", "DOCS", name], { resp: 3 });
    const found = pairs(reply).find(([k]) => text(k).toLowerCase() === name.toLowerCase());
    server.docs.set(name, found ? found[1] : null);
  }
  return server.docs.get(name);
}

function fields(r) { const o = {}; for (const [k, v] of pairs(r)) o[text(k)] = v; return o; }

function argText(a) {
  const f = fields(a);
  let s = f.token ? text(f.token) + (f.type && text(f.type) !== "pure-token" ? " " : "") : "";
  const t = text(f.type);
  if (t === "oneof" || t === "block") {
    const inner = list(f.arguments).map(argText).join(t === "oneof" ? " | " : " ");
    s += t === "oneof" ? `${inner}` : inner;
  } else if (t !== "pure-token") s += text(f.name);
  const flags = f.flags ? list(f.flags).map(text) : [];
  if (flags.includes("multiple")) s += " [" + s + " ...]";
  return flags.includes("optional") ? `[${s}]` : t === "oneof" ? `<${s}>` : s;
}

async function hint(line) {
  const box = $("cmd-hint");
  const argv = splitArgs(line);
  if (!argv.length) { box.innerHTML = ""; return; }
  let doc = await docsFor(argv[0]);
  let name = argv[0].toUpperCase();
  if (doc && argv[1]) {
    const subs = fields(doc).subcommands;
    const sub = subs && pairs(subs).find(([k]) => text(k).toLowerCase() === `${argv[0]}|${argv[1]}`.toLowerCase());
    if (sub) { doc = sub[1]; name += " " + argv[1].toUpperCase(); }
  }
  box.innerHTML = "";
  if (!doc) { box.append(el("span", { text: "unknown command" })); return; }
  const f = fields(doc);
  box.append(el("b", { text: name + " " }), list(f.arguments).map(argText).join(" "),
    el("div", { text: `${text(f.summary)}${f.since ? " · since " + text(f.since) : ""}${f.complexity ? " · " + text(f.complexity) : ""}` }));
}

