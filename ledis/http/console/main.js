// Entry point: login, tabs, the db selector; exposes window.ledisConsole for tests and
// scripts (docs/console.md).

import * as api from "./api.js";
import * as keysView from "./keys.js";
import * as wb from "./workbench.js";
import * as libs from "./libraries.js";
import * as srv from "./server.js";

const $ = (id) => document.getElementById(id);
const started = new Set();

window.ledisConsole = { api, keys: keysView.keys, workbench: wb.workbench, server: srv.server, charts: srv.server.charts };

function showTab(name) {
  document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  document.querySelectorAll("main .tab").forEach((s) => { s.hidden = s.id !== "tab-" + name; });
  if (name === "server") srv.start(); else srv.stop();
  if (name === "libraries") libs.refresh();
  if (name === "keys" && !started.has("keys")) { started.add("keys"); keysView.startScan(); }
  location.hash = name;
}

function loggedIn(data) {
  $("login-screen").hidden = true;
  $("whoami").textContent = data.auth_required ? data.user : "";
  $("logout").hidden = !data.auth_required;
  started.clear();
  showTab((location.hash || "#keys").slice(1) || "keys");
  document.body.dataset.ready = "1";
}

function askLogin() {
  srv.stop();
  $("login-screen").hidden = false;
  $("login-pass").value = "";
  $("login-pass").focus();
}

async function boot() {
  keysView.setup(); wb.setup(); libs.setup(); srv.setup();
  document.querySelectorAll("#tabs button").forEach((b) => { b.onclick = () => showTab(b.dataset.tab); });
  $("db").onchange = () => { api.state.db = Number($("db").value) || 0; keysView.startScan(); };
  $("login").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("login-error").textContent = "";
    try { loggedIn(await api.login($("login-user").value || "default", $("login-pass").value)); }
    catch (err) { $("login-error").textContent = err.message; }
  });
  $("logout").onclick = async () => { await api.logout(); askLogin(); };
  window.addEventListener("ledis:login-required", askLogin);
  const s = await api.session();
  if (s.logged_in) loggedIn(s); else askLogin();
  document.body.dataset.booted = "1";
}

boot();
