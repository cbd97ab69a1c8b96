// The Lua workbench: edit, run as EVAL / EVAL_RO with KEYS and ARGV, see the reply tree as
// Redis converted it, the error's line marked, a history in localStorage, "save as
// FUNCTION library", and Debug: the server records a run under the Lua debugger (YES mode,
// writes thrown away; POST /_console/api/debug) and the page steps through that trace,
// forwards and backwards, without further requests.

import { cmd, debugRun } from "./api.js";
import { el, render, lines } from "./tree.js";
import { LuaEditor, errorLine } from "./lua.js";

const HISTORY_KEY = "ledis.console.history";
const HISTORY_MAX = 50;
const $ = (id) => document.getElementById(id);
export const workbench = { editor: null, last: null, debug: null };

const SAMPLE = `-- KEYS[1]: a counter, ARGV[1]: the increment
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
return {n, 'counted', redis.status_reply('OK')}
`;

export function setup() {
  workbench.editor = new LuaEditor($("wb-editor"), SAMPLE);
  $("wb-keys").value = "counter";
  $("wb-args").value = "1";
  $("wb-run").onclick = run;
  workbench.editor.textarea.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); run(); }
  });
  $("wb-save").onclick = saveAsLibrary;
  $("wb-debug").onclick = debug;
  $("dbg-back").onclick = () => showStop(workbench.debug.at - 1);
  $("dbg-step").onclick = () => showStop(workbench.debug.at + 1);
  $("dbg-continue").onclick = continueToBreakpoint;
  $("dbg-end").onclick = () => showStop(workbench.debug.trace.stops.length);
  $("dbg-close").onclick = closeDebug;
  workbench.editor.onchange = () => { if (workbench.debug) closeDebug(); };
  drawHistory();
}

// --- the recorded debugger ---------------------------------------------------------------
export async function debug() {
  const code = workbench.editor.value;
  const keys = lines($("wb-keys").value);
  const args = lines($("wb-args").value);
  $("wb-error").textContent = "";
  $("wb-reply").innerHTML = "";
  workbench.editor.markError(null);
  const data = await debugRun(code, keys, args, {
    resp: Number($("wb-resp").value), readonly: $("wb-mode").value === "EVAL_RO" });
  workbench.debug = { trace: data.trace, reply: data.reply, at: -1 };
  $("dbg").hidden = false;
  $("dbg-note").textContent = data.trace.note || "";
  // a script that does not compile never stops: straight to its end (the error)
  showStop(0);
  return data;
}

/** Show stop ``i`` of the trace (``stops.length`` is the end: the reply). */
function showStop(i) {
  const d = workbench.debug;
  const stops = d.trace.stops;
  const from = d.at;
  d.at = Math.max(0, Math.min(i, stops.length));
  const stop = stops[d.at];
  // the Redis calls since the stop shown before (all of them after a continue)
  const calls = [];
  const first = d.at > from ? from + 1 : d.at;
  for (let j = first; j <= d.at && j < stops.length; j++) calls.push(...stops[j].calls);
  if (!stop) calls.push(...d.trace.after);
  $("dbg-calls").textContent = calls.join("\n");
  const atEnd = !stop;
  $("dbg-back").disabled = d.at === 0;
  $("dbg-step").disabled = $("dbg-continue").disabled = $("dbg-end").disabled = atEnd;
  $("dbg-final").innerHTML = "";
  const table = $("dbg-locals");
  table.innerHTML = "";
  if (atEnd) {
    workbench.editor.markCurrent(null);
    $("dbg-pos").textContent = `ended after ${stops.length} stop${stops.length === 1 ? "" : "s"} (writes thrown away)`;
    if (d.reply.t === "error") showError(d.reply.v);
    else $("wb-error").textContent = "";
    $("dbg-final").append(el("h4", { text: "Reply" }), render(d.reply));
    return;
  }
  $("wb-error").textContent = "";
  workbench.editor.markError(null);
  workbench.editor.markCurrent(stop.line);
  $("dbg-pos").textContent = `stop ${d.at + 1} of ${stops.length}: line ${stop.line} (${stop.reason})`;
  // values that changed since the stop shown before are marked
  const shown = from >= 0 && from !== d.at ? stops[from] : null;
  const before = new Map(shown ? shown.locals : []);
  if (!stop.locals.length) table.append(el("tr", {}, el("td", { class: "muted", text: "no local variables" })));
  for (const [name, value] of stop.locals) {
    const changed = shown !== null && before.get(name) !== value;
    table.append(el("tr", { "data-name": name, class: changed ? "changed" : null },
      el("th", { text: name }), el("td", { text: value })));
  }
}

function continueToBreakpoint() {
  const d = workbench.debug;
  const bps = workbench.editor.breakpoints;
  const stops = d.trace.stops;
  let j = d.at + 1;
  while (j < stops.length && !bps.has(stops[j].line) && stops[j].reason === "step over") j++;
  showStop(j);
}

function closeDebug() {
  workbench.debug = null;
  $("dbg").hidden = true;
  workbench.editor.markCurrent(null);
}

export async function run() {
  const code = workbench.editor.value;
  const keys = lines($("wb-keys").value);
  const args = lines($("wb-args").value);
  const mode = $("wb-mode").value;
  if (workbench.debug) closeDebug();
  $("wb-error").textContent = "";
  $("wb-reply").innerHTML = "";
  workbench.editor.markError(null);
  const reply = await cmd([mode, code, keys.length, ...keys, ...args], { resp: Number($("wb-resp").value) });
  workbench.last = reply;
  if (reply.t === "error") showError(reply.v);
  else $("wb-reply").append(render(reply));
  remember({ code, keys, args, mode, at: Date.now() });
  return reply;
}

function showError(message) {
  $("wb-error").textContent = message;
  const line = errorLine(message);
  if (line) workbench.editor.markError(line);
}

function history() {
  try { return JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]"); } catch { return []; }
}

function remember(entry) {
  const items = history().filter((h) => h.code !== entry.code || h.mode !== entry.mode);
  items.unshift(entry);
  localStorage.setItem(HISTORY_KEY, JSON.stringify(items.slice(0, HISTORY_MAX)));
  drawHistory();
}

function drawHistory() {
  const ol = $("wb-history");
  ol.innerHTML = "";
  for (const h of history()) {
    const first = h.code.split("\n").find((l) => l.trim() && !l.trim().startsWith("--")) || h.code;
    ol.append(el("li", { title: new Date(h.at).toLocaleString(), onclick: () => {
      workbench.editor.value = h.code;
      $("wb-keys").value = h.keys.join("\n"); $("wb-args").value = h.args.join("\n");
      $("wb-mode").value = h.mode;
    } }, `${h.mode} ${first.trim().slice(0, 60)}`));
  }
}

/** The script wrapped as a Redis 7 library with one function taking (KEYS, ARGV). */
export function asLibrary(code, library, fn, readonly) {
  const flags = readonly ? ", flags = { 'no-writes' }" : "";
  const body = code.replace(/^#!.*\n/, "").split("\n").map((l) => (l ? "  " + l : l)).join("\n");
  return `#!lua name=${library}\n` +
    `redis.register_function{ function_name = '${fn}'${flags}, callback = function(KEYS, ARGV)\n` +
    `${body}\nend }\n`;
}

async function saveAsLibrary() {
  const library = $("wb-lib").value.trim() || "workbench";
  const fn = $("wb-fn").value.trim() || "run";
  const source = asLibrary(workbench.editor.value, library, fn, $("wb-mode").value === "EVAL_RO");
  $("wb-error").textContent = "";
  $("wb-reply").innerHTML = "";
  const reply = await cmd(["FUNCTION", "LOAD", "REPLACE", source]);
  if (reply.t === "error") showError(reply.v);
  else $("wb-reply").append(el("p", { id: "wb-saved", text: `Loaded library ${library}: FCALL ${fn} ...` }), render(reply));
}
