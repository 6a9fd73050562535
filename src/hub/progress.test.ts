import assert from "node:assert/strict";
import { test } from "node:test";
import { formatBytes, type PullEvent, progressReporter } from "./progress.js";

const events: PullEvent[] = [
  {
    type: "plan",
    repo: "o/r",
    revision: "main",
    commit: "0123456789abcdef0123456789abcdef01234567",
    files: [
      { path: "config.json", size: 1000, cached: true },
      { path: "model.safetensors", size: 2_000_000, cached: false },
    ],
    totalBytes: 2_001_000,
    downloadBytes: 2_000_000,
  },
  { type: "file-start", path: "model.safetensors", size: 2_000_000, resumeFrom: 0 },
  ...Array.from({ length: 20 }, () => ({ type: "bytes" as const, path: "model.safetensors", delta: 100_000 })),
  { type: "file-done", path: "model.safetensors", received: 2_000_000 },
  { type: "done", ref: "o/r", path: "/cache/x", receivedBytes: 2_000_000, seconds: 1.5 },
];

function render(isTTY: boolean): string {
  let out = "";
  const report = progressReporter({ isTTY, columns: 100, write: (s: string) => (out += s) });
  for (const e of events) report(e);
  return out;
}

test("plain lines when stderr is not a terminal: the size first, then files and deciles", () => {
  const out = render(false);
  assert.match(out, /^o\/r@0123456789: 2 files, 2.00 MB \(1 already cached\); downloading 2.00 MB\n/);
  assert.match(out, /get model\.safetensors 2\.00 MB\n/);
  assert.match(out, /50% of 2\.00 MB\n/);
  assert.match(out, /ok {2}model\.safetensors\n/);
  assert.ok(!out.includes("\r"), "no carriage returns in logs");
});

test("one redrawn bar on a terminal", () => {
  const out = render(true);
  assert.match(out, /\rpulling o\/r \[#+\] 100% 2\.00 MB\/2\.00 MB/);
  assert.match(out, /o\/r: 2\.00 MB in 1\.5 s -> \/cache\/x\n$/);
});

test("byte sizes read like a human wrote them", () => {
  assert.equal(formatBytes(999), "999 B");
  assert.equal(formatBytes(1_500_000), "1.50 MB");
  assert.equal(formatBytes(3_550_000_000), "3.55 GB");
});
