// The Lua workbench: edit, run as EVAL / EVAL_RO with KEYS and ARGV, see the reply tree as
// Redis converted it, the error's line marked, a history in localStorage, and "save as
// FUNCTION library".

import { cmd } from "./api.js";
import { el, render, lines } from "./tree.js";
import { LuaEditor, errorLine } from "./lua.js";

const HISTORY_KEY = "ledis.console.history";
const HISTORY_MAX = 50;
const $ = (id) => document.getElementById(id);
export const workbench = { editor: null, last: null };

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
  drawHistory();
}

export async function run() {
  const code = workbench.editor.value;
  const keys = lines($("wb-keys").value);
  const args = lines($("wb-args").value);
  const mode = $("wb-mode").value;
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
