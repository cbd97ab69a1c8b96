// A Lua editor without libraries: a transparent <textarea> over a <pre> that a small
// hand-written tokenizer colours, a line-number gutter, an error line marker, and for the
// debugger a current-line marker and breakpoints toggled by clicking the gutter.

const KEYWORDS = new Set(("and break do else elseif end false for function goto if in local nil not " +
  "or repeat return then true until while").split(" "));
const GLOBALS = new Set(("redis KEYS ARGV cjson cmsgpack bit struct math string table tonumber tostring " +
  "type pairs ipairs pcall error assert select unpack next setmetatable getmetatable rawget rawset").split(" "));

function escape(s) { return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"); }

/** Tokens of Lua source as [class, text] pairs; class "" is plain text. */
export function tokenize(src) {
  const out = []; let i = 0;
  const push = (cls, s) => out.push([cls, s]);
  while (i < src.length) {
    const rest = src.slice(i);
    let m;
    if ((m = /^--\[(=*)\[[\s\S]*?(\]\1\]|$)/.exec(rest))) push("lua-com", m[0]);
    else if ((m = /^--[^\n]*/.exec(rest))) push("lua-com", m[0]);
    else if ((m = /^\[(=*)\[[\s\S]*?(\]\1\]|$)/.exec(rest))) push("lua-str", m[0]);
    else if ((m = /^"(\\[\s\S]|[^"\\\n])*("|$)/m.exec(rest)) || (m = /^'(\\[\s\S]|[^'\\\n])*('|$)/m.exec(rest))) push("lua-str", m[0]);
    else if ((m = /^(0[xX][0-9a-fA-F]+|\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)/.exec(rest))) push("lua-num", m[0]);
    else if ((m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest))) push(KEYWORDS.has(m[0]) ? "lua-kw" : GLOBALS.has(m[0]) ? "lua-glob" : "", m[0]);
    else if ((m = /^(==|~=|<=|>=|\.\.\.?|[-+*/%^#<>=(){}\[\];:,.])/.exec(rest))) push("lua-op", m[0]);
    else if ((m = /^\s+/.exec(rest))) push("", m[0]);
    else m = [rest[0]], push("", rest[0]);
    i += m[0].length;
  }
  return out;
}

/** Highlighted HTML, one string per source line (tokens spanning lines are split). */
export function highlight(src) {
  let html = "";
  for (const [cls, s] of tokenize(src)) {
    const parts = s.split("\n").map(escape);
    html += parts.map((p) => (cls && p ? `<span class="${cls}">${p}</span>` : p)).join("\n");
  }
  return html.split("\n");
}

/** The line number in a script or function error ("user_script:3: ..."), or null. */
export function errorLine(message) {
  const m = /user_(?:script|function):(\d+):/.exec(message || "");
  return m ? Number(m[1]) : null;
}

export class LuaEditor {
  constructor(parent, value = "") {
    this.root = document.createElement("div");
    this.root.className = "editor";
    this.gutter = document.createElement("div");
    this.gutter.className = "gutter";
    const area = document.createElement("div");
    area.className = "area";
    this.pre = document.createElement("pre");
    this.pre.setAttribute("aria-hidden", "true");
    this.textarea = document.createElement("textarea");
    this.textarea.spellcheck = false;
    this.textarea.className = "lua-input";
    this.textarea.value = value;
    area.append(this.pre, this.textarea);
    this.root.append(this.gutter, area);
    parent.append(this.root);
    this.errorAt = null;
    this.currentAt = null; // the debugger's current line
    this.breakpoints = new Set();
    this.onchange = null; // called after the user edits the text
    this.gutter.addEventListener("click", (e) => {
      const n = Number(e.target.dataset && e.target.dataset.line);
      if (!n) return;
      if (this.breakpoints.has(n)) this.breakpoints.delete(n); else this.breakpoints.add(n);
      this.refresh();
    });
    this.textarea.addEventListener("input", () => {
      this.errorAt = null; this.refresh();
      if (this.onchange) this.onchange();
    });
    this.textarea.addEventListener("scroll", () => {
      this.pre.scrollTop = this.textarea.scrollTop; this.pre.scrollLeft = this.textarea.scrollLeft;
      this.gutter.scrollTop = this.textarea.scrollTop;
    });
    this.textarea.addEventListener("keydown", (e) => {
      if (e.key === "Tab") {
        e.preventDefault();
        const t = this.textarea; const s = t.selectionStart;
        t.value = t.value.slice(0, s) + "    " + t.value.slice(t.selectionEnd);
        t.selectionStart = t.selectionEnd = s + 4; this.refresh();
      }
    });
    this.refresh();
  }

  get value() { return this.textarea.value; }
  set value(v) { this.textarea.value = v; this.errorAt = null; this.refresh(); }

  /** Mark line ``n`` (1-based) as the error's line, or clear with null. */
  markError(n) { this.errorAt = n; this.refresh(); }

  /** Mark line ``n`` as the debugger's current line (scrolled into view), or clear with null. */
  markCurrent(n) {
    this.currentAt = n; this.refresh();
    const line = n && this.pre.querySelector(`.line[data-line="${n}"]`);
    if (line) {
      const top = line.offsetTop, view = this.textarea;
      if (top < view.scrollTop || top > view.scrollTop + view.clientHeight - 24) view.scrollTop = Math.max(0, top - 40);
    }
  }

  refresh() {
    const lines = highlight(this.textarea.value);
    const classes = (n) => (n === this.errorAt ? " error-line" : "") + (n === this.currentAt ? " current-line" : "");
    this.pre.innerHTML = lines.map((l, i) =>
      `<span class="line${classes(i + 1)}" data-line="${i + 1}">${l || " "}</span>`).join("");
    this.gutter.innerHTML = "";
    lines.forEach((_, i) => {
      const d = document.createElement("div");
      d.textContent = String(i + 1);
      d.dataset.line = String(i + 1);
      d.className = (classes(i + 1) + (this.breakpoints.has(i + 1) ? " bp" : "")).trim();
      d.title = "click: breakpoint";
      this.gutter.append(d);
    });
    // breakpoints on lines that no longer exist go away
    for (const n of this.breakpoints) if (n > lines.length) this.breakpoints.delete(n);
  }
}
