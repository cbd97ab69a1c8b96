// The console's only way to the server: JSON calls under /_console/api/ (ledis/http/console_api.py).
// Every command goes through the server's dispatcher; POSTs carry the session's CSRF token.

export const state = { csrf: null, db: 0, user: null, authRequired: false };

async function call(method, path, body) {
  const headers = {};
  if (method === "POST") {
    headers["Content-Type"] = "application/json";
    if (state.csrf) headers["X-CSRF-Token"] = state.csrf;
  }
  const resp = await fetch("/_console/api/" + path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await resp.json();
  if (resp.status === 401 && path !== "login") {
    state.csrf = null;
    window.dispatchEvent(new Event("ledis:login-required"));
  }
  if (!resp.ok) throw new Error(data.error || resp.statusText);
  return data;
}

export async function session() {
  const data = await call("GET", "session");
  state.csrf = data.csrf; state.user = data.user; state.authRequired = data.auth_required;
  return data;
}

export async function login(username, password) {
  const data = await call("POST", "login", { username, password });
  state.csrf = data.csrf; state.user = data.user;
  return data;
}

export async function logout() {
  await call("POST", "logout", {});
  state.csrf = null; state.user = null;
}

// arguments are strings, or {base64} for binary values read from a reply (tree.js arg())
const plain = (a) => (typeof a === "object" && a !== null ? a : String(a));

/** Run one command; resolves to its reply tree ({t, v}); an error reply is {t: "error"}. */
export async function cmd(argv, opts = {}) {
  const data = await call("POST", "command", {
    db: opts.db ?? state.db, resp: opts.resp ?? 2, argv: argv.map(plain), max_bulk: opts.maxBulk ?? 0,
  });
  return data.reply;
}

/** Run several commands in one request; resolves to their reply trees. */
export async function batch(argvs, opts = {}) {
  if (!argvs.length) return [];
  const data = await call("POST", "command", {
    db: opts.db ?? state.db, resp: opts.resp ?? 2, batch: argvs.map((a) => a.map(plain)),
    max_bulk: opts.maxBulk ?? 0,
  });
  return data.replies;
}

export const stats = () => call("GET", "stats");

/** Record a script run under the Lua debugger (writes thrown away): {trace, reply}. */
export const debugRun = (script, keys, args, opts = {}) => call("POST", "debug", {
  db: opts.db ?? state.db, resp: opts.resp ?? 2, script, keys: keys.map(plain), args: args.map(plain),
  readonly: !!opts.readonly,
});

/** Like cmd but throws the error text of an error reply. */
export async function must(argv, opts) {
  const reply = await cmd(argv, opts);
  if (reply.t === "error") throw new Error(reply.v);
  return reply;
}
