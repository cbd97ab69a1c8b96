// The key browser: paged SCAN (never KEYS), a tree by ":" over the keys loaded so far, and a
// viewer/editor per type that reads values in pages (GETRANGE, HSCAN, LRANGE, SSCAN, ZRANGE,
// XRANGE) so a huge value is never loaded whole.

import { cmd, batch, must, state } from "./api.js";
import { el, text, arg, list, pairs, bytesOf, confirmDialog, render } from "./tree.js";

const SCAN_COUNT = 1000;     // COUNT hint per SCAN call
const PAGE_KEYS = 300;       // keys per "Scan more"
const MAX_CALLS = 20;        // SCAN calls per page: a sparse pattern cannot loop forever
const STRING_PAGE = 16384;   // bytes of a string shown per page
const ITEMS = 100;           // hash fields, list items, members per page
const CLIP = 4096;           // characters of one field / item / member shown (server clips)
const PAGE = { maxBulk: CLIP };

export const keys = { loaded: new Map(), cursor: "0", scanned: 0, done: false, selected: null, busy: false };
const $ = (id) => document.getElementById(id);

export function setup() {
  $("key-scan").onclick = () => startScan();
  $("key-pattern").addEventListener("keydown", (e) => { if (e.key === "Enter") startScan(); });
  $("key-type").onchange = () => startScan();
  $("key-more").onclick = () => scanPage();
}

export async function startScan() {
  // a new scan supersedes one in flight: its pages are dropped when they arrive (generation)
  keys.generation = (keys.generation || 0) + 1;
  keys.loaded = new Map(); keys.cursor = "0"; keys.scanned = 0; keys.done = false;
  keys.busy = false;
  $("key-tree").innerHTML = "";
  await scanPage();
}

async function scanPage() {
  if (keys.busy) return;
  keys.busy = true;
  const generation = keys.generation;
  const stale = () => generation !== keys.generation;
  try {
    const pattern = $("key-pattern").value || "*";
    const type = $("key-type").value;
    const fresh = [];
    for (let calls = 0; calls < MAX_CALLS && fresh.length < PAGE_KEYS && !keys.done; calls++) {
      const argv = ["SCAN", keys.cursor, "MATCH", pattern, "COUNT", SCAN_COUNT];
      if (type) argv.push("TYPE", type);
      const reply = await must(argv);
      if (stale()) return;
      keys.cursor = text(reply.v[0]);
      keys.scanned += 1;
      for (const k of list(reply.v[1])) {
        const name = text(k);
        if (!keys.loaded.has(name)) { keys.loaded.set(name, { reply: k, type }); fresh.push(name); }
      }
      if (keys.cursor === "0") keys.done = true;
    }
    if (!type && fresh.length) {
      const types = await batch(fresh.map((n) => ["TYPE", arg(keys.loaded.get(n).reply)]));
      if (stale()) return;
      fresh.forEach((n, i) => { keys.loaded.get(n).type = text(types[i]); });
    }
    $("key-status").textContent = `${keys.loaded.size} key(s) loaded` + (keys.done ? ", scan complete" : `, cursor ${keys.cursor}`);
    $("key-more").hidden = keys.done;
    drawTree();
  } catch (e) {
    if (!stale()) $("key-status").textContent = e.message;
  } finally {
    if (!stale()) keys.busy = false;
  }
}

/** Group loaded keys by ":" segments; folders render their children only when opened. */
function buildTree() {
  const root = { folders: new Map(), leaves: [], count: 0 };
  for (const [name, info] of keys.loaded) {
    const parts = name.split(":");
    let node = root; node.count++;
    for (let i = 0; i < parts.length - 1; i++) {
      if (!node.folders.has(parts[i])) node.folders.set(parts[i], { folders: new Map(), leaves: [], count: 0 });
      node = node.folders.get(parts[i]); node.count++;
    }
    node.leaves.push([name, info]);
  }
  return root;
}

const openFolders = new Set();

function drawTree() {
  const box = $("key-tree");
  box.innerHTML = "";
  box.append(drawNode(buildTree(), ""));
}

function drawNode(node, prefix) {
  const frag = document.createDocumentFragment();
  for (const [name, child] of [...node.folders].sort((a, b) => a[0].localeCompare(b[0]))) {
    const path = prefix + name + ":";
    if (child.count === 1 && child.folders.size === 0) { frag.append(leaf(...child.leaves[0])); continue; }
    const open = openFolders.has(path);
    const head = el("div", { class: "node folder" + (open ? " open" : ""), "data-folder": path },
      name + ":", el("span", { class: "count", text: ` (${child.count})` }));
    const kids = el("div", { class: "children" });
    if (open) kids.append(drawNode(child, path));
    head.onclick = () => {
      if (openFolders.has(path)) { openFolders.delete(path); kids.innerHTML = ""; head.classList.remove("open"); }
      else { openFolders.add(path); kids.append(drawNode(child, path)); head.classList.add("open"); }
    };
    frag.append(head, kids);
  }
  for (const [name, info] of node.leaves.sort((a, b) => a[0].localeCompare(b[0]))) frag.append(leaf(name, info));
  return frag;
}

function leaf(name, info) {
  const node = el("div", { class: "node key" + (keys.selected === name ? " selected" : ""), "data-key": name, title: name },
    el("span", { class: "badge " + info.type, text: info.type || "?" }), name);
  node.onclick = () => {
    document.querySelectorAll("#key-tree .selected").forEach((n) => n.classList.remove("selected"));
    node.classList.add("selected");
    openKey(name);
  };
  return node;
}

// --- one key -------------------------------------------------------------------------------
export async function openKey(name) {
  keys.selected = name;
  const info = keys.loaded.get(name);
  const key = info ? arg(info.reply) : name;
  const box = $("key-detail");
  box.innerHTML = "";
  const [typeR, ttlR] = await batch([["TYPE", key], ["PTTL", key]]);
  const type = text(typeR);
  if (type === "none") { box.append(el("p", { class: "muted", text: `${name}: no such key (expired or deleted)` })); return; }
  const ttl = Number(ttlR.v);
  const ttlInput = el("input", { id: "ttl-input", size: 8, value: ttl > 0 ? Math.ceil(ttl / 1000) : "" , placeholder: "no TTL" });
  const renameInput = el("input", { id: "rename-input", value: name, size: 24 });
  const status = el("span", { id: "key-msg", class: "muted" });
  box.append(el("div", { class: "key-head" },
    el("span", { class: "badge " + type, text: type }), el("h2", { text: name }),
    el("span", { id: "ttl-view", class: "muted", text: ttl >= 0 ? `TTL ${(ttl / 1000).toFixed(1)} s` : "no TTL" }),
    el("label", {}, "TTL (s) ", ttlInput),
    el("button", { id: "ttl-apply", onclick: async () => {
      const v = ttlInput.value.trim();
      const r = v === "" || v === "-1" ? await cmd(["PERSIST", key]) : await cmd(["EXPIRE", key, v]);
      status.textContent = r.t === "error" ? r.v : "TTL updated";
      if (r.t !== "error") openKey(name);
    } }, "Set TTL"),
    renameInput,
    el("button", { id: "rename-apply", onclick: async () => {
      const r = await cmd(["RENAME", key, renameInput.value]);
      if (r.t === "error") { status.textContent = r.v; return; }
      keys.loaded.delete(name); keys.loaded.set(renameInput.value, { reply: { t: "bulk", v: renameInput.value }, type });
      drawTree(); openKey(renameInput.value);
    } }, "Rename"),
    el("button", { id: "key-delete", class: "danger", onclick: async () => {
      if (!(await confirmDialog(`Delete key "${name}"?`))) return;
      const r = await cmd(["DEL", key]);
      if (r.t === "error") { status.textContent = r.v; return; }
      keys.loaded.delete(name); drawTree();
      box.innerHTML = ""; box.append(el("p", { id: "key-deleted", class: "muted", text: `Deleted ${name}.` }));
    } }, "Delete"),
    status));
  const body = el("div", { id: "key-body", "data-type": type });
  box.append(body);
  const viewer = VIEWERS[type] || generic;
  await viewer(body, key, status);
}

// A value the server clipped (max_bulk) is shown read-only: editing or deleting it would send
// its first CLIP characters back as if they were the whole value.
const clipped = (r) => r && r.clipped !== undefined;
const note = (r) => (clipped(r) ? ` … (first ${CLIP} of ${r.clipped} bytes, read-only)` : "");

function pager(onPrev, onNext, label) {
  return el("div", { class: "toolbar pager" },
    el("button", { class: "prev", disabled: !onPrev, onclick: onPrev }, "‹ prev"),
    el("span", { class: "muted", text: label }),
    el("button", { class: "next", disabled: !onNext, onclick: onNext }, "next ›"));
}

function hex(bytes) {
  const rows = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const chunk = bytes.slice(i, i + 16);
    const h = [...chunk].map((b) => b.toString(16).padStart(2, "0")).join(" ");
    const a = [...chunk].map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : ".")).join("");
    rows.push(i.toString(16).padStart(8, "0") + "  " + h.padEnd(48) + "  " + a);
  }
  return rows.join("\n");
}

async function viewString(body, key, status, offset = 0, view = "text") {
  const [lenR, chunk] = await batch([["STRLEN", key], ["GETRANGE", key, offset, offset + STRING_PAGE - 1]]);
  const size = Number(lenR.v);
  const whole = size <= STRING_PAGE;
  body.innerHTML = "";
  const views = el("div", { class: "toolbar views" });
  for (const v of ["text", "json", "hex"]) {
    views.append(el("button", { class: v === view ? "active" : "", "data-view": v,
      onclick: () => viewString(body, key, status, offset, v) }, v.toUpperCase()));
  }
  views.append(el("span", { class: "muted", text: `${size} bytes` }));
  body.append(views);
  let shown = text(chunk);
  if (view === "hex") shown = hex(bytesOf(chunk));
  else if (view === "json") {
    try { shown = JSON.stringify(JSON.parse(text(chunk)), null, 2); }
    catch (e) { shown = whole ? `not JSON: ${e.message}` : "JSON view needs the whole value (larger than one page)"; }
  }
  if (!whole) {
    body.append(pager(offset > 0 ? () => viewString(body, key, status, Math.max(0, offset - STRING_PAGE), view) : null,
      offset + STRING_PAGE < size ? () => viewString(body, key, status, offset + STRING_PAGE, view) : null,
      `bytes ${offset}–${Math.min(size, offset + STRING_PAGE) - 1} of ${size} (truncated)`));
  }
  if (whole && view === "text" && chunk.b64 === undefined) {
    const area = el("textarea", { id: "string-value", rows: 12, class: "value-edit" });
    area.value = chunk.v;
    area.style.width = "100%";
    body.append(area, el("button", { id: "string-save", onclick: async () => {
      const r = await cmd(["SET", key, area.value, "KEEPTTL"]);
      status.textContent = r.t === "error" ? r.v : "saved";
    } }, "Save"));
  } else {
    body.append(el("pre", { class: "value", id: "string-value", text: shown }));
  }
}

async function viewHash(body, key, status, cursor = "0", history = []) {
  const [lenR, page] = await batch([["HLEN", key], ["HSCAN", key, cursor, "COUNT", ITEMS]], PAGE);
  const next = text(page.v[0]);
  body.innerHTML = "";
  const table = el("table", { class: "table", id: "hash-table" }, el("tr", {}, el("th", { text: "field" }), el("th", { text: "value" }), el("th", {})));
  for (const [f, v] of pairs(page.v[1])) {
    if (clipped(f) || clipped(v)) {
      table.append(el("tr", { "data-field": text(f), class: "clipped" }, el("td", { text: text(f) + note(f) }),
        el("td", { text: text(v) + note(v) }), el("td", {})));
      continue;
    }
    const input = el("input", { class: "field-value", value: text(v), size: 40 });
    table.append(el("tr", { "data-field": text(f) }, el("td", { text: text(f) }), el("td", {}, input),
      el("td", {},
        el("button", { class: "field-save", onclick: async () => {
          const r = await cmd(["HSET", key, arg(f), input.value]);
          status.textContent = r.t === "error" ? r.v : `saved ${text(f)}`;
        } }, "Save"),
        el("button", { class: "field-del", onclick: async () => {
          if (!(await confirmDialog(`Delete field "${text(f)}"?`))) return;
          await cmd(["HDEL", key, arg(f)]); viewHash(body, key, status, cursor, history);
        } }, "×"))));
  }
  const nf = el("input", { id: "new-field", placeholder: "field" });
  const nv = el("input", { id: "new-value", placeholder: "value" });
  body.append(el("div", { class: "muted", text: `${lenR.v} field(s)` }), table,
    pager(history.length ? () => viewHash(body, key, status, history.at(-1), history.slice(0, -1)) : null,
      next !== "0" ? () => viewHash(body, key, status, next, [...history, cursor]) : null, `HSCAN cursor ${cursor}`),
    el("div", { class: "toolbar" }, nf, nv, el("button", { id: "field-add", onclick: async () => {
      const r = await cmd(["HSET", key, nf.value, nv.value]);
      status.textContent = r.t === "error" ? r.v : "added";
      viewHash(body, key, status, cursor, history);
    } }, "Add field")));
}

async function viewList(body, key, status, start = 0) {
  const [lenR, page] = await batch([["LLEN", key], ["LRANGE", key, start, start + ITEMS - 1]], PAGE);
  const size = Number(lenR.v);
  body.innerHTML = "";
  const table = el("table", { class: "table", id: "list-table" }, el("tr", {}, el("th", { text: "index" }), el("th", { text: "value" }), el("th", {})));
  list(page).forEach((item, i) => {
    if (clipped(item)) {
      table.append(el("tr", { class: "clipped" }, el("td", { text: String(start + i) }), el("td", { text: text(item) + note(item) }), el("td", {})));
      return;
    }
    const input = el("input", { class: "item-value", value: text(item), size: 50 });
    table.append(el("tr", {}, el("td", { text: String(start + i) }), el("td", {}, input),
      el("td", {}, el("button", { onclick: async () => {
        const r = await cmd(["LSET", key, start + i, input.value]);
        status.textContent = r.t === "error" ? r.v : `saved index ${start + i}`;
      } }, "Save"))));
  });
  body.append(el("div", { class: "muted", text: `${size} item(s)` }), table,
    pager(start > 0 ? () => viewList(body, key, status, Math.max(0, start - ITEMS)) : null,
      start + ITEMS < size ? () => viewList(body, key, status, start + ITEMS) : null,
      `items ${start}–${Math.min(size, start + ITEMS) - 1}`));
}

async function viewSet(body, key, status, cursor = "0", history = []) {
  const [lenR, page] = await batch([["SCARD", key], ["SSCAN", key, cursor, "COUNT", ITEMS]], PAGE);
  const next = text(page.v[0]);
  body.innerHTML = "";
  const table = el("table", { class: "table", id: "set-table" }, el("tr", {}, el("th", { text: "member" }), el("th", {})));
  for (const m of list(page.v[1])) {
    if (clipped(m)) { table.append(el("tr", { class: "clipped" }, el("td", { text: text(m) + note(m) }), el("td", {}))); continue; }
    table.append(el("tr", {}, el("td", { text: text(m) }), el("td", {}, el("button", { onclick: async () => {
      await cmd(["SREM", key, arg(m)]); viewSet(body, key, status, cursor, history);
    } }, "×"))));
  }
  const nm = el("input", { id: "new-member", placeholder: "member" });
  body.append(el("div", { class: "muted", text: `${lenR.v} member(s)` }), table,
    pager(history.length ? () => viewSet(body, key, status, history.at(-1), history.slice(0, -1)) : null,
      next !== "0" ? () => viewSet(body, key, status, next, [...history, cursor]) : null, `SSCAN cursor ${cursor}`),
    el("div", { class: "toolbar" }, nm, el("button", { onclick: async () => {
      await cmd(["SADD", key, nm.value]); viewSet(body, key, status, cursor, history);
    } }, "Add member")));
}

async function viewZset(body, key, status, start = 0) {
  const [lenR, page] = await batch([["ZCARD", key], ["ZRANGE", key, start, start + ITEMS - 1, "WITHSCORES"]], PAGE);
  const size = Number(lenR.v);
  body.innerHTML = "";
  const table = el("table", { class: "table", id: "zset-table" }, el("tr", {}, el("th", { text: "rank" }), el("th", { text: "member" }), el("th", { text: "score" }), el("th", {})));
  pairs(page).forEach(([m, s], i) => {
    if (clipped(m)) {
      table.append(el("tr", { class: "clipped" }, el("td", { text: String(start + i) }), el("td", { text: text(m) + note(m) }), el("td", { text: text(s) }), el("td", {})));
      return;
    }
    const input = el("input", { class: "score", value: text(s), size: 12 });
    table.append(el("tr", {}, el("td", { text: String(start + i) }), el("td", { text: text(m) }), el("td", {}, input),
      el("td", {}, el("button", { onclick: async () => {
        const r = await cmd(["ZADD", key, input.value, arg(m)]);
        status.textContent = r.t === "error" ? r.v : "score saved";
      } }, "Save"))));
  });
  body.append(el("div", { class: "muted", text: `${size} member(s)` }), table,
    pager(start > 0 ? () => viewZset(body, key, status, Math.max(0, start - ITEMS)) : null,
      start + ITEMS < size ? () => viewZset(body, key, status, start + ITEMS) : null,
      `ranks ${start}–${Math.min(size, start + ITEMS) - 1}`));
}

async function viewStream(body, key, status, from = "-", history = []) {
  // generic over XRANGE's reply: entries are [id, [field, value, ...]]
  const [lenR, page] = await batch([["XLEN", key], ["XRANGE", key, from, "+", "COUNT", ITEMS]], PAGE);
  body.innerHTML = "";
  if (page.t === "error") { body.append(el("p", { class: "error", text: page.v })); return; }
  const table = el("table", { class: "table", id: "stream-table" }, el("tr", {}, el("th", { text: "id" }), el("th", { text: "fields" })));
  const entries = list(page);
  for (const entry of entries) {
    const [id, fields] = entry.v;
    table.append(el("tr", {}, el("td", { text: text(id) }),
      el("td", { text: pairs(fields).map(([f, v]) => `${text(f)}=${text(v)}`).join("  ") })));
  }
  const last = entries.length === ITEMS ? text(entries.at(-1).v[0]) : null;
  body.append(el("div", { class: "muted", text: `${text(lenR)} entries` }), table,
    pager(history.length ? () => viewStream(body, key, status, history.at(-1), history.slice(0, -1)) : null,
      last ? () => viewStream(body, key, status, "(" + last, [...history, from]) : null, `from ${from}`));
}

async function generic(body, key) {
  body.append(el("p", { class: "muted", text: "No viewer for this type; DUMP shown as a reply." }),
    render(await cmd(["DUMP", key])));
}

const VIEWERS = { string: viewString, hash: viewHash, list: viewList, set: viewSet, zset: viewZset, stream: viewStream };
export const currentDb = () => state.db;
