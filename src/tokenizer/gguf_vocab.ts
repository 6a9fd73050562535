// llama.cpp's embedded vocabulary (GGUF `tokenizer.*` keys) -> an equivalent Hugging Face tokenizer.json object,
// so one tokenizer implementation serves both checkpoint layouts. Only byte-level BPE (`tokenizer.ggml.model`
// "gpt2") is converted: every DeepSeek-R1 checkpoint and distill (Qwen2, Llama 3) uses it.
//
// GGUF layout read here (llama.cpp src/llama-vocab.cpp, `llama_vocab::impl::load`):
//   tokenizer.ggml.tokens      string[n_vocab], the byte-level strings ("Ġthe"), index = id
//   tokenizer.ggml.token_type  int[n_vocab]: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
//   tokenizer.ggml.merges      string[], "left right", rank = index
//   tokenizer.ggml.pre         pre-tokenizer name (see pretokenizers.json); missing -> llama.cpp's "default"
//   tokenizer.ggml.{bos,eos,padding,unknown}_token_id, tokenizer.ggml.add_{bos,eos}_token
//   tokenizer.chat_template, tokenizer.chat_template.<name>

import { formatError, unsupported } from "../core/errors.js";
import type { GGUFValue } from "../formats/gguf.js";
import table from "./pretokenizers.json" with { type: "json" };

export type { GGUFValue };

/** What a GGUF vocabulary becomes: a tokenizer.json object plus the facts tokenizer.json has no place for. */
export interface ConvertedVocab {
  tokenizerJson: Record<string, unknown>;
  /** The token count the file declares, padding entries included (they are left out of the BPE vocab). */
  vocabSize: number;
  bosId?: number;
  eosId?: number;
  padId?: number;
  addBos: boolean;
  addEos: boolean;
  /** Template name -> Jinja source; a lone `tokenizer.chat_template` is "default". */
  chatTemplates: Map<string, string>;
}

const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

interface Preset {
  normalizer: Record<string, unknown> | null;
  splits: string[];
  byte_level: { add_prefix_space: boolean; trim_offsets: boolean };
  ignore_merges: boolean;
  add_bos: boolean;
}
const ALIASES: Record<string, string> = table.aliases;
const PRESETS: Record<string, Preset> = table.presets;

/** The HF normalizer + pre-tokenizer pair for a llama.cpp `tokenizer.ggml.pre` name. */
function preTokenizerFor(pre: string, source: string): Preset & { name: string } {
  const name = ALIASES[pre];
  const preset = name === undefined ? undefined : PRESETS[name];
  if (name === undefined || preset === undefined) {
    throw unsupported(
      `${source}: tokenizer.ggml.pre "${pre}" is not a pre-tokenizer r1ts knows`,
      `known: ${Object.keys(ALIASES).join(", ")}; or load the model's Hugging Face folder (tokenizer.json)`,
    );
  }
  return { ...preset, name };
}

export function convertGGUFVocab(md: Record<string, GGUFValue>, source: string): ConvertedVocab {
  const get = reader(md, source);
  const model = get.string("tokenizer.ggml.model");
  if (model === undefined) throw formatError(source, "tokenizer.ggml.model", "missing: the file has no vocabulary");
  if (model !== "gpt2") {
    const kind = model === "llama" ? " (SentencePiece)" : "";
    throw unsupported(
      `${source}: tokenizer.ggml.model "${model}"${kind} is not supported; r1ts converts only byte-level BPE ("gpt2") vocabularies`,
      "load the model's Hugging Face folder (tokenizer.json) instead",
    );
  }
  const tokens = get.strings("tokenizer.ggml.tokens");
  const types = get.ints("tokenizer.ggml.token_type") ?? tokens.map(() => TOKEN_TYPE.normal);
  if (types.length !== tokens.length) {
    throw formatError(source, "tokenizer.ggml.token_type", `has ${types.length} entries for ${tokens.length} tokens`);
  }
  const merges = get.strings("tokenizer.ggml.merges").map((m, i) => splitMerge(m, i, source));
  const preName = get.string("tokenizer.ggml.pre") ?? "default";
  const pre = preTokenizerFor(preName, source);

  const vocab: Record<string, number> = {};
  const addedTokens: Record<string, unknown>[] = [];
  tokens.forEach((content, id) => {
    const type = types[id];
    // Padding entries ("[PAD1278]") are unreachable by merges and llama.cpp renders them as nothing; leaving
    // them out makes them decode to "" exactly like ids past a Hugging Face vocabulary.
    if (type === TOKEN_TYPE.unused) return;
    vocab[content] = id;
    // Control tokens are HF "special" (skipped by skipSpecial); user-defined ones (<think>) are plain added
    // tokens: both are matched whole in the input before BPE runs, and decode as their literal text.
    if (type === TOKEN_TYPE.control || type === TOKEN_TYPE.userDefined) {
      addedTokens.push({
        id,
        content,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: type === TOKEN_TYPE.control,
      });
    }
  });

  const byteLevel = { type: "ByteLevel", ...pre.byte_level, use_regex: false };
  const tokenizerJson = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: pre.normalizer,
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        ...pre.splits.map((regex) => ({
          type: "Split",
          pattern: { Regex: regex },
          behavior: "Isolated",
          invert: false,
        })),
        byteLevel,
      ],
    },
    // BOS/EOS are added by R1Tokenizer from add_bos/add_eos, as llama.cpp does, not by a post-processor.
    post_processor: null,
    decoder: byteLevel,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: pre.ignore_merges,
      vocab,
      merges,
    },
  };

  const chatTemplates = new Map<string, string>();
  const lone = get.string("tokenizer.chat_template");
  if (lone !== undefined) chatTemplates.set("default", lone);
  for (const key of Object.keys(md)) {
    if (!key.startsWith("tokenizer.chat_template.")) continue;
    const text = get.string(key);
    if (text !== undefined) chatTemplates.set(key.slice("tokenizer.chat_template.".length), text);
  }

  const tokenId = (key: string): number | undefined => {
    const id = get.int(key);
    if (id === undefined || id < 0) return undefined; // llama.cpp writes -1 / UINT32_MAX style "none" rarely
    if (id >= tokens.length) throw formatError(source, key, `${id} is past the ${tokens.length}-token vocabulary`);
    return id;
  };
  return {
    tokenizerJson,
    vocabSize: tokens.length,
    bosId: tokenId("tokenizer.ggml.bos_token_id"),
    eosId: tokenId("tokenizer.ggml.eos_token_id"),
    padId: tokenId("tokenizer.ggml.padding_token_id"),
    addBos: get.bool("tokenizer.ggml.add_bos_token") ?? pre.add_bos,
    addEos: get.bool("tokenizer.ggml.add_eos_token") ?? false,
    chatTemplates,
  };
}

// llama.cpp splits a merge at the first space after the first byte (a merge's left side is never empty).
function splitMerge(merge: string, index: number, source: string): [string, string] {
  const at = merge.indexOf(" ", 1);
  if (at < 0) throw formatError(source, `tokenizer.ggml.merges[${index}]`, `"${merge}" is not "left right"`);
  return [merge.slice(0, at), merge.slice(at + 1)];
}

// ---- typed access to metadata, with errors that name the key ----

function reader(md: Record<string, GGUFValue>, source: string) {
  const bad = (key: string, want: string) => formatError(source, key, `expected ${want}, found ${describe(md[key])}`);
  const toInt = (key: string, v: GGUFValue): number => {
    if (typeof v === "bigint") return Number(v);
    if (typeof v === "number" && Number.isInteger(v)) return v;
    throw bad(key, "an integer");
  };
  return {
    string(key: string): string | undefined {
      const v = md[key];
      if (v === undefined) return undefined;
      if (typeof v !== "string") throw bad(key, "a string");
      return v;
    },
    int(key: string): number | undefined {
      const v = md[key];
      return v === undefined ? undefined : toInt(key, v);
    },
    bool(key: string): boolean | undefined {
      const v = md[key];
      if (v === undefined) return undefined;
      if (typeof v !== "boolean") throw bad(key, "a boolean");
      return v;
    },
    strings(key: string): string[] {
      const v = md[key];
      if (v === undefined) throw formatError(source, key, "missing");
      if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) throw bad(key, "an array of strings");
      return v as string[];
    },
    ints(key: string): number[] | undefined {
      const v = md[key];
      if (v === undefined) return undefined;
      if (!Array.isArray(v)) throw bad(key, "an array of integers");
      return v.map((x) => toInt(key, x));
    },
  };
}

function describe(v: GGUFValue | undefined): string {
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return `${typeof v} ${JSON.stringify(typeof v === "bigint" ? v.toString() : v).slice(0, 40)}`;
}
