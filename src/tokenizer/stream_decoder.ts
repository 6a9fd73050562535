// Incremental detokenization for streaming output. The contract: the strings returned by push() and flush(),
// concatenated, equal tokenizer.decode(all pushed ids) exactly.
//
// Byte-level tokenizers (every DeepSeek / Qwen2 / Llama 3 vocabulary) are handled exactly: a token is a run of
// raw bytes (GPT-2's byte<->char table), possibly half of a UTF-8 character, so bytes go through one streaming
// TextDecoder that holds an incomplete sequence back until the next token completes it. An added token
// (<think>, <｜User｜>) decodes to its literal text and, as in the full decode, first ends the byte run: bytes
// left incomplete before it become U+FFFD. Skipped special tokens vanish without ending the run, since the full
// decode removes them before joining bytes.
//
// Other decoders (SentencePiece-style Metaspace / ByteFallback) use the windowed re-decode of Hugging Face's
// text-generation-inference: decode the ids since the last emitted boundary with one token of left context,
// and emit the new suffix once it no longer ends in U+FFFD. That is exact for those decoders in practice (the
// left context absorbs the leading-space strip) but not guaranteed for arbitrary decoder chains.

import { TextDecoder } from "node:util";
import type { R1Tokenizer } from "./tokenizer.js";

export interface StreamDecoderOptions {
  /** Drop special tokens, as decode(ids, {skipSpecial: true}). Default false. */
  skipSpecial?: boolean;
}

export class StreamDecoder {
  private readonly skipSpecial: boolean;
  // byte-level path
  private utf8 = newUtf8Decoder();
  // windowed path: ids[0..read) were emitted; ids[0..prefix) are left context only
  private ids: number[] = [];
  private prefix = 0;
  private read = 0;

  constructor(
    private readonly tokenizer: R1Tokenizer,
    { skipSpecial = false }: StreamDecoderOptions = {},
  ) {
    this.skipSpecial = skipSpecial;
  }

  /** Adds one generated id; returns the text it completes ("" while a UTF-8 character is still partial). */
  push(id: number): string {
    const tok = this.tokenizer;
    tok.checkId(id);
    if (this.skipSpecial && tok.isSpecial(id)) return "";
    if (!tok.byteLevel) return this.pushWindowed(id);
    const token = tok.idToToken(id);
    if (token === undefined) return "";
    if (tok.isAdded(id)) return this.utf8.decode() + token;
    return this.utf8.decode(byteLevelBytes(token), { stream: true });
  }

  /** Ends the stream: returns what is still held (an incomplete character becomes U+FFFD) and resets. */
  flush(): string {
    if (this.tokenizer.byteLevel) {
      const rest = this.utf8.decode();
      this.utf8 = newUtf8Decoder();
      return rest;
    }
    const before = this.decodeWindow(this.prefix, this.read);
    const after = this.decodeWindow(this.prefix, this.ids.length);
    this.ids = [];
    this.prefix = 0;
    this.read = 0;
    return after.slice(before.length);
  }

  private pushWindowed(id: number): string {
    this.ids.push(id);
    const before = this.decodeWindow(this.prefix, this.read);
    const after = this.decodeWindow(this.prefix, this.ids.length);
    if (after.length <= before.length || after.endsWith("\uFFFD")) return "";
    // The ids emitted by this step become the next window's left context; older ids are dropped.
    this.ids = this.ids.slice(this.read);
    this.prefix = 0;
    this.read = this.ids.length;
    return after.slice(before.length);
  }

  private decodeWindow(from: number, to: number): string {
    return this.tokenizer.decode(this.ids.slice(from, to), { skipSpecial: this.skipSpecial });
  }
}

function newUtf8Decoder(): TextDecoder {
  // ignoreBOM: a U+FEFF the model generates is text, and the full decode keeps it too.
  return new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
}

// GPT-2's table: bytes that are printable Latin-1 map to themselves, the other 68 to U+0100 onward.
const CHAR_TO_BYTE: Map<string, number> = (() => {
  const map = new Map<string, number>();
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    map.set(String.fromCodePoint(printable ? b : next++), b);
  }
  return map;
})();

/** The raw bytes a byte-level token stands for; chars outside the table become 0, as in the library. */
export function byteLevelBytes(token: string): Uint8Array {
  const chars = [...token];
  const out = new Uint8Array(chars.length);
  for (let i = 0; i < chars.length; i++) out[i] = CHAR_TO_BYTE.get(chars[i]) ?? 0;
  return out;
}
