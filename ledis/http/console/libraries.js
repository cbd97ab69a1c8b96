// Libraries: FUNCTION LIST WITHCODE rendered generically (fields other engineers add, such as
// triggers or timers, show up as they come), code editing with FUNCTION LOAD REPLACE, delete,
// and an FCALL form per function.

import { cmd } from "./api.js";
import { el, render, text, confirmDialog } from "./tree.js";
import { LuaEditor, errorLine } from "./lua.js";

const $ = (id) => document.getElementById(id);
const KNOWN = new Set(["library_name", "engine", "functions", "library_code"]);
const KNOWN_FN = new Set(["name", "description", "flags"]);

/** A RESP3 map reply as a JS object of reply trees. */
function obj(r) {
  const out = {};
  if (r && r.t === "map") for (const [k, v] of r.v) out[text(k)] = v;
  return out;
}

export function setup() {
  $("lib-refresh").onclick = refresh;
  $("lib-new").onclick = () => {
    const box = el("div", { class: "lib", id: "lib-new-box" });
    $("lib-list").prepend(box);
    codeEditor(box, "#!lua name=mylib\nredis.register_function('hello', function(keys, args)\n  return 'hello ' .. (args[1] or 'world')\nend)\n", false);
  };
}

function codeEditor(box, code, replace) {
  const editor = new LuaEditor(box, code);
  const msg = el("div", { class: "error lib-error" });
  box.append(el("div", { class: "toolbar" }, el("button", { class: "lib-load", onclick: async () => {
    msg.textContent = "";
    editor.markError(null);
    const argv = replace ? ["FUNCTION", "LOAD", "REPLACE", editor.value] : ["FUNCTION", "LOAD", editor.value];
    const r = await cmd(argv);
    if (r.t === "error") { msg.textContent = r.v; const line = errorLine(r.v); if (line) editor.markError(line); }
    else refresh();
  } }, replace ? "Save (FUNCTION LOAD REPLACE)" : "Load")), msg);
  return editor;
}

export async function refresh() {
  const box = $("lib-list");
  const reply = await cmd(["FUNCTION", "LIST", "WITHCODE"], { resp: 3 });
  box.innerHTML = "";
  if (reply.t === "error") { box.append(el("p", { class: "error", text: reply.v })); return; }
  if (!reply.v.length) box.append(el("p", { class: "muted", text: "No libraries loaded." }));
  for (const libReply of reply.v) {
    const lib = obj(libReply);
    const name = text(lib.library_name);
    const card = el("div", { class: "lib", "data-library": name });
    card.append(el("h3", {}, name, el("span", { class: "muted", text: `  ${text(lib.engine)}` })));
    for (const [k, v] of Object.entries(lib)) if (!KNOWN.has(k)) card.append(el("div", {}, el("b", { text: k + ": " }), render(v)));
    const table = el("table", { class: "table" }, el("tr", {}, el("th", { text: "function" }), el("th", { text: "flags" }),
      el("th", { text: "description" }), el("th", { text: "other" }), el("th", { text: "FCALL" })));
    for (const fnReply of (lib.functions ? lib.functions.v : [])) {
      const fn = obj(fnReply);
      const fname = text(fn.name);
      const flags = fn.flags ? fn.flags.v.map(text) : [];
      const keysIn = el("input", { class: "fcall-keys", placeholder: "keys (space separated)", size: 14 });
      const argsIn = el("input", { class: "fcall-args", placeholder: "args (space separated)", size: 14 });
      const out = el("div", { class: "reply fcall-reply" });
      const other = el("td", {});
      for (const [k, v] of Object.entries(fn)) if (!KNOWN_FN.has(k)) other.append(el("div", {}, el("b", { text: k + ": " }), render(v)));
      table.append(el("tr", { "data-function": fname }, el("td", { text: fname }), el("td", { text: flags.join(", ") }),
        el("td", { text: fn.description && fn.description.t !== "nil" ? text(fn.description) : "" }), other,
        el("td", {}, el("div", { class: "fcall" }, keysIn, argsIn, el("button", { class: "fcall-run", onclick: async () => {
          const ks = keysIn.value.split(/\s+/).filter(Boolean);
          const as = argsIn.value.split(/\s+/).filter(Boolean);
          const call = flags.includes("no-writes") ? "FCALL_RO" : "FCALL";
          out.innerHTML = "";
          out.append(render(await cmd([call, fname, ks.length, ...ks, ...as])));
        } }, "FCALL")), out)));
    }
    card.append(table);
    const details = el("details", {}, el("summary", { text: "code" }));
    card.append(details, el("button", { class: "danger lib-delete", onclick: async () => {
      if (!(await confirmDialog(`Delete library "${name}"?`))) return;
      const r = await cmd(["FUNCTION", "DELETE", name]);
      if (r.t === "error") card.append(el("p", { class: "error", text: r.v })); else refresh();
    } }, "Delete library"));
    codeEditor(details, lib.library_code ? text(lib.library_code) : "", true);
    box.append(card);
  }
}
