// The chat page served at GET /: one self-contained HTML file (no CDN, no build step) that talks to this
// server's own /v1 API. Answers stream in; the reasoning sits in a collapsible block above the answer; each
// reply shows tokens/s, its cost on every price table, energy and water; the conversation and the API key
// stay in the browser's localStorage. Earlier turns are sent back as content only (DeepSeek's rule).
// Element ids (#input, #send, .reasoning, .answer, .stats) are a contract for the browser test.

const HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>r1ts chat</title>
<style>
  :root { color-scheme: light dark; --fg: #1d1d1f; --bg: #fafafa; --mute: #6b6b70; --card: #fff; --line: #ddd; --acc: #2f6fed; }
  @media (prefers-color-scheme: dark) { :root { --fg: #e8e8ea; --bg: #17171a; --mute: #9a9aa2; --card: #222226; --line: #36363b; } }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); display: flex; flex-direction: column; height: 100vh; }
  header { display: flex; gap: .5rem; align-items: center; padding: .5rem 1rem; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
  header h1 { font-size: 1rem; margin: 0 .5rem 0 0; }
  header label { color: var(--mute); font-size: .85rem; }
  select, input, textarea, button { font: inherit; color: inherit; background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .3rem .5rem; }
  button { cursor: pointer; }
  button.primary { background: var(--acc); color: #fff; border-color: var(--acc); }
  #log { flex: 1; overflow-y: auto; padding: 1rem; display: flex; flex-direction: column; gap: .75rem; max-width: 56rem; width: 100%; margin: 0 auto; }
  .msg { padding: .6rem .8rem; border-radius: 8px; background: var(--card); border: 1px solid var(--line); white-space: pre-wrap; word-wrap: break-word; }
  .user { align-self: flex-end; max-width: 80%; }
  details.reasoning { color: var(--mute); font-size: .9rem; border-left: 3px solid var(--line); padding-left: .6rem; margin-bottom: .4rem; }
  details.reasoning summary { cursor: pointer; }
  .stats { color: var(--mute); font-size: .78rem; margin-top: .4rem; }
  .error { color: #d33; }
  form { display: flex; gap: .5rem; padding: .75rem 1rem; border-top: 1px solid var(--line); max-width: 56rem; width: 100%; margin: 0 auto; }
  textarea { flex: 1; resize: vertical; min-height: 2.6rem; }
</style>
</head>
<body>
<header>
  <h1>r1ts</h1>
  <label>model <select id="model"></select></label>
  <label>temperature <input id="temp" type="number" min="0" max="2" step="0.1" value="0.6" style="width:4.5rem"></label>
  <label>max tokens <input id="max" type="number" min="1" value="1024" style="width:6rem"></label>
  <label>API key <input id="key" type="password" placeholder="(none)" style="width:9rem"></label>
  <button id="clear" type="button">New chat</button>
</header>
<main id="log" aria-live="polite"></main>
<form id="form">
  <textarea id="input" placeholder="Ask something (Enter to send, Shift+Enter for a new line)"></textarea>
  <button id="send" class="primary" type="submit">Send</button>
</form>
<script>
"use strict";
const $ = (s) => document.querySelector(s);
const store = {
  get: (k, d) => { try { return JSON.parse(localStorage.getItem("r1ts." + k)) ?? d; } catch { return d; } },
  set: (k, v) => localStorage.setItem("r1ts." + k, JSON.stringify(v)),
};
let history = store.get("history", []); // [{role, content, reasoning?, stats?}]
$("#key").value = store.get("key", "");
$("#key").addEventListener("change", () => { store.set("key", $("#key").value); loadModels(); });
const headers = () => {
  const h = { "content-type": "application/json" };
  if ($("#key").value) h.authorization = "Bearer " + $("#key").value;
  return h;
};

async function loadModels() {
  const sel = $("#model");
  try {
    const r = await fetch("/v1/models", { headers: headers() });
    const j = await r.json();
    if (!r.ok) throw new Error(j.error?.message ?? r.status);
    sel.innerHTML = "";
    for (const m of j.data) sel.add(new Option(m.id, m.id));
    const want = store.get("model", null);
    if (want && j.data.some((m) => m.id === want)) sel.value = want;
  } catch (e) { sel.innerHTML = ""; sel.add(new Option("(" + e.message + ")", "")); }
}
$("#model").addEventListener("change", () => store.set("model", $("#model").value));

function fmtStats(s) {
  if (!s) return "";
  const parts = [s.tokens + " tokens", s.tps.toFixed(1) + " tokens/s"];
  if (s.metering) {
    for (const [k, v] of Object.entries(s.metering.cost_usd)) parts.push(k + " $" + v.toPrecision(3));
    if (s.metering.energy_joules != null) parts.push(s.metering.energy_joules.toPrecision(3) + " J (" + s.metering.energy_method + ")");
    if (s.metering.water_litres != null) parts.push((s.metering.water_litres * 1000).toPrecision(3) + " mL water");
  }
  return parts.join(" · ");
}

function bubble(turn) {
  const div = document.createElement("div");
  div.className = "msg " + turn.role;
  if (turn.role === "user") { div.textContent = turn.content; return div; }
  const det = document.createElement("details");
  det.className = "reasoning";
  det.innerHTML = "<summary>Reasoning</summary><div class=\"rtext\"></div>";
  det.querySelector(".rtext").textContent = turn.reasoning ?? "";
  if (!turn.reasoning) det.hidden = true;
  const ans = document.createElement("div");
  ans.className = "answer";
  ans.textContent = turn.content;
  const stats = document.createElement("div");
  stats.className = "stats";
  stats.textContent = fmtStats(turn.stats);
  div.append(det, ans, stats);
  return div;
}

function render() {
  const log = $("#log");
  log.innerHTML = "";
  for (const t of history) log.append(bubble(t));
  log.scrollTop = log.scrollHeight;
}

async function send(text) {
  history.push({ role: "user", content: text });
  const turn = { role: "assistant", content: "", reasoning: "" };
  history.push(turn);
  render();
  const el = $("#log").lastElementChild;
  const det = el.querySelector("details"), rtext = el.querySelector(".rtext"), ans = el.querySelector(".answer"), stats = el.querySelector(".stats");
  det.open = true;
  const messages = history.slice(0, -1).map((t) => ({ role: t.role, content: t.content }));
  const t0 = performance.now();
  let first = 0, tokens = 0;
  $("#send").disabled = true;
  try {
    const r = await fetch("/v1/chat/completions", {
      method: "POST", headers: headers(),
      body: JSON.stringify({ model: $("#model").value, messages, stream: true, stream_options: { include_usage: true },
        temperature: Number($("#temp").value), max_tokens: Number($("#max").value) }),
    });
    if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error?.message ?? "HTTP " + r.status);
    const reader = r.body.getReader();
    const dec = new TextDecoder();
    let buf = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const ev = buf.slice(0, i); buf = buf.slice(i + 2);
        const data = ev.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
        if (!data || data === "[DONE]") continue;
        const j = JSON.parse(data);
        if (j.error) throw new Error(j.error.message);
        const d = j.choices?.[0]?.delta ?? {};
        if (d.reasoning_content) { turn.reasoning += d.reasoning_content; rtext.textContent = turn.reasoning; det.hidden = false; tokens++; }
        if (d.content) { if (!turn.content) det.open = false; turn.content += d.content; ans.textContent = turn.content; tokens++; }
        if ((d.reasoning_content || d.content) && !first) first = performance.now();
        if (j.usage) tokens = j.usage.completion_tokens;
        if (j.metering) turn.stats = { ...(turn.stats ?? {}), metering: j.metering };
        const secs = (performance.now() - (first || t0)) / 1000;
        turn.stats = { ...(turn.stats ?? {}), tokens, tps: secs > 0 ? tokens / secs : 0 };
        stats.textContent = fmtStats(turn.stats);
        $("#log").scrollTop = $("#log").scrollHeight;
      }
    }
  } catch (e) {
    turn.content += (turn.content ? "\n" : "") + "[error: " + e.message + "]";
    ans.textContent = turn.content;
    ans.classList.add("error");
  } finally {
    $("#send").disabled = false;
    store.set("history", history);
  }
}

$("#form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("#input").value.trim();
  if (!text) return;
  $("#input").value = "";
  send(text);
});
$("#input").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("#form").requestSubmit(); }
});
$("#clear").addEventListener("click", () => { history = []; store.set("history", history); render(); });
loadModels();
render();
</script>
</body>
</html>
`;

export function chatPage(): string {
  return HTML;
}
