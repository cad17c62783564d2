#include "server/live_page.h"

namespace fw {
namespace {

// Every string from the API reaches the DOM through textContent or a whitelisted class name;
// numbers are formatted before use. Nothing is loaded from elsewhere.
constexpr std::string_view kLivePage = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fraudwatch - live</title>
<style>
:root {
  --fg: #1b2230; --muted: #687385; --bg: #f5f6f8; --card: #ffffff; --line: #e2e5ea;
  --allow: #2b8a3e; --review: #d9480f; --block: #c92a2a; --accent: #1c7ed6;
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
header {
  display: flex; align-items: baseline; gap: 16px; padding: 16px 24px;
  border-bottom: 1px solid var(--line); background: var(--card);
}
h1 { font-size: 18px; margin: 0; font-weight: 600; }
h1 .dim { font-weight: 400; }
.dim { color: var(--muted); }
.spacer { flex: 1; }
.conn { font-size: 12px; padding: 2px 10px; border-radius: 10px; font-weight: 600; }
.conn.on { background: #d3f9d8; color: var(--allow); }
.conn.off { background: #ffe3e3; color: var(--block); }
main { padding: 20px 24px; max-width: 1200px; margin: 0 auto; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 16px; }
.card {
  background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 14px 16px; margin-bottom: 16px;
}
.label { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.big { font-size: 34px; font-weight: 650; font-variant-numeric: tabular-nums; margin: 4px 0; }
.sub { color: var(--muted); font-size: 13px; }
body.stale .big { color: var(--muted); }
#spark { width: 100%; height: 36px; display: block; }
#sparkline { fill: none; stroke: var(--accent); stroke-width: 1.5; vector-effect: non-scaling-stroke; }
.bar { display: flex; height: 18px; border-radius: 4px; overflow: hidden; background: var(--line); margin: 10px 0; }
.seg { height: 100%; width: 0; transition: width .4s; }
.seg.allow, .dot.allow { background: var(--allow); }
.seg.review, .dot.review { background: var(--review); }
.seg.block, .dot.block { background: var(--block); }
.legend { display: flex; gap: 20px; flex-wrap: wrap; font-variant-numeric: tabular-nums; }
.dot { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
table { width: 100%; border-collapse: collapse; margin-top: 8px; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
td.summary { white-space: normal; }
td.num { text-align: right; }
.action { font-weight: 700; font-size: 12px; padding: 1px 8px; border-radius: 4px; color: #fff; }
.action.allow { background: var(--allow); }
.action.review { background: var(--review); }
.action.block { background: var(--block); }
.action.other { background: var(--muted); }
</style>
</head>
<body class="stale">
<header>
  <h1>fraudwatch <span class="dim">- live</span></h1>
  <span id="conn" class="conn off">connecting</span>
  <span class="spacer"></span>
  <span class="dim">sim time <span id="simtime">-</span></span>
</header>
<main>
  <section class="cards">
    <div class="card">
      <div class="label">transactions / s</div>
      <div class="big" id="txps">-</div>
      <svg id="spark" viewBox="0 0 120 32" preserveAspectRatio="none" aria-label="transactions per second, last 60 s"><polyline id="sparkline" points=""></polyline></svg>
      <div class="sub">last 60 s</div>
    </div>
    <div class="card">
      <div class="label">alerts / s</div>
      <div class="big" id="alps">-</div>
      <div class="sub"><span id="altotal">-</span> alerts in total</div>
    </div>
    <div class="card">
      <div class="label">transactions</div>
      <div class="big" id="txtotal">-</div>
      <div class="sub">up <span id="uptime">-</span>, <span id="dead">-</span> dead letters</div>
    </div>
    <div class="card">
      <div class="label">decision latency</div>
      <div class="big" id="p50">-</div>
      <div class="sub">p50; p99 <span id="p99">-</span></div>
    </div>
  </section>
  <section class="card">
    <div class="label">decisions</div>
    <div class="bar"><div id="bar-allow" class="seg allow"></div><div id="bar-review" class="seg review"></div><div id="bar-block" class="seg block"></div></div>
    <div class="legend">
      <span><span class="dot allow"></span>ALLOW <b id="n-allow">-</b> <span class="dim" id="p-allow"></span></span>
      <span><span class="dot review"></span>REVIEW <b id="n-review">-</b> <span class="dim" id="p-review"></span></span>
      <span><span class="dot block"></span>BLOCK <b id="n-block">-</b> <span class="dim" id="p-block"></span></span>
    </div>
  </section>
  <section class="card">
    <div class="label">latest alerts</div>
    <table>
      <thead><tr><th>time</th><th>action</th><th>score</th><th>transaction</th><th>account</th><th>amount</th><th>merchant</th><th>country</th><th>summary</th><th>model</th><th>pattern</th></tr></thead>
      <tbody id="alerts"></tbody>
    </table>
    <div id="noalerts" class="sub">no alerts yet</div>
  </section>
</main>
<script>
"use strict";
(function () {
  const POLL_MS = 1000;
  const HISTORY = 60;
  const byId = (id) => document.getElementById(id);
  const history = [];
  const actionClass = new Map([["ALLOW", "allow"], ["REVIEW", "review"], ["BLOCK", "block"]]);

  function num(v) { return typeof v === "number" && Number.isFinite(v) ? v : NaN; }
  function str(v) { return v === undefined || v === null ? "" : String(v); }
  function setText(id, text) { byId(id).textContent = text; }
  function fmtInt(v) { v = num(v); return Number.isNaN(v) ? "-" : Math.round(v).toLocaleString("en-US"); }
  function fmtRate(v) {
    v = num(v);
    if (Number.isNaN(v)) return "-";
    return v >= 100 ? Math.round(v).toLocaleString("en-US") : v.toFixed(1);
  }
  function fmtMicros(v) {
    v = num(v);
    if (Number.isNaN(v)) return "-";
    if (v >= 1000000) return (v / 1000000).toFixed(2) + " s";
    if (v >= 1000) return (v / 1000).toFixed(1) + " ms";
    return Math.round(v) + " \u00b5s";
  }
  function fmtUptime(v) {
    v = num(v);
    if (Number.isNaN(v)) return "-";
    const s = Math.floor(v), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    if (h > 0) return h + "h " + m + "m";
    if (m > 0) return m + "m " + (s % 60) + "s";
    return s + "s";
  }
  function fmtTime(v) {
    const t = str(v);
    const m = /T(\d\d:\d\d:\d\d)/.exec(t);
    return m ? m[1] : t;
  }

  function setConnected(ok) {
    const c = byId("conn");
    c.textContent = ok ? "live" : "disconnected";
    c.className = "conn " + (ok ? "on" : "off");
    document.body.classList.toggle("stale", !ok);
  }

  function renderSpark() {
    const max = Math.max(1, ...history);
    const step = 120 / (HISTORY - 1);
    const offset = HISTORY - history.length;
    const pts = history.map((v, i) =>
      ((offset + i) * step).toFixed(1) + "," + (31 - (v / max) * 29).toFixed(1));
    byId("sparkline").setAttribute("points", pts.join(" "));
  }

  function renderStats(s) {
    setText("txps", fmtRate(s.tx_per_s));
    setText("alps", fmtRate(s.alerts_per_s));
    setText("txtotal", fmtInt(s.transactions));
    setText("altotal", fmtInt(s.alerts));
    setText("dead", fmtInt(s.dead_letters));
    setText("uptime", fmtUptime(s.uptime_s));
    setText("simtime", str(s.sim_time) || "-");
    const lat = s.latency_us || {};
    setText("p50", fmtMicros(lat.p50));
    setText("p99", fmtMicros(lat.p99));
    const d = s.decisions || {};
    const counts = { allow: num(d.ALLOW) || 0, review: num(d.REVIEW) || 0, block: num(d.BLOCK) || 0 };
    const total = counts.allow + counts.review + counts.block;
    for (const k of ["allow", "review", "block"]) {
      const pct = total > 0 ? (100 * counts[k]) / total : 0;
      byId("bar-" + k).style.width = pct.toFixed(2) + "%";
      setText("n-" + k, fmtInt(counts[k]));
      setText("p-" + k, total > 0 ? "(" + pct.toFixed(1) + "%)" : "");
    }
    const rate = num(s.tx_per_s);
    history.push(Number.isNaN(rate) ? 0 : rate);
    while (history.length > HISTORY) history.shift();
    renderSpark();
  }

  function cell(text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }

  // The model's score and its top feature contributions ("0.912: amount +1.20, ...").
  function modelText(m) {
    if (!m || typeof m !== "object") return "";
    const score = num(m.model_score);
    let text = Number.isNaN(score) ? "" : score.toFixed(3);
    const parts = (Array.isArray(m.contributions) ? m.contributions : []).map((c) => {
      const v = num(c && c.value);
      return str(c && c.feature) + " " + (Number.isNaN(v) ? "" : (v >= 0 ? "+" : "") + v.toFixed(2));
    });
    if (parts.length) text += (text ? ": " : "") + parts.join(", ");
    return text;
  }

  function renderAlerts(data) {
    const list = Array.isArray(data && data.alerts) ? data.alerts : [];
    const body = byId("alerts");
    const rows = list.map((a) => {
      const tr = document.createElement("tr");
      tr.appendChild(cell(fmtTime(a.created_at)));
      const action = str(a.action);
      const badge = document.createElement("span");
      badge.className = "action " + (actionClass.get(action) || "other");
      badge.textContent = action;
      const td = document.createElement("td");
      td.appendChild(badge);
      tr.appendChild(td);
      const score = num(a.score);
      tr.appendChild(cell(Number.isNaN(score) ? str(a.score) : score.toFixed(3), "num"));
      tr.appendChild(cell(str(a.transaction_id)));
      tr.appendChild(cell(str(a.account_id)));
      tr.appendChild(cell((str(a.amount) + " " + str(a.currency)).trim(), "num"));
      tr.appendChild(cell(str(a.merchant_id)));
      tr.appendChild(cell(str(a.country)));
      tr.appendChild(cell(str(a.summary), "summary"));
      tr.appendChild(cell(modelText(a.model), "summary"));
      tr.appendChild(cell(str(a.fraud_pattern)));
      return tr;
    });
    body.replaceChildren(...rows);
    byId("noalerts").style.display = rows.length ? "none" : "block";
  }

  async function getJson(path) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 2500);
    try {
      const res = await fetch(path, { cache: "no-store", signal: ctl.signal });
      if (!res.ok) throw new Error(path + ": HTTP " + res.status);
      return await res.json();
    } finally {
      clearTimeout(timer);
    }
  }

  async function tick() {
    try {
      const [stats, alerts] = await Promise.all([getJson("/api/stats"), getJson("/api/alerts?limit=20")]);
      renderStats(stats || {});
      renderAlerts(alerts);
      setConnected(true);
    } catch (e) {
      setConnected(false);
    }
    setTimeout(tick, POLL_MS);
  }

  tick();
})();
</script>
</body>
</html>
)HTML";

}  // namespace

std::string_view live_page_html() { return kLivePage; }

}  // namespace fw
