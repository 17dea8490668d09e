// rdb console: one page, no framework, no network access beyond this node's
// own API (same origin, so the browser reuses the Basic-auth credentials it
// asked for when the page loaded).
"use strict";

const $ = (id) => document.getElementById(id);

// el builds an element: el("td", {class: "num"}, "42").
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

// ---- API --------------------------------------------------------------

// api calls this node's HTTP API and returns {ok, status, data, text}:
// data is the parsed JSON body when there is one.
async function api(method, path, body, contentType) {
  const opts = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    opts.body = typeof body === "string" || body instanceof ArrayBuffer ? body : JSON.stringify(body);
    opts.headers["Content-Type"] = contentType || "application/json";
  }
  let resp;
  try {
    resp = await fetch(path, opts);
  } catch (err) {
    return { ok: false, status: 0, text: "cannot reach the node: " + err.message };
  }
  const text = await resp.text();
  let data;
  try { data = text ? JSON.parse(text) : undefined; } catch (_) { data = undefined; }
  return { ok: resp.ok, status: resp.status, data, text };
}

// failure describes a request that did not succeed.
function failure(r) {
  if (r.status === 401) return "Not authorized (401): the user lacks the permission this needs.";
  if (r.status === 0) return r.text;
  const msg = (r.data && r.data.error) || r.text.trim() || "(no message)";
  return "HTTP " + r.status + ": " + msg;
}

function showError(box, msg) {
  box.textContent = msg || "";
  box.hidden = !msg;
}

// ---- Tabs -------------------------------------------------------------

const tabs = Array.from(document.querySelectorAll('[role="tab"]'));
const onShow = {};

function selectTab(tab, focus) {
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute("aria-selected", on ? "true" : "false");
    t.tabIndex = on ? 0 : -1;
    $(t.getAttribute("aria-controls")).hidden = !on;
  }
  if (focus) tab.focus();
  const name = tab.id.replace("tab-", "");
  history.replaceState(null, "", "#" + name);
  scheduleStatus();
  if (onShow[name]) onShow[name]();
}

function initTabs() {
  tabs.forEach((t, i) => {
    t.addEventListener("click", () => selectTab(t, false));
    t.addEventListener("keydown", (ev) => {
      const n = tabs.length;
      const next = { ArrowRight: (i + 1) % n, ArrowLeft: (i - 1 + n) % n, Home: 0, End: n - 1 }[ev.key];
      if (next === undefined) return;
      ev.preventDefault();
      selectTab(tabs[next], true);
    });
  });
  const want = tabs.find((t) => "#" + t.id.replace("tab-", "") === location.hash);
  selectTab(want || tabs[0], false);
}

// ---- Theme ------------------------------------------------------------

function initTheme() {
  const btn = $("theme");
  const apply = (dark) => {
    document.documentElement.classList.toggle("dark", dark);
    btn.setAttribute("aria-pressed", dark ? "true" : "false");
  };
  const saved = localStorage.getItem("rdb.theme");
  apply(saved ? saved === "dark" : window.matchMedia("(prefers-color-scheme: dark)").matches);
  btn.addEventListener("click", () => {
    const dark = !document.documentElement.classList.contains("dark");
    localStorage.setItem("rdb.theme", dark ? "dark" : "light");
    apply(dark);
  });
}

// ---- Status -----------------------------------------------------------

let statusTimer = null;
let lastStatus = null;

function friendlyBytes(n) {
  if (typeof n !== "number") return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + " " + units[i];
}

function get(obj, path) {
  return path.split(".").reduce((o, k) => (o && o[k] !== undefined ? o[k] : undefined), obj);
}

function renderCards(st) {
  const raft = get(st, "store.raft") || {};
  const leader = get(st, "store.leader") || {};
  const cards = [
    ["Node ID", get(st, "store.node_id")],
    ["Raft state", raft.state],
    ["Leader", leader.node_id ? leader.node_id + (leader.addr && leader.addr !== leader.node_id ? " (" + leader.addr + ")" : "") : "none known"],
    ["Version", get(st, "build.version")],
    ["Uptime", String(get(st, "node.uptime") || "").replace(/(\d+)\.\d+s$/, "$1s")],
    ["Term", raft.term],
    ["Commit index", raft.commit_index],
    ["Applied index", get(st, "store.db_applied_index")],
    ["Last log index", raft.last_log_index],
    ["Last snapshot index", raft.last_snapshot_index],
    ["Database size", get(st, "store.dir_size_friendly") || friendlyBytes(get(st, "store.sqlite3.size"))],
    ["HTTP address", get(st, "cluster.api_addr") || get(st, "http.bind_addr")],
    ["Raft address", get(st, "store.addr")],
  ];
  const dl = $("status-cards");
  dl.replaceChildren(...cards.map(([k, v]) =>
    el("div", {}, el("dt", {}, k), el("dd", {}, v === undefined || v === "" ? "–" : String(v)))));
  $("hdr-node").textContent = get(st, "store.node_id") || "";
}

function renderNodes(nodes) {
  const rows = nodes.map((n) => el("tr", {},
    el("td", {}, n.id),
    el("td", {}, n.leader ? "leader" : n.voter ? "voter" : "non-voter"),
    el("td", {}, n.version || "–"),
    el("td", {}, n.api_addr || "–"),
    el("td", {}, n.addr),
    el("td", { class: n.reachable ? "ok" : "error" }, n.reachable ? "yes" : "no" + (n.error ? ": " + n.error : "")),
    el("td", {}, n.time_s || (n.time ? n.time.toFixed(4) + " s" : "–"))));
  $("nodes-table").tBodies[0].replaceChildren(...rows);
}

async function refreshStatus() {
  const [st, nodes] = await Promise.all([api("GET", "/status"), api("GET", "/nodes?nonvoters&ver=2")]);
  if (!st.ok) {
    showError($("status-error"), "Cannot read /status: " + failure(st));
    return;
  }
  showError($("status-error"), nodes.ok ? "" : "Cannot read /nodes: " + failure(nodes));
  lastStatus = st.data;
  renderCards(st.data);
  $("status-raw").textContent = JSON.stringify(st.data, null, 2);
  if (nodes.ok && nodes.data && Array.isArray(nodes.data.nodes)) renderNodes(nodes.data.nodes);
  $("status-updated").textContent = "Updated " + new Date().toLocaleTimeString();
}

function scheduleStatus() {
  clearInterval(statusTimer);
  statusTimer = null;
  if ($("status-auto").checked && !$("panel-status").hidden) {
    statusTimer = setInterval(refreshStatus, 5000);
  }
}

function initStatus() {
  $("status-refresh").addEventListener("click", refreshStatus);
  $("status-auto").addEventListener("change", scheduleStatus);
  onShow.status = refreshStatus;
}

// ---- SQL text ---------------------------------------------------------

// splitSQL splits text into statements at semicolons outside quotes,
// comments and CREATE TRIGGER bodies.
function splitSQL(text) {
  const out = [];
  let cur = "";
  let i = 0;
  const push = () => { const s = cur.trim(); if (s) out.push(s); cur = ""; };
  while (i < text.length) {
    const c = text[i];
    const two = text.slice(i, i + 2);
    if (c === "'" || c === '"' || c === "`" || c === "[") {
      const close = c === "[" ? "]" : c;
      let j = i + 1;
      while (j < text.length) {
        if (text[j] === close) {
          if (close !== "]" && text[j + 1] === close) { j += 2; continue; }
          break;
        }
        j++;
      }
      cur += text.slice(i, j + 1);
      i = j + 1;
    } else if (two === "--") {
      const j = text.indexOf("\n", i);
      const end = j < 0 ? text.length : j;
      cur += text.slice(i, end);
      i = end;
    } else if (two === "/*") {
      const j = text.indexOf("*/", i + 2);
      const end = j < 0 ? text.length : j + 2;
      cur += text.slice(i, end);
      i = end;
    } else if (c === ";") {
      const trigger = /^\s*CREATE\s+(TEMP\w*\s+)?TRIGGER\b/i.test(cur);
      if (trigger && !/\bEND\s*$/i.test(cur)) { cur += c; } else { push(); }
      i++;
    } else {
      cur += c;
      i++;
    }
  }
  push();
  return out;
}

function quoteIdent(name) {
  return '"' + String(name).replace(/"/g, '""') + '"';
}

// resultTable renders columns and rows (arrays) as a table.
function resultTable(columns, rows, caption) {
  const head = el("tr", {}, ...columns.map((c) => el("th", { scope: "col" }, c)));
  const body = rows.map((r) => el("tr", {}, ...r.map((v) => {
    if (v === null) return el("td", { class: "null" }, "NULL");
    if (typeof v === "number") return el("td", { class: "num" }, String(v));
    if (typeof v === "object") return el("td", {}, JSON.stringify(v));
    return el("td", {}, String(v));
  })));
  return el("div", { class: "scroll" }, el("table", { class: "result-table" },
    caption ? el("caption", { class: "sr-only" }, caption) : null,
    el("thead", {}, head), el("tbody", {}, ...body)));
}

// ---- Query ------------------------------------------------------------

const HISTORY_KEY = "rdb.history";
const HISTORY_MAX = 50;
let lastResults = [];

function loadHistory() {
  try { return JSON.parse(localStorage.getItem(HISTORY_KEY)) || []; } catch (_) { return []; }
}

function saveHistory(sql, level) {
  const h = loadHistory().filter((e) => e.sql !== sql);
  h.unshift({ sql, level, at: Date.now() });
  localStorage.setItem(HISTORY_KEY, JSON.stringify(h.slice(0, HISTORY_MAX)));
  renderHistory();
}

function renderHistory() {
  const items = loadHistory().map((e) => el("li", {}, el("button", {
    type: "button", title: e.sql,
    onclick: () => { $("sql").value = e.sql; $("level").value = e.level || "weak"; $("sql").focus(); },
  }, e.sql.replace(/\s+/g, " "))));
  $("history").replaceChildren(...items);
}

function renderResult(res, i, stmt) {
  const title = el("h3", {}, el("span", { class: "mono" }, stmt.length > 120 ? stmt.slice(0, 117) + "…" : stmt));
  const time = typeof res.time === "number" ? " in " + (res.time * 1000).toFixed(2) + " ms" : "";
  if (res.error) {
    return el("div", { class: "result" }, title, el("div", { class: "error", role: "alert" }, "Error: " + res.error));
  }
  if (res.columns) {
    const rows = res.values || [];
    return el("div", { class: "result" }, title,
      el("p", { class: "muted" }, rows.length + (rows.length === 1 ? " row" : " rows") + time),
      resultTable(res.columns, rows, "Result of statement " + (i + 1)));
  }
  const parts = [];
  if (res.rows_affected !== undefined) parts.push(res.rows_affected + " rows affected");
  if (res.last_insert_id !== undefined) parts.push("last insert ID " + res.last_insert_id);
  return el("div", { class: "result" }, title, el("p", { class: "ok" }, (parts.join(", ") || "OK") + time));
}

async function runQuery(ev) {
  if (ev) ev.preventDefault();
  const text = $("sql").value;
  const stmts = splitSQL(text);
  const out = $("query-results");
  if (stmts.length === 0) {
    out.replaceChildren(el("div", { class: "error", role: "alert" }, "Type a statement first."));
    return;
  }
  const level = $("level").value;
  let path = "/db/request?timings&level=" + encodeURIComponent(level);
  const fresh = $("freshness").value.trim();
  if (fresh) path += "&freshness=" + encodeURIComponent(fresh);
  $("run").disabled = true;
  $("query-summary").textContent = "Running…";
  const started = performance.now();
  const r = await api("POST", path, stmts);
  const took = performance.now() - started;
  $("run").disabled = false;
  saveHistory(text.trim(), level);
  if (!r.ok || !r.data || !Array.isArray(r.data.results)) {
    lastResults = [];
    $("copy-bar").hidden = true;
    $("query-summary").textContent = "";
    out.replaceChildren(el("div", { class: "error", role: "alert" }, failure(r)));
    return;
  }
  lastResults = r.data.results;
  const server = typeof r.data.time === "number" ? ", server " + (r.data.time * 1000).toFixed(2) + " ms" : "";
  const errors = lastResults.filter((x) => x.error).length;
  $("query-summary").textContent = stmts.length + (stmts.length === 1 ? " statement" : " statements") +
    (errors ? ", " + errors + " failed" : "") + " — " + took.toFixed(1) + " ms round trip" + server;
  out.replaceChildren(...lastResults.map((res, i) => renderResult(res, i, stmts[i] || "")));
  $("copy-bar").hidden = !lastResults.some((x) => x.columns);
}

function csvCell(v) {
  if (v === null || v === undefined) return "";
  const s = typeof v === "object" ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

async function copyText(text, what) {
  try {
    await navigator.clipboard.writeText(text);
    $("copy-done").textContent = "Copied " + what + ".";
  } catch (err) {
    $("copy-done").textContent = "Copy failed: " + err.message;
  }
}

function initQuery() {
  $("query-form").addEventListener("submit", runQuery);
  $("sql").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) runQuery(ev);
  });
  $("copy-csv").addEventListener("click", () => {
    const res = lastResults.find((x) => x.columns);
    if (!res) return;
    const lines = [res.columns, ...(res.values || [])].map((r) => r.map(csvCell).join(","));
    copyText(lines.join("\n") + "\n", "CSV");
  });
  $("copy-json").addEventListener("click", () => copyText(JSON.stringify(lastResults, null, 2), "JSON"));
  $("history-clear").addEventListener("click", () => { localStorage.removeItem(HISTORY_KEY); renderHistory(); });
  renderHistory();
}

// ---- Schema -----------------------------------------------------------

let selectedTable = null;

async function refreshSchema() {
  showError($("schema-error"), "");
  const r = await api("POST", "/db/query?associative",
    ["SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') " +
      "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_rdb\\_%' ESCAPE '\\' ORDER BY name"]);
  const res = r.ok && r.data && r.data.results && r.data.results[0];
  if (!res || res.error) {
    showError($("schema-error"), "Cannot list tables: " + (res && res.error ? res.error : failure(r)));
    return;
  }
  const tables = res.rows || [];
  $("schema-summary").textContent = tables.length + (tables.length === 1 ? " table or view" : " tables and views");
  const counts = tables.length
    ? await api("POST", "/db/query?level=none", tables.map((t) => "SELECT COUNT(*) FROM " + quoteIdent(t.name)))
    : { ok: true, data: { results: [] } };
  const items = tables.map((t, i) => {
    const c = counts.ok && counts.data.results[i] && counts.data.results[i].values;
    const n = c ? c[0][0] : "?";
    return el("li", {}, el("button", {
      type: "button", "data-table": t.name, "aria-current": t.name === selectedTable ? "true" : "false",
      onclick: () => showTable(t.name, t.type),
    }, el("span", {}, t.name + (t.type === "view" ? " (view)" : "")), el("span", { class: "muted", "aria-label": n + " rows" }, n)));
  });
  $("tables").replaceChildren(...items);
  if (tables.length === 0) $("table-detail").replaceChildren(el("p", { class: "muted" }, "No tables yet."));
  else if (selectedTable && tables.some((t) => t.name === selectedTable)) showTable(selectedTable);
}

async function showTable(name, type) {
  selectedTable = name;
  for (const b of document.querySelectorAll("#tables button")) {
    b.setAttribute("aria-current", b.dataset.table === name ? "true" : "false");
  }
  const detail = $("table-detail");
  const meta = await api("POST", "/db/query?associative", [
    ["SELECT cid, name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?)", name],
    ["SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND tbl_name = ? ORDER BY type, name", name],
  ]);
  const rows = await api("POST", "/db/query", ["SELECT * FROM " + quoteIdent(name) + " LIMIT 100"]);
  if (!meta.ok || !rows.ok) {
    detail.replaceChildren(el("div", { class: "error", role: "alert" }, failure(meta.ok ? rows : meta)));
    return;
  }
  const [cols, idx] = meta.data.results;
  const first = rows.data.results[0];
  const parts = [el("h2", {}, name + (type === "view" ? " (view)" : ""))];
  parts.push(el("h3", {}, "Columns"));
  parts.push(resultTable(["#", "name", "type", "not null", "default", "primary key"],
    (cols.rows || []).map((c) => [c.cid, c.name, c.type, c.notnull ? "yes" : "no", c.dflt_value, c.pk || ""]), "Columns of " + name));
  parts.push(el("h3", {}, "Indexes and triggers"));
  const ix = idx.rows || [];
  parts.push(ix.length
    ? resultTable(["type", "name", "sql"], ix.map((x) => [x.type, x.name, x.sql]), "Indexes of " + name)
    : el("p", { class: "muted" }, "None."));
  parts.push(el("h3", {}, "First 100 rows"));
  parts.push(first.error
    ? el("div", { class: "error", role: "alert" }, first.error)
    : resultTable(first.columns || [], first.values || [], "First rows of " + name));
  if (type !== "view") {
    parts.push(el("button", { type: "button", id: "drop-table", onclick: () => dropTable(name) }, "Drop table " + name));
  }
  detail.replaceChildren(...parts);
}

async function dropTable(name) {
  if (!window.confirm("Drop table " + name + " on the whole cluster? This cannot be undone.")) return;
  const r = await api("POST", "/db/execute", ["DROP TABLE " + quoteIdent(name)]);
  const res = r.ok && r.data.results[0];
  if (!res || res.error) {
    showError($("schema-error"), "Drop failed: " + (res && res.error ? res.error : failure(r)));
    return;
  }
  selectedTable = null;
  $("table-detail").replaceChildren(el("p", { class: "ok" }, "Dropped " + name + "."));
  refreshSchema();
}

function initSchema() {
  $("schema-refresh").addEventListener("click", refreshSchema);
  onShow.schema = refreshSchema;
}

// ---- Backup and restore -----------------------------------------------

function updateBackupLink() {
  const fmt = document.querySelector('input[name="fmt"]:checked').value;
  const q = [];
  if (fmt === "sql") q.push("fmt=sql");
  if ($("backup-vacuum").checked) q.push("vacuum");
  if ($("backup-compress").checked) q.push("compress");
  if ($("backup-noleader").checked) q.push("noleader");
  const tables = $("backup-tables").value.trim();
  if (tables) q.push("tables=" + encodeURIComponent(tables.replace(/\s+/g, "")));
  $("backup-vacuum").disabled = fmt === "sql";
  const link = $("backup-link");
  link.href = "/db/backup" + (q.length ? "?" + q.join("&") : "");
  link.download = "rdb-backup" + (fmt === "sql" ? ".sql" : ".sqlite3") + ($("backup-compress").checked ? ".gz" : "");
}

const SQLITE_MAGIC = "SQLite format 3\u0000";

async function restore(ev) {
  ev.preventDefault();
  const out = $("restore-result");
  const file = $("restore-file").files[0];
  if (!file) {
    out.replaceChildren(el("div", { class: "error", role: "alert" }, "Choose a file first."));
    return;
  }
  if (!window.confirm("Replace the database's contents with " + file.name + "?")) return;
  const buf = await file.arrayBuffer();
  const head = new TextDecoder("latin1").decode(new Uint8Array(buf.slice(0, 16)));
  let r;
  $("restore-run").disabled = true;
  out.replaceChildren(el("p", { class: "muted" }, "Restoring " + file.name + "…"));
  if (head === SQLITE_MAGIC) {
    const st = await api("GET", "/status");
    const nodes = st.ok ? get(st.data, "store.nodes") : null;
    const single = Array.isArray(nodes) && nodes.length === 1;
    r = await api("POST", single ? "/boot" : "/db/load", buf, "application/octet-stream");
  } else {
    r = await api("POST", "/db/load", await file.text(), "text/plain");
  }
  $("restore-run").disabled = false;
  const results = r.data && r.data.results;
  const errs = Array.isArray(results) ? results.filter((x) => x.error).map((x) => x.error) : [];
  if (!r.ok || errs.length) {
    out.replaceChildren(el("div", { class: "error", role: "alert" }, "Restore failed: " + (errs.join("; ") || failure(r))));
    return;
  }
  out.replaceChildren(el("p", { class: "ok" }, "Restored " + file.name + "."));
}

function initBackup() {
  for (const e of document.querySelectorAll("#backup-form input")) {
    e.addEventListener("change", updateBackupLink);
    e.addEventListener("input", updateBackupLink);
  }
  $("restore-form").addEventListener("submit", restore);
  updateBackupLink();
}

// ---- Start ------------------------------------------------------------

initTheme();
initStatus();
initQuery();
initSchema();
initBackup();
initTabs();
