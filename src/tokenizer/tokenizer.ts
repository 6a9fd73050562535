// R1Tokenizer: one tokenizer front for both checkpoint layouts. A Hugging Face folder is used as is
// (tokenizer.json + tokenizer_config.json); a GGUF vocabulary is first rewritten into an equivalent
// tokenizer.json (gguf_vocab.ts). Both then run on @huggingface/tokenizers, so the two layouts cannot drift.
//
// Conventions, chosen to match what the checkpoints were trained and evaluated with:
// - Added tokens (<｜User｜>, <think>, <｜begin▁of▁sentence｜>...) are always recognised in input text, as HF
//   `encode` and llama.cpp with parse_special do. A chat prompt rendered by its template already holds BOS, so
//   encode it with addSpecial=false (encodeChat in chat_template.ts does).
// - addSpecial adds BOS/EOS. When tokenizer_config.json declares add_bos_token / add_eos_token, those flags
//   decide (transformers' LlamaTokenizerFast rebuilds its post-processor from them, and llama.cpp's converter
//   copies them into the GGUF: DeepSeek-V3's tokenizer.json has a BOS-less post-processor yet BOS is added);
//   otherwise the post-processor decides.
//   For GGUF, tokenizer.ggml.add_bos_token decides, as in llama.cpp.
// - decode never applies `clean_up_tokenization_spaces`: it rewrites " ." to "." across token boundaries,
//   which no streaming decoder can reproduce, and every DeepSeek/Qwen config turns it off anyway.
// - Ids with no token (the padding between a tokenizer's vocabulary and the model's embedding rows) decode
//   to "", as in HF's Rust tokenizers and llama.cpp; negative or fractional ids are input errors.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { formatError, inputError, R1Error, unsupported, usageError } from "../core/errors.js";
import { convertGGUFVocab, type GGUFValue } from "./gguf_vocab.js";
import { StreamDecoder, type StreamDecoderOptions } from "./stream_decoder.js";

export type { GGUFValue } from "./gguf_vocab.js";

export interface EncodeOptions {
  /** Add BOS (and EOS where the tokenizer asks for it). Default false. */
  addSpecial?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens (BOS, EOS, control tokens) from the text. Default false. */
  skipSpecial?: boolean;
}

/** A token as tokenizer_config.json writes it: a string, an AddedToken-like object, or null. */
type ConfigToken = string | { content: string } | null | undefined;

/** The fields of tokenizer_config.json this module reads; the rest passes through to @huggingface/tokenizers. */
export interface TokenizerConfig {
  bos_token?: ConfigToken;
  eos_token?: ConfigToken;
  pad_token?: ConfigToken;
  add_bos_token?: boolean;
  add_eos_token?: boolean;
  additional_special_tokens?: ConfigToken[];
  chat_template?: string | { name: string; template: string }[];
  [key: string]: unknown;
}

interface Spec {
  json: Record<string, unknown>;
  config: TokenizerConfig;
  /** What the user pointed at: a folder, a GGUF path; errors name it. */
  source: string;
  bosId?: number;
  eosId?: number;
  padId?: number;
  /** undefined: the tokenizer.json post-processor decides. */
  addBos?: boolean;
  addEos?: boolean;
  vocabSize?: number;
  chatTemplates: Map<string, string>;
}

export class R1Tokenizer {
  /** Folder or file the tokenizer came from. */
  readonly source: string;
  /** One past the highest id that has a token (GGUF: the declared count, padding included). */
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly padId: number | undefined;
  readonly bosToken: string | undefined;
  readonly eosToken: string | undefined;
  /** Whether encode(text, {addSpecial: true}) prepends BOS / appends EOS. */
  readonly addBos: boolean;
  readonly addEos: boolean;
  /** Chat templates as the checkpoint ships them: name -> Jinja source ("default" for a lone template). */
  readonly chatTemplates: ReadonlyMap<string, string>;
  /** True when pieces are GPT-2 byte-level strings (one token may hold part of a UTF-8 character). */
  readonly byteLevel: boolean;

  private readonly hf: Tokenizer;
  /** True when BOS/EOS come from addBos/addEos rather than the post-processor. */
  private readonly ownFraming: boolean;
  private readonly added = new Set<number>();
  private readonly special = new Set<number>();

  private constructor(spec: Spec) {
    this.source = spec.source;
    const json = normalizeJson(spec.json, spec.source);
    try {
      this.hf = new Tokenizer(json, { ...spec.config, clean_up_tokenization_spaces: false });
    } catch (e) {
      throw unsupported(
        `${spec.source}: cannot build the tokenizer: ${(e as Error).message}`,
        "the tokenizer uses a component @huggingface/tokenizers does not support",
      );
    }
    for (const t of json.added_tokens as { id: number; special?: boolean }[]) {
      this.added.add(t.id);
      if (t.special) this.special.add(t.id);
    }
    // Extra specials the config names are skipped by skipSpecial too; ones the vocabulary lacks cannot occur.
    for (const t of spec.config.additional_special_tokens ?? []) {
      const text = configTokenText(t);
      const id = text === undefined ? undefined : this.hf.token_to_id(text);
      if (id !== undefined) this.special.add(id);
    }
    this.vocabSize = Math.max(spec.vocabSize ?? 0, this.hf.model?.vocab.length ?? 0);
    this.bosId = spec.bosId ?? this.lookupConfigToken(spec.config.bos_token, "bos_token");
    this.eosId = spec.eosId ?? this.lookupConfigToken(spec.config.eos_token, "eos_token");
    // A pad token the vocabulary lacks ("<pad>" left over from another tokenizer) is harmless: no padding.
    const pad = configTokenText(spec.config.pad_token);
    this.padId = spec.padId ?? (pad === undefined ? undefined : this.hf.token_to_id(pad));
    this.bosToken = this.bosId === undefined ? undefined : this.idToToken(this.bosId);
    this.eosToken = this.eosId === undefined ? undefined : this.idToToken(this.eosId);
    this.ownFraming = spec.addBos !== undefined || spec.addEos !== undefined;
    if (this.ownFraming) {
      this.addBos = (spec.addBos ?? false) && this.bosId !== undefined;
      this.addEos = (spec.addEos ?? false) && this.eosId !== undefined;
    } else {
      // The post-processor's framing of empty input is exactly what it adds around any text.
      const framing = this.hf.encode("", { add_special_tokens: true }).ids;
      this.addBos = framing.length > 0 && framing[0] === this.bosId;
      this.addEos = framing.length > 0 && framing[framing.length - 1] === this.eosId;
    }
    this.chatTemplates = spec.chatTemplates;
    this.byteLevel = (json.decoder as { type?: string } | null)?.type === "ByteLevel";
  }

  /** Reads `dir/tokenizer.json` and `dir/tokenizer_config.json` (plus `chat_template.jinja` if present). */
  static fromFolder(dir: string): R1Tokenizer {
    const json = readJson(join(dir, "tokenizer.json"));
    const configPath = join(dir, "tokenizer_config.json");
    const config = readJson(configPath) as TokenizerConfig;
    const chatTemplates = templatesFromConfig(config, configPath);
    // Newer transformers save the template beside the config instead of inside it.
    const jinjaPath = join(dir, "chat_template.jinja");
    if (chatTemplates.size === 0 && existsSync(jinjaPath))
      chatTemplates.set("default", readFileSync(jinjaPath, "utf8"));
    return new R1Tokenizer({ ...fromConfig(config), json, config, source: dir, chatTemplates });
  }

  /** From already-parsed tokenizer.json / tokenizer_config.json objects; `source` names them in errors. */
  static fromJSON(tokenizerJson: unknown, config: TokenizerConfig = {}, source = "tokenizer.json"): R1Tokenizer {
    if (!isObject(tokenizerJson)) throw formatError(source, "tokenizer.json", "is not a JSON object");
    const chatTemplates = templatesFromConfig(config, source);
    return new R1Tokenizer({ ...fromConfig(config), json: tokenizerJson, config, source, chatTemplates });
  }

  /** From GGUF metadata (`openGGUF(path).metadata`); `source` (the file path) names the file in errors. */
  static fromGGUF(metadata: Record<string, GGUFValue>, source = "GGUF metadata"): R1Tokenizer {
    const v = convertGGUFVocab(metadata, source);
    return new R1Tokenizer({
      json: v.tokenizerJson,
      config: {},
      source,
      bosId: v.bosId,
      eosId: v.eosId,
      padId: v.padId,
      addBos: v.addBos,
      addEos: v.addEos,
      vocabSize: v.vocabSize,
      chatTemplates: v.chatTemplates,
    });
  }

  encode(text: string, { addSpecial = false }: EncodeOptions = {}): number[] {
    if (typeof text !== "string") throw usageError(`encode: expected a string, got ${typeof text}`);
    const ids = this.hf.encode(text, { add_special_tokens: addSpecial && !this.ownFraming }).ids;
    if (addSpecial && this.ownFraming) {
      if (this.addBos) ids.unshift(this.bosId!);
      if (this.addEos) ids.push(this.eosId!);
    }
    return ids;
  }

  decode(ids: readonly number[], { skipSpecial = false }: DecodeOptions = {}): string {
    const kept: number[] = [];
    for (const id of ids) {
      this.checkId(id);
      if (this.hf.id_to_token(id) === undefined) continue;
      if (skipSpecial && this.special.has(id)) continue;
      kept.push(id);
    }
    // The library refuses an empty list; skipping is done above so its own string-based skip stays off.
    if (kept.length === 0) return "";
    return this.hf.decode(kept, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  /** A streaming decoder whose pieces concatenate to exactly decode(all ids pushed). */
  streamDecoder(options: StreamDecoderOptions = {}): StreamDecoder {
    return new StreamDecoder(this, options);
  }

  /** Id of a vocabulary or added token string ("Ġthe", "<think>"), or undefined. */
  tokenToId(token: string): number | undefined {
    return this.hf.token_to_id(token);
  }

  /** The token string as the vocabulary stores it (byte-level: "Ġthe"), or undefined for ids with none. */
  idToToken(id: number): string | undefined {
    if (!Number.isInteger(id) || id < 0) return undefined;
    return this.hf.id_to_token(id);
  }

  /** Special tokens (BOS, EOS, control tokens) are the ones skipSpecial drops. */
  isSpecial(id: number): boolean {
    return this.special.has(id);
  }

  /** Added tokens (special or not, e.g. <think>) are matched whole and decode to their literal text. */
  isAdded(id: number): boolean {
    return this.added.has(id);
  }

  /** @throws R1Error("input") for ids that can never be token ids. */
  checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0) {
      throw inputError(`token id ${id} is not a non-negative integer`, "token ids come from encode() or the model");
    }
  }

  private lookupConfigToken(t: ConfigToken, field: string): number | undefined {
    const text = configTokenText(t);
    if (text === undefined) return undefined;
    const id = this.hf.token_to_id(text);
    if (id === undefined) {
      throw formatError(
        this.source,
        `tokenizer_config.json ${field}`,
        `"${text}" is not in the vocabulary`,
        "tokenizer.json and tokenizer_config.json come from different tokenizers",
      );
    }
    return id;
  }
}

// ---- helpers ----

function configTokenText(t: ConfigToken): string | undefined {
  if (typeof t === "string") return t;
  if (t && typeof t === "object" && typeof t.content === "string") return t.content;
  return undefined;
}

function fromConfig(config: TokenizerConfig): Pick<Spec, "addBos" | "addEos"> {
  const declared = typeof config.add_bos_token === "boolean" || typeof config.add_eos_token === "boolean";
  if (!declared) return {};
  return { addBos: config.add_bos_token === true, addEos: config.add_eos_token === true };
}

/** tokenizer_config.json's `chat_template`: a string, or a list of {name, template} (transformers >= 4.40). */
export function templatesFromConfig(config: TokenizerConfig, source: string): Map<string, string> {
  const out = new Map<string, string>();
  const t = config.chat_template;
  if (t === undefined || t === null) return out;
  if (typeof t === "string") {
    out.set("default", t);
    return out;
  }
  if (!Array.isArray(t)) throw formatError(source, "chat_template", "is neither a string nor a list of templates");
  for (const [i, entry] of t.entries()) {
    if (!isObject(entry) || typeof entry.name !== "string" || typeof entry.template !== "string") {
      throw formatError(source, `chat_template[${i}]`, "expected {name, template} strings");
    }
    out.set(entry.name, entry.template);
  }
  return out;
}

function readJson(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new R1Error(
        "not_found",
        `${path}: not found`,
        "a tokenizer folder holds tokenizer.json and tokenizer_config.json (download both from the model's page)",
      );
    }
    throw new R1Error("not_found", `${path}: cannot read: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw formatError(path, "JSON", (e as Error).message);
  }
  if (!isObject(value)) throw formatError(path, "JSON", "top level is not an object");
  return value;
}

// The library reads every component key and treats only null (not a missing key) as "no component".
function normalizeJson(json: Record<string, unknown>, source: string): Record<string, unknown> {
  if (!isObject(json.model)) throw formatError(source, "tokenizer.json model", "missing or not an object");
  const out: Record<string, unknown> = { ...json, added_tokens: json.added_tokens ?? [] };
  for (const key of ["normalizer", "pre_tokenizer", "post_processor", "decoder"]) out[key] = json[key] ?? null;
  if (!Array.isArray(out.added_tokens)) throw formatError(source, "tokenizer.json added_tokens", "is not a list");
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
