// Reply trees ({t, v} from the server) as text and as DOM, shown the way redis-cli prints them.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}

/** The bytes of a bulk reply. */
export function bytesOf(r) {
  if (r.b64 !== undefined) return Uint8Array.from(atob(r.b64), (c) => c.charCodeAt(0));
  return new TextEncoder().encode(r.v ?? "");
}

/** Scalar reply as display text (binary bulk strings with \xNN escapes, like redis-cli). */
export function text(r) {
  if (!r) return "";
  if (r.t === "bulk" && r.b64 !== undefined) {
    let out = "";
    for (const b of bytesOf(r)) out += b >= 32 && b < 127 ? String.fromCharCode(b) : "\\x" + b.toString(16).padStart(2, "0");
    return out;
  }
  if (r.t === "nil") return "(nil)";
  return String(r.v);
}

/** A reply argument sent back as-is (binary values keep their bytes). */
export function arg(r) { return r.b64 !== undefined ? { base64: r.b64 } : r.v; }

export function list(r) { return r && (r.t === "array" || r.t === "set") ? r.v : []; }

/** A map reply (RESP3) or a flat RESP2 array of pairs as [[key, value], ...]. */
export function pairs(r) {
  if (!r) return [];
  if (r.t === "map") return r.v;
  const out = [];
  for (let i = 0; i + 1 < r.v.length; i += 2) out.push([r.v[i], r.v[i + 1]]);
  return out;
}

const LABEL = { int: "integer", bulk: "bulk", status: "status", error: "error", nil: "nil",
  array: "array", set: "set", map: "map", double: "double", bool: "boolean" };

/** A reply tree as nested DOM: every node says its type (integer, bulk, nil, array...). */
export function render(r) {
  const node = el("div", { class: "node t-" + r.t, "data-type": r.t });
  const tag = el("span", { class: "tag", text: `(${LABEL[r.t] || r.t})` });
  if (r.t === "array" || r.t === "set" || r.t === "map") {
    node.append(tag, el("span", { text: r.v.length ? `${r.v.length} item(s)` : "(empty)" }));
    const box = el("div", { class: "r" });
    r.v.forEach((item, i) => {
      if (r.t === "map") {
        box.append(el("div", {}, el("span", { class: "tag", text: "key" }), render(item[0])),
          el("div", { class: "r" }, render(item[1])));
      } else {
        const row = render(item);
        row.prepend(el("span", { class: "tag", text: `${i + 1})` }));
        box.append(row);
      }
    });
    node.append(box);
  } else if (r.t === "nil") {
    node.append(tag, el("span", { class: "val", text: "nil" }));
  } else {
    node.append(tag, el("span", { class: "val", text: r.t === "bulk" ? JSON.stringify(text(r)) : text(r) }));
  }
  return node;
}

/** Split a command line into arguments: spaces separate, quotes group (redis-cli style). */
export function splitArgs(line) {
  const out = []; let cur = ""; let quote = null; let had = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === "\\" && i + 1 < line.length) { const n = line[++i]; cur += n === "n" ? "\n" : n === "t" ? "\t" : n; }
      else if (c === quote) quote = null;
      else cur += c;
    } else if (c === '"' || c === "'") { quote = c; had = true; }
    else if (/\s/.test(c)) { if (cur || had) out.push(cur); cur = ""; had = false; }
    else cur += c;
  }
  if (cur || had) out.push(cur);
  return out;
}

/** A small in-page confirmation dialog; resolves true when confirmed. */
export function confirmDialog(message, okLabel = "Delete") {
  const box = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = message;
  const ok = document.getElementById("confirm-ok");
  const cancel = document.getElementById("confirm-cancel");
  ok.textContent = okLabel;
  box.hidden = false;
  return new Promise((resolve) => {
    const done = (value) => { box.hidden = true; ok.onclick = cancel.onclick = null; resolve(value); };
    ok.onclick = () => done(true);
    cancel.onclick = () => done(false);
  });
}

export function lines(textValue) { return textValue.split("\n").map((s) => s.replace(/\r$/, "")).filter((s) => s !== ""); }
