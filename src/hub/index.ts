// The hub module's public face: model references, the Hugging Face cache, pull / resolve / list / verify / rm.
// Front ends (cli, server, eval) import from here only.

export { DEFAULT_ENDPOINT, type HubOptions, type HubSettings, hubSettings } from "./env.js";
export { type CachedEntry, listCached } from "./inventory.js";
export { type CachedModel, findCached } from "./lookup.js";
export { type RemoveResult, removeModel, type VerifyResult, verifyModel } from "./manage.js";
export { formatBytes, type PullEvent, progressReporter, quiet } from "./progress.js";
export { type PullOptions, type PullResult, pull } from "./pull.js";
export { formatHubRef, type HubRef, type ModelRef, packageRoot, parseModelRef, SHIPPED_MODELS } from "./ref.js";
export { type ResolveOptions, resolveModel } from "./resolve.js";
