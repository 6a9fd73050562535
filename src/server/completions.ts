// POST /v1/completions on the local model: raw text in, raw text out (no chat template, no reasoning split).
// The evaluator scores with it as lm-eval-harness's `local-completions` does: `echo: true` with `logprobs: k`
// (and max_tokens 0, or 1 with the generated token ignored) returns the log-likelihood of every prompt
// token given the ones before it: token_logprobs[0] and top_logprobs[0] are null, as OpenAI's API has them.
// A batch of prompts (strings or token-id lists) becomes one choice per prompt, all decoded together.

import type { Context } from "hono";
import type { TokenLogprob } from "../generate/generate.js";
import { badRequest, body, toApiError } from "./errors.js";
import {
  anySignal,
  budget,
  FINGERPRINT,
  type LocalModel,
  meteringOf,
  newId,
  samplingFor,
  submit,
  tokenInfo,
  usageOf,
} from "./local.js";
import type { Completion, CompletionLogprobs, CompletionRequest, Usage } from "./protocol.js";
import type { SeqHandle, SeqResult } from "./scheduler.js";
import { sseStream } from "./sse.js";

interface Prompt {
  ids: number[];
  text: string;
}

function prompts(m: LocalModel, req: CompletionRequest): Prompt[] {
  const tok = m.engine.tokenizer;
  const p = req.prompt;
  const list: (string | number[])[] =
    typeof p === "string" ? [p] : typeof p[0] === "number" ? [p as number[]] : (p as (string | number[])[]);
  const vocab = m.engine.model.config.vocabSize;
  return list.map((x, i) => {
    if (typeof x === "string") {
      const ids = tok.encode(x, { addSpecial: true });
      if (!ids.length) throw badRequest(`prompt ${i} is empty after tokenization`, "prompt");
      return { ids, text: x };
    }
    const bad = x.find((id) => id >= vocab);
    if (bad !== undefined)
      throw badRequest(`prompt ${i}: token id ${bad} is outside the vocabulary [0, ${vocab})`, "prompt");
    return { ids: x, text: tok.decode(x) };
  });
}

/** OpenAI's parallel-array logprobs for the given tokens; offsets count characters into `startText`. */
function legacyLogprobs(
  m: LocalModel,
  entries: { token: number; lp: TokenLogprob | null }[],
  offset0: number,
): CompletionLogprobs {
  const out: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  let offset = offset0;
  for (const { token, lp } of entries) {
    const text = tokenInfo(m, token).token;
    out.tokens.push(text);
    out.text_offset.push(offset);
    offset += text.length;
    out.token_logprobs.push(lp ? lp.logprob : null);
    if (!lp) out.top_logprobs.push(null);
    else {
      const top: Record<string, number> = {};
      for (const t of lp.top) {
        const key = tokenInfo(m, t.token).token;
        if (!(key in top)) top[key] = t.logprob;
      }
      out.top_logprobs.push(top);
    }
  }
  return out;
}

function choiceLogprobs(
  m: LocalModel,
  p: Prompt,
  r: SeqResult,
  gen: TokenLogprob[],
  echo: boolean,
): CompletionLogprobs {
  const entries: { token: number; lp: TokenLogprob | null }[] = [];
  if (echo) p.ids.forEach((token, i) => void entries.push({ token, lp: r.promptLogprobs?.[i] ?? null }));
  r.tokens.forEach((token, i) => void entries.push({ token, lp: gen[i] ?? null }));
  return legacyLogprobs(m, entries, 0);
}

export async function completion(c: Context, m: LocalModel, req: CompletionRequest): Promise<Response> {
  const ps = prompts(m, req);
  const requested = req.max_tokens ?? 16;
  const echo = req.echo === true;
  const k = req.logprobs ?? undefined;
  const stop = req.stop == null ? undefined : typeof req.stop === "string" ? [req.stop] : req.stop;
  const budgets = ps.map((p) => budget(m, p.ids.length, requested, "max_tokens"));
  const id = newId("cmpl");
  const created = Math.floor(Date.now() / 1000);
  const base = { id, created, model: m.name, system_fingerprint: FINGERPRINT };
  const stream =
    req.stream === true ? sseStream({ stallMs: m.limits.stallMs, keepAliveMs: m.limits.keepAliveMs }) : undefined;
  const signal = anySignal(c.req.raw.signal, stream?.sink.signal);
  const handles: SeqHandle[] = ps.map((p, i) =>
    submit(m, {
      prompt: p.ids,
      maxTokens: budgets[i],
      sampling: samplingFor(m, req),
      stop,
      logprobs: k,
      promptLogprobs: echo && k !== undefined ? k : undefined,
      signal,
    }),
  );

  /** Drains one choice's events; `onText` sees each piece of text as it is released. */
  const run = async (h: SeqHandle, onText?: (text: string, lp?: TokenLogprob) => void) => {
    const gen: TokenLogprob[] = [];
    for await (const ev of h.events) {
      if (ev.type === "token" && ev.logprob) gen.push(ev.logprob);
      onText?.(ev.text, ev.type === "token" ? ev.logprob : undefined);
    }
    return { r: await h.result, gen };
  };
  const total = (results: SeqResult[]): { usage: Usage; cpuSeconds: number; joules: number } => {
    const sum = (f: (r: SeqResult) => number) => results.reduce((a, r) => a + f(r), 0);
    return {
      usage: usageOf(
        sum((r) => r.promptTokens),
        sum((r) => r.cachedTokens),
        sum((r) => r.tokens.length),
        0,
      ),
      cpuSeconds: sum((r) => r.cpuSeconds),
      joules: sum((r) => r.joules),
    };
  };

  if (!stream) {
    const outs = await Promise.all(handles.map((h) => run(h)));
    const failed = outs.find((o) => o.r.finishReason === "error");
    if (failed) throw toApiError(failed.r.error);
    if (outs.some((o) => o.r.finishReason === "abort")) return new Response(null, { status: 499 });
    const t = total(outs.map((o) => o.r));
    const res: Completion = {
      ...base,
      object: "text_completion",
      choices: outs.map(({ r, gen }, i) => ({
        index: i,
        text: (echo ? ps[i].text : "") + r.text,
        logprobs: k !== undefined ? choiceLogprobs(m, ps[i], r, gen, echo) : null,
        finish_reason: r.finishReason === "stop" ? "stop" : "length",
      })),
      usage: t.usage,
      metering: meteringOf(m, t.usage, t),
    };
    return c.json(res);
  }

  const { response, sink } = stream;
  const send = (
    index: number,
    text: string,
    finish: "stop" | "length" | null,
    logprobs: CompletionLogprobs | null = null,
  ) => sink.send({ ...base, object: "text_completion", choices: [{ index, text, logprobs, finish_reason: finish }] });
  void (async () => {
    try {
      const outs = await Promise.all(
        handles.map((h, i) => {
          if (echo) send(i, ps[i].text, null);
          return run(h, (text, lp) => {
            if (text || lp)
              send(i, text, null, lp && k !== undefined ? legacyLogprobs(m, [{ token: lp.token, lp }], 0) : null);
          });
        }),
      );
      if (outs.some((o) => o.r.finishReason === "abort")) return sink.close();
      const failed = outs.find((o) => o.r.finishReason === "error");
      if (failed) {
        sink.send(body(toApiError(failed.r.error)));
        return sink.close();
      }
      outs.forEach((o, i) => void send(i, "", o.r.finishReason === "stop" ? "stop" : "length"));
      const t = total(outs.map((o) => o.r));
      const metering = meteringOf(m, t.usage, t);
      if (req.stream_options?.include_usage)
        sink.send({ ...base, object: "text_completion", choices: [], usage: t.usage, metering });
      else sink.send({ ...base, object: "text_completion", choices: [], metering });
      sink.done();
    } catch (e) {
      sink.send(body(toApiError(e)));
      sink.close();
    }
  })();
  return response;
}
