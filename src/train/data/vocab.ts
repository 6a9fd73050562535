// The tiny model's vocabulary: R1's special tokens plus one token per printable ASCII character and newline,
// written as a Hugging Face tokenizer.json (a BPE model with no merges, so every character is its own token)
// that @huggingface/tokenizers loads. Ids are stable: specials 0..5, "\n" 6, then ASCII 32..126.

export const BOS = "<｜begin▁of▁sentence｜>";
export const EOS = "<｜end▁of▁sentence｜>";
export const USER = "<｜User｜>";
export const ASSISTANT = "<｜Assistant｜>";
export const THINK = "<think>";
export const END_THINK = "</think>";

export const SPECIALS = [BOS, EOS, USER, ASSISTANT, THINK, END_THINK];
export const CHARS: string[] = ["\n", ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i))];
export const VOCAB: string[] = [...SPECIALS, ...CHARS];
export const ID = new Map(VOCAB.map((t, i) => [t, i]));
export const BOS_ID = 0;
export const EOS_ID = 1;

/** A scratchpad character's value as a digit: 0-9, and 0 for a blank or any other character. */
export function digitValue(ch: string): number {
  return ch >= "0" && ch <= "9" ? Number(ch) : 0;
}

/** Encodes text that may contain the special tokens (matched whole), one id per other character. */
export function encode(text: string): number[] {
  const out: number[] = [];
  let i = 0;
  outer: while (i < text.length) {
    for (const s of SPECIALS)
      if (text.startsWith(s, i)) {
        out.push(ID.get(s)!);
        i += s.length;
        continue outer;
      }
    const id = ID.get(text[i]);
    if (id === undefined) throw new Error(`character ${JSON.stringify(text[i])} is not in the tiny vocabulary`);
    out.push(id);
    i++;
  }
  return out;
}

export function decode(ids: ArrayLike<number>): string {
  let s = "";
  for (let i = 0; i < ids.length; i++) s += VOCAB[ids[i]] ?? "";
  return s;
}

/** tokenizer.json: BPE without merges over the character vocabulary; specials are added tokens. */
export function tokenizerJson(): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  VOCAB.forEach((t, i) => {
    vocab[t] = i;
  });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: content !== THINK && content !== END_THINK,
    })),
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: { type: "Fuse" },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [],
    },
  };
}

/** DeepSeek-R1's chat template (tokenizer_config.json of deepseek-ai/DeepSeek-R1), system/user/assistant turns. */
export const R1_TEMPLATE =
  "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}" +
  "{% set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='', is_first_sp=true) %}" +
  "{%- for message in messages %}{%- if message['role'] == 'system' %}{%- if ns.is_first_sp %}" +
  "{% set ns.system_prompt = ns.system_prompt + message['content'] %}{% set ns.is_first_sp = false %}{%- else %}" +
  "{% set ns.system_prompt = ns.system_prompt + '\\n\\n' + message['content'] %}{%- endif %}{%- endif %}{%- endfor %}" +
  "{{ bos_token }}{{ ns.system_prompt }}" +
  "{%- for message in messages %}{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}" +
  "{{'<｜User｜>' + message['content']}}{%- endif %}" +
  "{%- if message['role'] == 'assistant' and message['content'] is not none %}{% set content = message['content'] %}" +
  "{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}" +
  "{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endfor -%}" +
  "{% if add_generation_prompt %}{{'<｜Assistant｜><think>\\n'}}{% endif %}";

export function tokenizerConfig(): Record<string, unknown> {
  return {
    add_bos_token: false,
    add_eos_token: false,
    bos_token: BOS,
    eos_token: EOS,
    pad_token: EOS,
    clean_up_tokenization_spaces: false,
    legacy: true,
    model_max_length: 512,
    tokenizer_class: "LlamaTokenizerFast",
    chat_template: R1_TEMPLATE,
  };
}
