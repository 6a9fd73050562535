// r1 run: one prompt through the chat template, streamed: reasoning (dimmed on a terminal), then the answer,
// then tokens/s on stderr. With --json, one machine-readable object instead (the shape is a contract:
// scripts and checks parse it; see README).

import { usageError } from "../../core/errors.js";
import { chatPrompt, loadEngine } from "../../generate/engine.js";
import { type GenResult, generate, type TokenLogprob } from "../../generate/generate.js";
import { contextSize } from "../../generate/kv_cache.js";
import { ReasoningSplitter, splitReasoning } from "../../generate/reasoning.js";
import { idList, KERNEL_FLAGS, KERNEL_USAGE, kernelsFrom, modelRef, num, parse } from "../args.js";
import type { Command } from "../command.js";
import { resolveModelArg } from "../model_arg.js";

const usage = `r1 run --model PATH --prompt TEXT [flags]   (or: r1 run PATH --prompt TEXT)
r1 run --model PATH --prompt-ids 1,2,3 [flags]

  --model PATH         Hugging Face checkpoint folder, .gguf file, or hub reference (org/repo[:QUANT])
  --prompt TEXT        user message, rendered with the model's chat template
  --system TEXT        system message (R1's authors recommend none)
  --raw                send --prompt as-is, without the chat template
  --prompt-ids IDS     comma-separated token ids, no template
  --max-tokens N       tokens to generate (default 512)
  --temperature T      0 = greedy (default: generation_config.json, else 0.6)
  --top-p P  --top-k K  --min-p P  --seed S
  --stop TEXT          stop string (repeatable)
  --ctx-size N         context length (default: min(max_position_embeddings, 4096))
  --logprobs K         with --json: top-K logprobs per generated token
  --json               print one JSON object: prompt_tokens, tokens, text, logprobs (+ reasoning, answer)
  --no-pull            never download a hub reference
${KERNEL_USAGE}`;

export const command: Command = {
  name: "run",
  summary: "generate from a prompt (streams reasoning, then the answer)",
  usage,
  async run(argv) {
    const { values: v, positionals } = parse(
      argv,
      {
        model: { type: "string" },
        prompt: { type: "string" },
        system: { type: "string" },
        raw: { type: "boolean" },
        "prompt-ids": { type: "string" },
        "max-tokens": { type: "string" },
        temperature: { type: "string" },
        "top-p": { type: "string" },
        "top-k": { type: "string" },
        "min-p": { type: "string" },
        seed: { type: "string" },
        stop: { type: "string", multiple: true },
        "ctx-size": { type: "string" },
        logprobs: { type: "string" },
        json: { type: "boolean" },
        "no-pull": { type: "boolean" },
        ...KERNEL_FLAGS,
      },
      usage,
    );
    const ids = idList(v["prompt-ids"] as string | undefined, "prompt-ids");
    if (ids === undefined && v.prompt === undefined)
      throw usageError("give --prompt TEXT or --prompt-ids IDS", `usage:\n${usage}`);
    if (ids !== undefined && v.prompt !== undefined) throw usageError("give either --prompt or --prompt-ids, not both");
    const path = await resolveModelArg(modelRef(v, positionals, usage), {
      pull: !v["no-pull"],
    });
    const engine = loadEngine(path, { kernels: kernelsFrom(v) });
    const json = Boolean(v.json);
    if (!json) process.stderr.write(`loaded ${engine.name} in ${(engine.loadMs / 1000).toFixed(2)} s\n`);
    for (const n of engine.ckpt.notes) if (!json) process.stderr.write(`note: ${n}\n`);

    let prompt: number[];
    let startsInReasoning = false;
    if (ids) prompt = ids;
    else if (v.raw) prompt = engine.tokenizer.encode(v.prompt as string, { addSpecial: true });
    else {
      const messages = [
        ...(v.system !== undefined ? [{ role: "system", content: v.system as string }] : []),
        { role: "user", content: v.prompt as string },
      ];
      const p = chatPrompt(engine, messages);
      prompt = p.ids;
      startsInReasoning = p.startsInReasoning;
    }
    const maxTokens = num(v["max-tokens"] as string | undefined, "max-tokens", { int: true, min: 1 }) ?? 512;
    const logprobs = num(v.logprobs as string | undefined, "logprobs", { int: true, min: 0 });
    const ctx = contextSize(engine.model, num(v["ctx-size"] as string | undefined, "ctx-size", { int: true, min: 1 }));
    const gen = generate(engine.model, engine.tokenizer, prompt, {
      maxTokens,
      temperature:
        num(v.temperature as string | undefined, "temperature", { min: 0 }) ?? engine.generation.temperature ?? 0.6,
      topP: num(v["top-p"] as string | undefined, "top-p") ?? engine.generation.topP,
      topK: num(v["top-k"] as string | undefined, "top-k", { int: true, min: 0 }) ?? engine.generation.topK,
      minP: num(v["min-p"] as string | undefined, "min-p"),
      seed: num(v.seed as string | undefined, "seed", { int: true, min: 0 }),
      stop: v.stop as string[] | undefined,
      logprobs: json ? logprobs : undefined,
      ctx,
    });

    const tty = process.stdout.isTTY;
    const splitter = new ReasoningSplitter({ startInReasoning: startsInReasoning });
    let inReasoning = false;
    const write = (part: { reasoning: string; content: string }) => {
      if (part.reasoning) {
        if (!inReasoning && tty) process.stdout.write("\x1b[2m");
        inReasoning = true;
        process.stdout.write(part.reasoning);
      }
      if (part.content) {
        if (inReasoning) process.stdout.write(tty ? "\x1b[0m\n\n" : "\n\n");
        inReasoning = false;
        process.stdout.write(part.content);
      }
    };
    const lps: TokenLogprob[] = [];
    let result: GenResult;
    for (;;) {
      const step = await gen.next();
      if (step.done) {
        result = step.value;
        break;
      }
      if (step.value.logprob) lps.push(step.value.logprob);
      if (!json) write(splitter.push(step.value.text));
    }

    if (json) {
      const out: Record<string, unknown> = { prompt_tokens: prompt.length, tokens: result.tokens, text: result.text };
      if (logprobs !== undefined) out.logprobs = lps.slice(0, result.tokens.length);
      if (!ids) {
        const parts = splitReasoning(result.text, startsInReasoning);
        out.reasoning = parts.reasoning;
        out.answer = parts.content;
      }
      process.stdout.write(`${JSON.stringify(out)}\n`);
      return 0;
    }
    write(splitter.flush());
    if (tty && inReasoning) process.stdout.write("\x1b[0m");
    process.stdout.write("\n");
    const n = result.tokens.length;
    const tps = n / Math.max(result.decodeMs / 1000, 1e-9);
    const pps = (result.promptTokens - result.cachedTokens) / Math.max(result.prefillMs / 1000, 1e-9);
    process.stderr.write(
      `\n${n} tokens, ${tps.toFixed(2)} tokens/s (prompt ${result.promptTokens} tokens at ${pps.toFixed(1)} tokens/s), finish: ${result.finishReason}\n`,
    );
    return 0;
  },
};
