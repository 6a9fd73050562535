import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Rng } from "../rng.js";
import { answerOf, makeExample, operand, promptText, scratchpad, shape } from "./arith.js";
import { decode, END_THINK, EOS, encode, THINK } from "./vocab.js";

describe("addition scratchpad layout", () => {
  it("width 5 is the layout the shipped model was trained on", () => {
    const want = [
      "add __1234+5678_____",
      ">___1234+5678____",
      ">____1234+5678___",
      ">_____1234+5678__",
      ">______1234+5678_",
      "=______1234+_5678",
      "12______123+__567",
      "112______12+___56",
      "0912______1+____5",
      "06912______+_____",
    ].join("\n");
    assert.equal(scratchpad("1234", "5678"), want);
  });

  for (const width of [5, 6, 7]) {
    it(`width ${width}: every copy sits LINE + 1 tokens back and the last line holds the sum`, () => {
      const { M, LINE } = shape(width);
      const rng = new Rng(width);
      for (let k = 0; k < 40; k++) {
        const a = operand(rng, rng.int(1, width));
        const b = operand(rng, rng.int(1, width));
        const ids = encode(`${promptText(a, b)}${scratchpad(a, b, width)}${END_THINK}\n\n${answerOf(a, b)}${EOS}`);
        const think = scratchpad(a, b, width);
        const lines = think.slice(width - 2).split("\n");
        assert.ok(
          lines.every((l) => l.length === LINE - 1),
          think,
        );
        // Line 0's window copies the prompt's last M characters before "?" (a blank where the prompt has a
        // letter or a space) from LINE + 1 tokens back. Token indices: the line starts after <think>, "\n" and
        // the header; its window after the carry column.
        const win = ids.indexOf(encode(THINK)[0]) + 2 + (width - 2) + 1;
        for (let c = 0; c < M; c++) {
          const src = decode([ids[win + c - LINE - 1]]);
          assert.equal(decode([ids[win + c]]), /[0-9+]/.test(src) ? src : "_", `${a}+${b} line-0 column ${c}`);
        }
        // The answer copies the last line from column 1, LINE + 1 tokens back.
        const end = ids.indexOf(encode(END_THINK)[0]);
        const ans = answerOf(a, b);
        for (let j = 0; j < ans.length; j++) assert.equal(ids[end + 3 + j], ids[end + 3 + j - LINE - 1]);
        assert.equal(lines.at(-1)?.slice(1).split("_")[0], ans);
      }
    });
  }

  for (const width of [5, 6]) {
    it(`width ${width}: makeExample up-weights exactly line 0's window, each phase-2 carry and digit, </think> and the answer`, () => {
      const { W, M, LINE } = shape(width);
      const rng = new Rng(40 + width);
      for (let k = 0; k < 20; k++) {
        const ex = makeExample(rng, { minDigits: 1, maxDigits: width - 1, noThink: 0, width });
        const tok = (i: number) => decode([ex.ids[i]]);
        const start = ex.ids.indexOf(encode(THINK)[0]) + 2 + (width - 2); // line 0's first token
        const end = ex.ids.indexOf(encode(END_THINK)[0]);
        const want: number[] = [end];
        for (let c = 1; c <= M; c++) want.push(start + c);
        for (let l = start + (W + 1) * LINE; l < end; l += LINE) want.push(l, l + 1);
        for (let i = end + 3; tok(i) >= "0" && tok(i) <= "9"; i++) want.push(i);
        assert.deepEqual(
          [...(ex.computed ?? [])].sort((a, b) => a - b),
          want.sort((a, b) => a - b),
        );
        // And those are the tokens meant: phase-2 lines open with a carry (0/1) and a sum digit.
        for (let l = start + (W + 1) * LINE; l < end; l += LINE) assert.match(tok(l) + tok(l + 1), /^[01][0-9]$/);
      }
    });
  }

  it("makeExample honours the task's width, and rejects a width that is not a positive integer", () => {
    const rng = new Rng(1);
    const ex = makeExample(rng, { minDigits: 5, maxDigits: 5, noThink: 0, width: 6 });
    assert.match(decode(ex.ids), /add: _+\d{5}\+\d{5}_{6}\n/);
    assert.throws(() => makeExample(rng, { minDigits: 1, maxDigits: 1, noThink: 0, width: 0 }), /positive integer/);
  });
});
