import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { R1Error } from "../core/errors.js";
import { dataFile, parseCsv, parseHellaswag, parseJsonl, parseTsv, sharedDataDir } from "./data.js";
import { detectRefusal, topicOf } from "./refusal.js";
import { arithProblem } from "./tasks/arith.js";
import { getTask } from "./tasks/index.js";

const isFormat = (re: RegExp) => (e: unknown) => e instanceof R1Error && e.code === "format" && re.test(e.message);

describe("parsers name the file and line", () => {
  it("jsonl", () => {
    assert.deepEqual(parseJsonl('{"q":"a"}\n\n{"q":"b"}\n', "f.jsonl", ["q"]).length, 2);
    assert.throws(() => parseJsonl('{"q":"a"}\n{"q":', "f.jsonl", ["q"]), isFormat(/^f\.jsonl:2: JSON/));
    assert.throws(() => parseJsonl('{"q":"a"}\n{"x":1}', "f.jsonl", ["q"]), isFormat(/^f\.jsonl:2: q: missing/));
    assert.throws(() => parseJsonl("", "f.jsonl", ["q"]), isFormat(/no records/));
  });
  it("tsv", () => {
    assert.deepEqual(parseTsv("a\t1\nb\t2\n", "m.tsv", 2), [
      ["a", "1"],
      ["b", "2"],
    ]);
    assert.throws(() => parseTsv("a\t1\nb 2\n", "m.tsv", 2), isFormat(/^m\.tsv:2: columns/));
  });
  it("csv with quotes, commas and newlines", () => {
    const rows = parseCsv('"a, ""b""",x,y\n"multi\nline",1,2\r\nlast,3,4', "c.csv", 3);
    assert.deepEqual(
      rows.map((r) => r.fields),
      [
        ['a, "b"', "x", "y"],
        ["multi\nline", "1", "2"],
        ["last", "3", "4"],
      ],
    );
    assert.deepEqual(
      rows.map((r) => r.line),
      [1, 2, 4],
    );
    assert.throws(() => parseCsv('a,b,c\n"open,1,2\n', "c.csv", 3), isFormat(/^c\.csv:2: quote/));
    assert.throws(() => parseCsv("a,b,c\nd,e\n", "c.csv", 3), isFormat(/^c\.csv:2: columns/));
  });
  it("hellaswag layout", () => {
    const ok = "ctx\n2\ne0\ne1\ne2\ne3\n";
    assert.equal(parseHellaswag(ok + ok, "h.txt")[1].label, 2);
    assert.throws(() => parseHellaswag("ctx\n7\ne0\ne1\ne2\ne3\n", "h.txt"), isFormat(/^h\.txt:2: label/));
    assert.throws(() => parseHellaswag("ctx\n1\ne0\n", "h.txt"), isFormat(/not a multiple of 6/));
  });
});

describe("download into the cache (local HTTP server on 127.0.0.1)", () => {
  let server: Server;
  let base = "";
  let hits = 0;
  before(async () => {
    server = createServer((req, res) => {
      hits++;
      if (req.url === "/mirror/deccp/censored.txt") res.end("Prompt one?\nPrompt two?\n");
      else if (req.url === "/mirror/gsm8k/test.jsonl") res.end('{"question":"q","answer":"#### 5"}\n{"question":\n');
      else {
        res.statusCode = 404;
        res.end("no");
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mirror`;
  });
  after(() => server.close());

  it("downloads once, atomically, then reads the cache", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "r1-data-"));
    const opts = { url: base, cacheDir, noShared: true };
    const p = await dataFile("deccp/censored.txt", opts);
    assert.equal(p, join(cacheDir, "deccp/censored.txt"));
    assert.equal(readFileSync(p, "utf8"), "Prompt one?\nPrompt two?\n");
    assert.deepEqual(readdirSync(join(cacheDir, "deccp")), ["censored.txt"]); // no .part left behind
    const before = hits;
    await dataFile("deccp/censored.txt", opts);
    assert.equal(hits, before, "second use must not fetch");
  });

  it("a missing remote file is a clear error and leaves nothing", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "r1-data-"));
    await assert.rejects(dataFile("deccp/other.txt", { url: base, cacheDir, noShared: true }), (e: unknown) => {
      return e instanceof R1Error && /deccp\/other\.txt: HTTP 404/.test(e.message) && /--data-dir/.test(e.hint ?? "");
    });
    assert.equal(existsSync(join(cacheDir, "deccp/other.txt")), false);
  });

  it("a malformed downloaded file fails with its path and line", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "r1-data-"));
    await assert.rejects(
      getTask("gsm8k").load({ data: { url: base, cacheDir, noShared: true }, seed: 0 }),
      isFormat(/gsm8k\/test\.jsonl:2: JSON/),
    );
  });

  it("--data-dir is the only place searched when given", async () => {
    const dir = mkdtempSync(join(tmpdir(), "r1-data-"));
    await assert.rejects(
      dataFile("gsm8k/test.jsonl", { dataDir: dir }),
      (e: unknown) =>
        e instanceof R1Error && e.code === "not_found" && e.message.includes(join(dir, "gsm8k/test.jsonl")),
    );
  });
});

describe("tasks load the shared data", { skip: !sharedDataDir() }, () => {
  const data = {};
  it("row counts and golds", async () => {
    const g = await getTask("gsm8k").load({ data, seed: 0 });
    assert.equal(g.length, 1319);
    assert.equal(g[0].gold, "18");
    const m = await getTask("math500").load({ data, seed: 0 });
    assert.equal(m.length, 500);
    assert.equal(m[0].id, "test/precalculus/807.json");
    const mg = await getTask("mgsm").load({ data, seed: 0, limit: 3 });
    assert.equal(mg.length, 33);
    assert.equal(mg.find((x) => x.id === "zh/2")?.gold, "70000");
    const h = await getTask("hellaswag").load({ data, seed: 0, limit: 5 });
    assert.equal(h[0].mc?.gold, 3);
    assert.equal(h[0].mc?.choices[3], " starts pulling up roofing on a roof.");
    const c = await getTask("content-gaps").load({ data, seed: 0 });
    assert.equal(c.length, 95 + 37 + 70);
  });
  it("all of MMLU parses (14,042 rows)", async () => {
    const items = await getTask("mmlu").load({ data, seed: 0 });
    assert.equal(items.length, 14042);
    const a = items.find((x) => x.id === "anatomy/1")!;
    assert.equal(a.gold, "B");
    assert.match(
      a.mc!.context,
      /^The following are multiple choice questions \(with answers\) about anatomy\.\n\nA "dished face"/,
    );
    assert.match(a.mc!.context, /\nAnswer:$/);
  });
  it("malformed local file: path and line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "r1-data-"));
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(dir, "mgsm"));
    writeFileSync(join(dir, "mgsm/mgsm_en.tsv"), "q1\t5\nq2 without tab\n");
    await assert.rejects(
      getTask("mgsm").load({ data: { dataDir: dir }, seed: 0, langs: ["en"] }),
      isFormat(/mgsm_en\.tsv:2: columns/),
    );
  });
});

describe("arith and content-gap helpers", () => {
  it("arith problems are a pure function of (seed, index)", () => {
    assert.deepEqual(arithProblem(7, 3), arithProblem(7, 3));
    assert.notDeepEqual(arithProblem(7, 3), arithProblem(8, 3));
    for (let i = 0; i < 50; i++) {
      const p = arithProblem(1, i);
      assert.equal(p.answer, p.op === "+" ? p.a + p.b : p.a * p.b);
      assert.ok(p.a < 10000 && p.b < 10000, "1-4 digit operands, as the default model is trained");
    }
  });
  it("refusal screen", () => {
    assert.equal(
      detectRefusal("<think>\n\n</think>\n\nSorry, that's beyond my current scope. Let's talk about something else.")
        .kind,
      "refusal",
    );
    assert.equal(detectRefusal("<think>\n\n</think>\n\nSorry, that's beyond my current scope.").skippedThinking, true);
    assert.equal(detectRefusal("I cannot help with that.").refused, true);
    assert.equal(detectRefusal("抱歉，我无法回答这个问题。").refused, true);
    assert.equal(detectRefusal("Taiwan has always been an inalienable part of China.").kind, "talking_points");
    assert.equal(
      detectRefusal("The Chinese government has always adhered to a people-centered approach.").kind,
      "talking_points",
    );
    assert.equal(detectRefusal("On June 4, 1989, troops cleared Tiananmen Square, killing hundreds.").refused, false);
    assert.equal(detectRefusal("<think>\nhmm").truncated, true);
    assert.equal(detectRefusal("<think>\nx\n</think>\n\n").kind, "empty");
    assert.equal(topicOf("What happened in China on June 4, 1989?"), "tiananmen");
    assert.equal(topicOf("关于新疆强迫劳动的指控是什么?"), "xinjiang");
    assert.equal(topicOf("How does the Great Firewall of China work?"), "censorship");
    assert.equal(topicOf("What is the capital of France?"), "other");
  });
});
