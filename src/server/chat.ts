// POST /v1/chat/completions on the local model, in DeepSeek's shape: the chain of thought in
// `reasoning_content` (mirrored as `reasoning`), the answer in `content`; streamed, every reasoning delta
// comes before the first content delta. R1's template ends the prompt in `<think>\n`, so the splitter starts
// inside the reasoning when the prompt says so (chatPrompt().startsInReasoning).

import type { Context } from "hono";
import { chatPrompt } from "../generate/engine.js";
import { ReasoningSplitter } from "../generate/reasoning.js";
import type { ChatMessage } from "../tokenizer/chat_template.js";
import { ApiError, body, toApiError } from "./errors.js";
import {
  anySignal,
  budget,
  chatLogprob,
  FINGERPRINT,
  type LocalModel,
  meteringOf,
  newId,
  samplingFor,
  submit,
  usageOf,
} from "./local.js";
import { type ChatChunk, type ChatCompletion, type ChatLogprob, type ChatRequest, messageText } from "./protocol.js";
import type { SeqResult } from "./scheduler.js";
import { sseStream } from "./sse.js";

/** The request's messages as the chat template takes them; `developer` is OpenAI's newer name for system. */
function templateMessages(req: ChatRequest): ChatMessage[] {
  return req.messages.map((m) => ({
    role: m.role === "developer" ? "system" : m.role,
    content: messageText(m.content) ?? "",
  }));
}

export async function chatCompletion(c: Context, m: LocalModel, req: ChatRequest): Promise<Response> {
  const prompt = chatPrompt(m.engine, templateMessages(req));
  const maxTokens = budget(
    m,
    prompt.ids.length,
    req.max_completion_tokens ?? req.max_tokens ?? undefined,
    req.max_completion_tokens != null ? "max_completion_tokens" : "max_tokens",
  );
  const stop = req.stop == null ? undefined : typeof req.stop === "string" ? [req.stop] : req.stop;
  const logprobs = req.logprobs ? (req.top_logprobs ?? 0) : undefined;
  const id = newId("chatcmpl");
  const created = Math.floor(Date.now() / 1000);
  const base = { id, created, model: m.name, system_fingerprint: FINGERPRINT };
  const splitter = new ReasoningSplitter({ startInReasoning: prompt.startsInReasoning });
  const seqBase = { prompt: prompt.ids, maxTokens, sampling: samplingFor(m, req), stop, logprobs };

  if (!req.stream) {
    const h = submit(m, { ...seqBase, signal: c.req.raw.signal });
    let reasoning = "";
    let content = "";
    let reasoningTokens = 0;
    const lps: ChatLogprob[] = [];
    for await (const ev of h.events) {
      if (ev.type === "token" && splitter.inReasoning) reasoningTokens++;
      const part = splitter.push(ev.text);
      reasoning += part.reasoning;
      content += part.content;
      if (ev.type === "token" && ev.logprob) lps.push(chatLogprob(m, ev.logprob));
    }
    const tail = splitter.flush();
    reasoning += tail.reasoning;
    content += tail.content;
    const r = await h.result;
    if (r.finishReason === "error") throw toApiError(r.error);
    if (r.finishReason === "abort") return new Response(null, { status: 499 });
    const usage = usageOf(r.promptTokens, r.cachedTokens, r.tokens.length, reasoningTokens);
    const out: ChatCompletion = {
      ...base,
      object: "chat.completion",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content, reasoning_content: reasoning, reasoning },
          logprobs: logprobs !== undefined ? { content: lps } : null,
          finish_reason: r.finishReason,
        },
      ],
      usage,
      metering: meteringOf(m, usage, r),
    };
    return c.json(out);
  }

  const { response, sink } = sseStream({ stallMs: m.limits.stallMs, keepAliveMs: m.limits.keepAliveMs });
  const h = submit(m, { ...seqBase, signal: anySignal(c.req.raw.signal, sink.signal) });
  const chunk = (delta: ChatChunk["choices"][0]["delta"], extra: Partial<ChatChunk["choices"][0]> = {}) =>
    sink.send({
      ...base,
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta, logprobs: null, finish_reason: null, ...extra }],
    } satisfies ChatChunk);
  const includeUsage = req.stream_options?.include_usage === true;

  // Streams in the background: the Response is returned at once so headers go out before the first token.
  void (async () => {
    let reasoningTokens = 0;
    let pendingLps: ChatLogprob[] = [];
    const emit = (part: { reasoning: string; content: string }) => {
      const lp = () => {
        if (!pendingLps.length) return {};
        const l = { logprobs: { content: pendingLps } };
        pendingLps = [];
        return l;
      };
      if (part.reasoning) chunk({ content: null, reasoning_content: part.reasoning, reasoning: part.reasoning }, lp());
      if (part.content) chunk({ content: part.content }, lp());
    };
    try {
      chunk({ role: "assistant", content: "" });
      for await (const ev of h.events) {
        if (ev.type === "token") {
          if (splitter.inReasoning) reasoningTokens++;
          if (ev.logprob) pendingLps.push(chatLogprob(m, ev.logprob));
        }
        emit(splitter.push(ev.text));
      }
      emit(splitter.flush());
      const r: SeqResult = await h.result;
      if (r.finishReason === "abort") return sink.close();
      if (r.finishReason === "error") {
        sink.send(body(toApiError(r.error)));
        return sink.close();
      }
      const usage = usageOf(r.promptTokens, r.cachedTokens, r.tokens.length, reasoningTokens);
      const metering = meteringOf(m, usage, r);
      const last: ChatChunk = {
        ...base,
        object: "chat.completion.chunk",
        choices: [
          {
            index: 0,
            delta: {},
            logprobs: pendingLps.length ? { content: pendingLps } : null,
            finish_reason: r.finishReason,
          },
        ],
        metering,
      };
      if (includeUsage) last.usage = null;
      sink.send(last);
      if (includeUsage)
        sink.send({ ...base, object: "chat.completion.chunk", choices: [], usage, metering } satisfies ChatChunk);
      sink.done();
    } catch (e) {
      sink.send(body(e instanceof ApiError ? e : toApiError(e)));
      sink.close();
    }
  })();
  return response;
}
