// Chat templates: the fixtures' real R1 / V3 templates, the built-in fallback against them, R1's `<think>\n`
// generation prompt, and errors that name the template.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { FIXTURES, type Golden } from "../../test/fixtures.js";
import { R1Error } from "../core/errors.js";
import { openGGUF } from "../formats/gguf.js";
import { type ChatMessage, ChatTemplate, encodeChat, promptEndsInThink } from "./chat_template.js";
import { R1Tokenizer } from "./tokenizer.js";

const BOS = "<｜begin▁of▁sentence｜>";
const EOS = "<｜end▁of▁sentence｜>";
const qwenDir = join(FIXTURES, "tiny-qwen2", "hf");
const v3Dir = join(FIXTURES, "tiny-deepseek-v3", "hf");

const isR1 = (code: string, fragment: string) => (e: unknown) =>
  e instanceof R1Error && e.code === code && e.message.includes(fragment);

const CONVERSATIONS: { name: string; messages: ChatMessage[] }[] = [
  { name: "one user turn", messages: [{ role: "user", content: "hi" }] },
  {
    name: "system prompt",
    messages: [
      { role: "system", content: "You are terse." },
      { role: "user", content: "2+2?" },
    ],
  },
  {
    name: "multi-turn with reasoning in the earlier answer",
    messages: [
      { role: "user", content: "What is 2+2?" },
      { role: "assistant", content: "<think>\nAdd them.\n</think>\n\n4" },
      { role: "user", content: "And 3+3?" },
    ],
  },
  {
    name: "earlier answer without reasoning, unicode",
    messages: [
      { role: "user", content: "你好 👋" },
      { role: "assistant", content: "Привет" },
      { role: "user", content: "x\n\ny" },
    ],
  },
];

describe("the checkpoint's own template", () => {
  test("R1 renders one user turn with the <think>\\n generation prompt", () => {
    const tok = R1Tokenizer.fromFolder(qwenDir);
    const t = ChatTemplate.fromTokenizer(tok);
    assert.equal(t.builtin, false);
    const prompt = t.render([{ role: "user", content: "hi" }]);
    assert.equal(prompt, `${BOS}<｜User｜>hi<｜Assistant｜><think>\n`);
    assert.ok(promptEndsInThink(prompt));
    assert.equal(t.render([{ role: "user", content: "hi" }], { addGenerationPrompt: false }), `${BOS}<｜User｜>hi`);
  });

  test("earlier assistant turns keep only the text after </think>", () => {
    const t = ChatTemplate.fromTokenizer(R1Tokenizer.fromFolder(qwenDir));
    assert.equal(
      t.render(CONVERSATIONS[2].messages),
      `${BOS}<｜User｜>What is 2+2?<｜Assistant｜>\n\n4${EOS}<｜User｜>And 3+3?<｜Assistant｜><think>\n`,
    );
  });

  test("V3's template has no <think> prompt", () => {
    const prompt = ChatTemplate.fromTokenizer(R1Tokenizer.fromFolder(v3Dir)).render([{ role: "user", content: "hi" }]);
    assert.equal(prompt, `${BOS}<｜User｜>hi<｜Assistant｜>`);
    assert.ok(!promptEndsInThink(prompt));
  });

  for (const model of ["tiny-qwen2", "tiny-deepseek-v3"]) {
    test(`${model}: encodeChat gives llama.cpp's chat prompt tokens, from HF and from GGUF`, () => {
      const golden: Golden = JSON.parse(readFileSync(join(FIXTURES, model, "golden.json"), "utf8"));
      const chat = golden.prompts.find((p) => p.name === "chat")!;
      const messages = [{ role: "user", content: "What is 2+2?" }];
      const hf = R1Tokenizer.fromFolder(join(FIXTURES, model, "hf"));
      const file = openGGUF(join(FIXTURES, model, "model-f32.gguf"));
      const gguf = R1Tokenizer.fromGGUF(file.metadata, model);
      file.close();
      for (const tok of [hf, gguf]) {
        assert.equal(ChatTemplate.fromTokenizer(tok).render(messages), chat.text);
        assert.deepEqual(encodeChat(tok, messages), chat.tokens);
      }
    });
  }

  test("tokenizer_config lists of named templates", () => {
    const json = JSON.parse(readFileSync(join(qwenDir, "tokenizer.json"), "utf8"));
    const config = {
      bos_token: BOS,
      chat_template: [
        { name: "default", template: "{{ bos_token }}{{ messages[0].content }}" },
        { name: "tool_use", template: "{{ messages[0].name }}:{{ tools | length }}" },
      ],
    };
    const tok = R1Tokenizer.fromJSON(json, config, "cfg.json");
    const messages = [{ role: "user", content: "x", name: "alice" }];
    assert.equal(ChatTemplate.fromTokenizer(tok).render(messages), `${BOS}x`);
    // Extra message fields and extra variables reach the template.
    const toolUse = ChatTemplate.fromTokenizer(tok, "tool_use");
    assert.equal(toolUse.render(messages, { variables: { tools: [1, 2] } }), "alice:2");
    assert.throws(() => ChatTemplate.fromTokenizer(tok, "rag"), isR1("usage", '"rag"'));
  });
});

describe("built-in R1 template", () => {
  const fixtureR1 = ChatTemplate.fromTokenizer(R1Tokenizer.fromFolder(qwenDir));
  const fixtureV3 = ChatTemplate.fromTokenizer(R1Tokenizer.fromFolder(v3Dir));
  const builtin = ChatTemplate.builtinR1();

  test("renders exactly what DeepSeek-R1's template renders", () => {
    for (const { name, messages } of CONVERSATIONS) {
      for (const addGenerationPrompt of [true, false]) {
        assert.equal(
          builtin.render(messages, { addGenerationPrompt }),
          fixtureR1.render(messages, { addGenerationPrompt }),
          name,
        );
      }
    }
  });

  test("joins several system prompts as V3 / R1 do", () => {
    const messages: ChatMessage[] = [
      { role: "system", content: "A." },
      { role: "user", content: "q" },
      { role: "system", content: "B." },
      { role: "assistant", content: "a" },
    ];
    const want = fixtureV3.render(messages, { addGenerationPrompt: false });
    assert.equal(want, `${BOS}A.\n\nB.<｜User｜>q<｜Assistant｜>a${EOS}`);
    assert.equal(builtin.render(messages, { addGenerationPrompt: false }), want);
  });

  test("a checkpoint without a template falls back to it, with its own BOS", () => {
    const json = JSON.parse(readFileSync(join(qwenDir, "tokenizer.json"), "utf8"));
    const tok = R1Tokenizer.fromJSON(json, { bos_token: EOS }, "no-template");
    const t = ChatTemplate.fromTokenizer(tok);
    assert.equal(t.builtin, true);
    assert.equal(t.render([{ role: "user", content: "hi" }]), `${EOS}<｜User｜>hi<｜Assistant｜><think>\n`);
    assert.throws(() => ChatTemplate.fromTokenizer(tok, "tool_use"), isR1("usage", '"tool_use"'));
  });

  test("roles it cannot render are refused, naming the template", () => {
    assert.throws(
      () => builtin.render([{ role: "tool", content: "42" }]),
      isR1(
        "input",
        'built-in DeepSeek-R1 chat template: rendering failed: the built-in R1 template takes system, user and assistant messages, not "tool"',
      ),
    );
  });
});

describe("errors", () => {
  test("a malformed template names its source", () => {
    assert.throws(
      () => ChatTemplate.fromString("{% if %}oops", { source: "m/tokenizer_config.json" }),
      isR1("format", "m/tokenizer_config.json: chat_template: cannot parse"),
    );
    const json = JSON.parse(readFileSync(join(qwenDir, "tokenizer.json"), "utf8"));
    const tok = R1Tokenizer.fromJSON(json, { chat_template: "{% for m in messages %}" }, "broken-model");
    assert.throws(() => ChatTemplate.fromTokenizer(tok), isR1("format", 'broken-model chat template "default"'));
  });

  test("a template that fails while rendering names its source", () => {
    const t = ChatTemplate.fromString("{{ raise_exception('roles must alternate') }}", { source: "strict.jinja" });
    assert.throws(() => t.render([]), isR1("input", "strict.jinja: rendering failed: roles must alternate"));
    const r1 = ChatTemplate.fromTokenizer(R1Tokenizer.fromFolder(qwenDir));
    // R1's template concatenates content: a null user content cannot render.
    assert.throws(() => r1.render([{ role: "user", content: null }]), isR1("input", "rendering failed"));
  });

  test("malformed messages are usage errors", () => {
    const t = ChatTemplate.builtinR1();
    assert.throws(() => t.render([{ role: "user", content: 5 as unknown as string }]), isR1("usage", "message 0"));
    assert.throws(() => t.render([{ content: "x" } as unknown as ChatMessage]), isR1("usage", '"role"'));
  });
});

test("promptEndsInThink", () => {
  assert.equal(promptEndsInThink("<｜Assistant｜><think>\n"), true);
  assert.equal(promptEndsInThink("<｜Assistant｜><think>"), true);
  assert.equal(promptEndsInThink("<｜Assistant｜><think>\n\n"), true);
  assert.equal(promptEndsInThink("<｜Assistant｜>"), false);
  assert.equal(promptEndsInThink("<think>\nx</think>\n"), false);
  assert.equal(promptEndsInThink("<think>\nhalf way"), false);
});
