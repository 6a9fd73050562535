// Chat messages -> prompt text, with the checkpoint's own Jinja template (tokenizer_config.json `chat_template`,
// chat_template.jinja, or GGUF `tokenizer.chat_template`) run by @huggingface/jinja, as transformers'
// apply_chat_template does. Checkpoints without a template get R1_CHAT_TEMPLATE below.
//
// R1's convention (DeepSeek-R1 README, "Usage Recommendations"): the generation prompt ends in `<think>\n`, so the
// model's output starts inside its reasoning with no opening tag; earlier assistant turns keep only the text
// after `</think>` (reasoning is never sent back). promptEndsInThink() tells a caller which case it is in.

import { Template } from "@huggingface/jinja";
import { formatError, R1Error, usageError } from "../core/errors.js";
import type { R1Tokenizer } from "./tokenizer.js";

/** One chat turn. Extra fields (name, tool_calls, ...) pass through to the template. */
export interface ChatMessage {
  role: string;
  content: string | null;
  [field: string]: unknown;
}

export interface RenderOptions {
  /** Append the assistant header (for R1: `<｜Assistant｜><think>\n`). Default true: prompts are rendered to generate from. */
  addGenerationPrompt?: boolean;
  /** Further template variables (tools, date_string, ...). */
  variables?: Record<string, unknown>;
}

/**
 * Built-in fallback: DeepSeek-R1's template (tokenizer_config.json of deepseek-ai/DeepSeek-R1 and its distills)
 * restricted to system / user / assistant turns. For those it renders byte-identical prompts:
 *   BOS + system prompts (joined by "\n\n") + per turn `<｜User｜>text` or `<｜Assistant｜>answer<｜end▁of▁sentence｜>`
 *   (answer = text after the last `</think>`) + `<｜Assistant｜><think>\n` when a reply is wanted.
 * Tool calls and tool outputs are refused with an error rather than dropped: R1 serves no function calling.
 */
export const R1_CHAT_TEMPLATE = String.raw`
{%- set ns = namespace(system='', first_system=true) -%}
{%- for message in messages -%}
  {%- if message['role'] == 'system' -%}
    {%- if ns.first_system -%}
      {%- set ns.system = message['content'] -%}
      {%- set ns.first_system = false -%}
    {%- else -%}
      {%- set ns.system = ns.system + '\n\n' + message['content'] -%}
    {%- endif -%}
  {%- endif -%}
{%- endfor -%}
{{- bos_token + ns.system -}}
{%- for message in messages -%}
  {%- if message['role'] == 'user' -%}
    {{- '<｜User｜>' + message['content'] -}}
  {%- elif message['role'] == 'assistant' -%}
    {%- set content = message['content'] or '' -%}
    {%- if '</think>' in content -%}
      {%- set content = content.split('</think>')[-1] -%}
    {%- endif -%}
    {{- '<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>' -}}
  {%- elif message['role'] != 'system' -%}
    {{- raise_exception('the built-in R1 template takes system, user and assistant messages, not "' + message['role'] + '"') -}}
  {%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}
  {{- '<｜Assistant｜><think>\n' -}}
{%- endif -%}
`;

const BUILTIN_SOURCE = "built-in DeepSeek-R1 chat template";

export class ChatTemplate {
  private constructor(
    private readonly compiled: Template,
    /** Jinja source text. */
    readonly text: string,
    /** Where the template came from, for error messages. */
    readonly source: string,
    readonly bosToken: string,
    readonly eosToken: string,
    /** True for R1_CHAT_TEMPLATE used because the checkpoint has none. */
    readonly builtin: boolean,
  ) {}

  /** Compiles `text`; a syntax error becomes an R1Error naming `source`. */
  static fromString(
    text: string,
    { source, bosToken = "", eosToken = "" }: { source: string; bosToken?: string; eosToken?: string },
  ): ChatTemplate {
    return ChatTemplate.compile(text, source, bosToken, eosToken, false);
  }

  /** DeepSeek-R1's template (R1_CHAT_TEMPLATE) with R1's BOS/EOS unless told otherwise. */
  static builtinR1(bosToken = "<｜begin▁of▁sentence｜>", eosToken = "<｜end▁of▁sentence｜>"): ChatTemplate {
    return ChatTemplate.compile(R1_CHAT_TEMPLATE, BUILTIN_SOURCE, bosToken, eosToken, true);
  }

  /**
   * The tokenizer's template `name` (default: "default", else the only one). A checkpoint with no template
   * gets the built-in R1 template; asking for a name it lacks is an error listing the names it has.
   */
  static fromTokenizer(tok: R1Tokenizer, name?: string): ChatTemplate {
    const names = [...tok.chatTemplates.keys()];
    if (names.length === 0) {
      if (name !== undefined && name !== "default") {
        throw usageError(`${tok.source}: has no chat template "${name}" (it has none)`);
      }
      return ChatTemplate.builtinR1(tok.bosToken, tok.eosToken);
    }
    const chosen = name ?? (tok.chatTemplates.has("default") || names.length > 1 ? "default" : names[0]);
    const text = tok.chatTemplates.get(chosen);
    if (text === undefined) {
      throw usageError(`${tok.source}: has no chat template "${chosen}"`, `available: ${names.join(", ")}`);
    }
    return ChatTemplate.compile(
      text,
      `${tok.source} chat template "${chosen}"`,
      tok.bosToken ?? "",
      tok.eosToken ?? "",
      false,
    );
  }

  private static compile(text: string, source: string, bos: string, eos: string, builtin: boolean): ChatTemplate {
    let compiled: Template;
    try {
      compiled = new Template(text);
    } catch (e) {
      throw formatError(source, "chat_template", `cannot parse: ${(e as Error).message}`, "fix or remove the template");
    }
    return new ChatTemplate(compiled, text, source, bos ?? "", eos ?? "", builtin);
  }

  /** Renders the conversation to prompt text (BOS included when the template writes it, as R1's does). */
  render(messages: readonly ChatMessage[], { addGenerationPrompt = true, variables = {} }: RenderOptions = {}): string {
    checkMessages(messages);
    try {
      return this.compiled.render({
        ...variables,
        messages: messages.map((m) => ({ ...m })),
        bos_token: this.bosToken,
        eos_token: this.eosToken,
        add_generation_prompt: addGenerationPrompt,
      });
    } catch (e) {
      throw new R1Error(
        "input",
        `${this.source}: rendering failed: ${(e as Error).message}`,
        "the conversation has a shape this chat template does not accept (roles, order, empty content)",
      );
    }
  }
}

/**
 * Renders and tokenizes a conversation. The template writes BOS itself, so no special tokens are added
 * (transformers' apply_chat_template(tokenize=True) does the same).
 */
export function encodeChat(
  tok: R1Tokenizer,
  messages: readonly ChatMessage[],
  options: RenderOptions & { template?: ChatTemplate } = {},
): number[] {
  const template = options.template ?? ChatTemplate.fromTokenizer(tok);
  return tok.encode(template.render(messages, options), { addSpecial: false });
}

/**
 * True when the prompt already opens the reasoning block (ends in `<think>` plus optional whitespace, as R1's
 * generation prompt `<｜Assistant｜><think>\n` does): the model's output then starts with reasoning and has no
 * opening tag, so a reasoning splitter must start in the "thinking" state.
 */
export function promptEndsInThink(prompt: string): boolean {
  return /<think>\s*$/.test(prompt);
}

function checkMessages(messages: readonly ChatMessage[]): void {
  if (!Array.isArray(messages)) throw usageError("chat messages must be a list of {role, content}");
  messages.forEach((m, i) => {
    if (typeof m !== "object" || m === null || typeof m.role !== "string") {
      throw usageError(`chat message ${i} has no string "role"`);
    }
    if (m.content !== null && typeof m.content !== "string") {
      throw usageError(`chat message ${i} (${m.role}): content must be a string or null`);
    }
  });
}
