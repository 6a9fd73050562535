// The model_type strings r1ts runs (HF config.json), kept apart from registry.ts so config parsing can name
// them without importing every architecture.
export const knownArchs: readonly string[] = ["qwen2", "llama", "deepseek_v3", "deepseek_v2"];
