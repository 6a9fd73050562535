// The tokenizer layer's public face: text <-> ids for HF folders and GGUF files, streaming detokenization, and
// chat templates.

export {
  type ChatMessage,
  ChatTemplate,
  encodeChat,
  promptEndsInThink,
  R1_CHAT_TEMPLATE,
  type RenderOptions,
} from "./chat_template.js";
export { StreamDecoder, type StreamDecoderOptions } from "./stream_decoder.js";
export {
  type DecodeOptions,
  type EncodeOptions,
  type GGUFValue,
  R1Tokenizer,
  type TokenizerConfig,
} from "./tokenizer.js";
