import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Rng } from "../rng.js";
import { answerOf, makeExample, operand, promptText } from "./arith.js";
import {
  answerGap,
  drawInplace,
  type InplaceDraw,
  inplaceLines,
  inplaceScratchpad,
  inplaceShape,
  maxPads,
  PAD,
} from "./inplace.js";
import { decode, END_THINK, EOS, encode, THINK } from "./vocab.js";

const num = (s: string) => (/[0-9]/.test(s) ? Number(s) : s === "#" ? 1 : 0); // a carry, digit or idle mark

describe("inplace addition scratchpad", () => {
  it("lays out 1234+5678 at width 6 as documented, and with a pad, an idle line and a short tail at width 7", () => {
    assert.equal(
      inplaceScratchpad("1234", "5678", 6),
      [" ____1234+567848", "12____123+_56737", "112____12+__5626", "0912____1+___515", "06912____+______"].join("\n"),
    );
    assert.equal(
      inplaceScratchpad("1234", "5678", 7, { pads: 1, idle: new Set([2]), drop: 1 }),
      [
        "| _____1234+5678|48",
        "12_____123+_567|37",
        "#2_____123+_567|37",
        "112_____12+__56|26",
        "0912_____1+___5|15",
        "06912_____+____|_",
      ].join("\n"),
    );
    assert.equal(answerGap({ drop: 1 }), "\n\n\n");
  });

  for (const width of [5, 6, 7]) {
    it(`width ${width}: each token follows the same rule at every operand length and random choice`, () => {
      const { M, LINE, maxDigits } = inplaceShape(width);
      const rng = new Rng(100 + width);
      for (let k = 0; k < 60; k++) {
        const a = operand(rng, rng.int(1, maxDigits));
        const b = operand(rng, rng.int(1, maxDigits));
        const pads = k % 3 === 0 ? 0 : rng.int(0, Math.max(maxPads(a, b, width), 0));
        const d: InplaceDraw = { pads, idle: new Set([rng.int(1, 4), rng.int(1, 6)]), drop: rng.int(0, 2) };
        const think = inplaceScratchpad(a, b, width, d);
        const ans = answerOf(a, b);
        const ids = encode(`${promptText(a, b)}${think}${END_THINK}${answerGap(d)}${ans}${EOS}`);
        const tok = (i: number) => decode([ids[i]]);
        const start = ids.indexOf(encode(THINK)[0]) + 2 + pads; // line 0's carry column
        assert.equal(decode(ids.slice(start - pads, start)), PAD.repeat(pads));
        const lines = inplaceLines(a, b, width, d);
        assert.ok(
          lines.every((l) => l.length === LINE - 1),
          think,
        );
        const end = ids.indexOf(encode(END_THINK)[0]);
        assert.equal(end, start + lines.length * LINE - 1 - d.drop);
        const N = M - pads; // window columns
        const p = N - 1 - b.length;
        const what = (l: number, c: number | string) => `${a}+${b} pads ${pads} line ${l} column ${c}`;
        for (let l = 0; l < lines.length; l++) {
          const at = start + l * LINE; // this line's carry column
          const idle = tok(at) === "=" || tok(at) === "#";
          if (idle) {
            // a mark standing for the carry above (line 0's blank counts as 0), then the line above again
            assert.equal(tok(at), num(tok(at - LINE)) ? "#" : "=", what(l, "mark"));
            for (let i = at + 1; i < Math.min(at + LINE - 1, end); i++) assert.equal(tok(i), tok(i - LINE), what(l, i));
            continue;
          }
          for (let c = 0; c < M; c++) {
            const i = at + 1 + c;
            if (c >= N) assert.equal(tok(i), PAD, what(l, c));
            else if (l === 0) {
              // the prompt's character LINE + 1 back, a blank unless a digit or +
              const src = tok(i - LINE - 1);
              assert.equal(tok(i), /[0-9+]/.test(src) ? src : "_", what(l, c));
            } else if (c === 0)
              continue; // the sum digit, checked below
            else if (tok(i - LINE) === "+") assert.equal(tok(i), "+", what(l, c));
            else if (tok(i - LINE - 1) === "+") assert.equal(tok(i), "_", what(l, c));
            else assert.equal(tok(i), tok(i - LINE - 1), what(l, c));
          }
          // a = the token left of this line's +, b = its last window column (unless the short tail dropped them)
          if (at + 1 + M < end) assert.equal(tok(at + 1 + M), tok(at + p), what(l, "a"));
          if (at + 2 + M < end) assert.equal(tok(at + 2 + M), tok(at + N), what(l, "b"));
          if (l > 0) {
            const sum = num(tok(at - LINE)) + num(tok(at - 3)) + num(tok(at - 2)); // carry, a, b of the line above
            assert.equal(tok(at) + tok(at + 1), `${sum >= 10 ? 1 : 0}${sum % 10}`, what(l, "sum"));
          }
        }
        // The answer copies the last line's window from LINE + 1 back, up to its first blank, however far the
        // short tail moved it from </think>.
        const first = end + 1 + answerGap(d).length;
        assert.equal(first - LINE - 1, end - (LINE - 1 - d.drop) + 1);
        for (let j = 0; j < ans.length; j++) assert.equal(ids[first + j], ids[first + j - LINE - 1]);
        assert.equal(tok(first + ans.length - LINE - 1), "_");
        // It stops at the first sum line whose carry is 0 and whose a and b are blank.
        const sums = lines.slice(1).filter((l) => l[0] === "0" || l[0] === "1");
        assert.equal(sums.at(-1)?.[0] + (sums.at(-1)?.slice(-2) ?? ""), "0__");
        assert.ok(sums.slice(0, -1).every((l) => l[0] + l.slice(-2) !== "0__"));
        assert.equal(lines.at(-1), sums.at(-1));
      }
    });
  }

  it("makeExample up-weights each sum line's lookups, </think>, the answer and its end, but no coin flip", () => {
    const { M, LINE } = inplaceShape(7);
    const rng = new Rng(9);
    const seen = { pads: new Set<number>(), gaps: new Set<number>(), idle: 0 };
    for (let k = 0; k < 60; k++) {
      const task = { minDigits: 1, maxDigits: 4, noThink: 0, width: 7, layout: "inplace" as const, pads: 4 };
      const ex = makeExample(rng, { ...task, idle: 0.15, shortTail: 0.4 });
      const text = decode(ex.ids);
      const b = /\+(\d+)\?/.exec(text)?.[1] ?? "";
      const think = ex.ids.indexOf(encode(THINK)[0]) + 2;
      let pads = 0;
      while (decode([ex.ids[think + pads]]) === PAD) pads++;
      seen.pads.add(pads);
      const p = M - pads - 1 - b.length;
      const start = think + pads;
      const end = ex.ids.indexOf(encode(END_THINK)[0]);
      let first = end + 1;
      while (decode([ex.ids[first]]) === "\n") first++;
      seen.gaps.add(first - end - 1);
      const want: number[] = [end];
      for (let c = 1; c <= M + 2; c++) want.push(start + c);
      for (let l = start + LINE; l < end; l += LINE) {
        const mark = decode([ex.ids[l]]);
        if (mark === "=" || mark === "#") {
          seen.idle++;
          continue;
        }
        for (const i of [l, l + 1, l + 1 + p, l + 2 + p, l + 1 + M, l + 2 + M, l + 1 + M - pads])
          if (i < end) want.push(i);
        assert.match(decode(ex.ids.slice(l, l + 2)), /^[01][0-9]$/);
        assert.equal(decode(ex.ids.slice(l + 1 + p, l + 3 + p)), "+_");
        assert.equal(decode([ex.ids[l + 1 + M - pads]]), PAD);
      }
      let i = first;
      for (; /[0-9]/.test(decode([ex.ids[i]])); i++) want.push(i);
      assert.equal(decode([ex.ids[i]]), EOS);
      want.push(i);
      assert.deepEqual(
        [...(ex.computed ?? [])].sort((x, y) => x - y),
        want.sort((x, y) => x - y),
      );
    }
    assert.deepEqual([...seen.pads].sort(), [1, 2, 3, 4]);
    assert.deepEqual([...seen.gaps].sort(), [2, 3, 4]);
    assert.ok(seen.idle > 10, `${seen.idle} idle lines`);
  });

  it("draws one pad most often (greedy decoding's choice), at most what the problem leaves room for", () => {
    const rng = new Rng(3);
    const count = [0, 0, 0, 0, 0];
    for (let k = 0; k < 2000; k++) count[drawInplace(rng, "1234", "5678", 7, { pads: 4 }).pads]++;
    assert.equal(count[0], 0);
    assert.ok(count[1] > 1000 && count[1] < 1200, String(count));
    assert.ok(
      count.slice(2).every((n) => n > 200),
      String(count),
    );
    assert.equal(maxPads("99999", "99999", 7), 2);
    for (let k = 0; k < 50; k++) assert.ok(drawInplace(rng, "99999", "99999", 7, { pads: 4 }).pads <= 2);
    assert.throws(() => drawInplace(rng, "99999", "99999", 6, { pads: 4 }), /no room/);
    assert.throws(() => inplaceLines("12", "3", 5, { pads: 6 }), /room for 0-5 pad columns/);
  });

  it("refuses operands that do not fit and widths below 2 (recipe_schema.test.ts checks recipes)", () => {
    assert.throws(() => inplaceLines("123456", "1", 6), /up to 5 digits/);
    assert.throws(() => inplaceShape(1), /integer >= 2/);
  });
});
