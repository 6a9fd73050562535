// Load test on loopback (issue 5): N concurrent streaming clients for S seconds against an in-process server.
// Checks every stream (status 200, [DONE], usage) and that each answer equals the same prompt run alone at
// temperature 0 (no mixed-up streams under batching), then reports aggregate tokens/s against one client.
//   node dist/tools/loadtest.js [--model PATH] [--clients 32] [--seconds 60] [--max-tokens 32]
// Exits 1 on any error or mismatch. Traffic goes only to 127.0.0.1, bounded in time.

import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadEngine } from "../src/generate/engine.js";
import { startServer } from "../src/server/server.js";
import { FIXTURES } from "../test/fixtures.js";

const { values: v } = parseArgs({
  options: {
    model: { type: "string", default: join(FIXTURES, "tiny-qwen2", "hf") },
    clients: { type: "string", default: "32" },
    seconds: { type: "string", default: "60" },
    "max-tokens": { type: "string", default: "32" },
  },
});
const clients = Number(v.clients);
const seconds = Number(v.seconds);
const maxTokens = Number(v["max-tokens"]);

const engine = loadEngine(v.model as string);
const srv = await startServer({ engine, modelName: "m", port: 0, maxBatch: clients });
const prompts = Array.from({ length: 32 }, (_, i) => `Question number ${i}: what is ${i}+${i * 3}?`);

async function one(p: string): Promise<{ text: string; tokens: number }> {
  const r = await fetch(`${srv.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "m",
      messages: [{ role: "user", content: p }],
      max_tokens: maxTokens,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    }),
  });
  if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${await r.text()}`);
  const body = await r.text();
  if (!body.includes("data: [DONE]")) throw new Error("stream ended without [DONE]");
  let text = "";
  let tokens = -1;
  for (const ev of body.split("\n\n")) {
    if (!ev.startsWith("data: {")) continue;
    const j = JSON.parse(ev.slice(6));
    const d = j.choices[0]?.delta;
    text += (d?.reasoning_content ?? "") + (d?.content ?? "");
    if (j.usage) tokens = j.usage.completion_tokens;
  }
  if (tokens < 0) throw new Error("no usage chunk");
  return { text, tokens };
}

const alone = new Map<string, string>();
for (const p of prompts) alone.set(p, (await one(p)).text);

async function run(n: number): Promise<{ tps: number; failures: number }> {
  const end = Date.now() + seconds * 1000;
  let tokens = 0;
  let requests = 0;
  let errors = 0;
  let mismatches = 0;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: n }, async (_, c) => {
      for (let i = c; Date.now() < end; i++) {
        const p = prompts[i % prompts.length];
        try {
          const r = await one(p);
          tokens += r.tokens;
          requests++;
          if (r.text !== alone.get(p)) mismatches++;
        } catch (e) {
          errors++;
          if (errors <= 3) console.error(`error: ${(e as Error).message}`);
        }
      }
    }),
  );
  const s = (Date.now() - t0) / 1000;
  const tps = tokens / s;
  console.log(
    `${String(n).padStart(3)} clients  ${String(requests).padStart(5)} requests  ${tps.toFixed(0).padStart(6)} tokens/s  errors ${errors}  mismatched streams ${mismatches}`,
  );
  return { tps, failures: errors + mismatches };
}

console.log(`model ${v.model}, ${seconds} s per run, ${maxTokens} tokens per request`);
const single = await run(1);
const many = await run(clients);
console.log(`aggregate ${clients} clients / 1 client: ${(many.tps / single.tps).toFixed(2)}x`);
await srv.close(5000);
process.exit(single.failures + many.failures > 0 ? 1 : 0);
