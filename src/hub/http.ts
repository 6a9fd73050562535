// Every byte r1ts asks of the network goes through hubFetch, the single place where HF_HUB_OFFLINE is enforced
// (so "offline never connects" holds by construction, and a test counting the server's connections proves it).
// The Hub's error answers (HTTP status + X-Error-Code, as huggingface_hub's hf_raise_for_status reads them) are
// turned into R1Errors that name the repo and the fix: HF_TOKEN for gated and private repos, the spelling for
// missing ones.

import { z } from "zod";
import { R1Error } from "../core/errors.js";
import type { HubSettings } from "./env.js";

/** A failure worth retrying (connection dropped, 5xx, 429). Still an R1Error, so the CLI prints it cleanly. */
export class TransientHubError extends R1Error {
  constructor(message: string, hint = "run the same command again: it resumes where it stopped") {
    super("input", message, hint);
  }
}

const OFFLINE_HINT = "unset HF_HUB_OFFLINE to download, or copy the model into the cache on a connected machine";

export interface HubRequest {
  method?: "GET" | "HEAD";
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** For messages: what we were fetching ("the file list of org/repo"). */
  what: string;
}

/** The one function that opens connections. Adds the token and identity encoding (byte counts, Range). */
export async function hubFetch(settings: HubSettings, url: string, req: HubRequest): Promise<Response> {
  if (settings.offline) {
    throw new R1Error("input", `offline mode (HF_HUB_OFFLINE=1) forbids fetching ${req.what}`, OFFLINE_HINT);
  }
  const headers: Record<string, string> = {
    "user-agent": "r1ts/0.1",
    "accept-encoding": "identity",
    ...req.headers,
  };
  // The token goes to the configured endpoint only. Redirects to the CDN are followed by fetch, which drops the
  // Authorization header across origins (the signed CDN URL needs none).
  if (settings.token && url.startsWith(`${settings.endpoint}/`)) headers.authorization = `Bearer ${settings.token}`;
  try {
    return await fetch(url, { method: req.method ?? "GET", headers, signal: req.signal, redirect: "follow" });
  } catch (e) {
    if (req.signal?.aborted) throw req.signal.reason ?? e;
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new TransientHubError(
      `cannot reach ${new URL(url).origin} for ${req.what}: ${cause?.code ?? cause?.message ?? (e as Error).message}`,
      "check the network or HF_ENDPOINT; HF_HUB_OFFLINE=1 uses only models already in the cache",
    );
  }
}

/** Turn a non-2xx Hub answer into an actionable error. `repo` and `file` shape the message. */
export function hubHttpError(res: Response, settings: HubSettings, repo: string, what: string): R1Error {
  const code = res.headers.get("x-error-code") ?? "";
  const serverSays = res.headers.get("x-error-message");
  const detail = serverSays ? ` (the Hub says: ${serverSays})` : "";
  const page = `${settings.endpoint}/${repo}`;
  const tokenState = settings.token ? "HF_TOKEN is set but" : "HF_TOKEN is not set, and";
  if (code === "GatedRepo" || ((res.status === 401 || res.status === 403) && code === "")) {
    const gated = code === "GatedRepo";
    return new R1Error(
      "input",
      `${repo} is ${gated ? "a gated repo" : "private or gated"}: HTTP ${res.status} for ${what}; ` +
        `${tokenState} ${settings.token ? "it has no access" : "the Hub wants one"}${detail}`,
      settings.token
        ? `accept the model's terms at ${page} with the account that owns HF_TOKEN, or use a token with read access`
        : `accept the model's terms at ${page}, then set HF_TOKEN to a read token (${settings.endpoint}/settings/tokens)`,
    );
  }
  if (code === "RepoNotFound" || (res.status === 404 && code === "")) {
    return new R1Error(
      "not_found",
      `${repo} not found on ${settings.endpoint}: HTTP ${res.status} for ${what}${detail}`,
      settings.token
        ? "check the spelling (org/repo, case matters)"
        : "check the spelling (org/repo, case matters); a private repo needs HF_TOKEN",
    );
  }
  if (code === "RevisionNotFound") {
    return new R1Error("not_found", `${what}: revision not found in ${repo}${detail}`, "name a branch, tag or commit");
  }
  if (code === "EntryNotFound") {
    return new R1Error("not_found", `${what}: no such file in ${repo}${detail}`, "check the file name");
  }
  if (res.status === 429) {
    return new TransientHubError(
      `${settings.endpoint} is rate-limiting requests (HTTP 429) for ${what}`,
      "wait a minute and run the command again; logged-in requests (HF_TOKEN) get higher limits",
    );
  }
  if (res.status >= 500) {
    return new TransientHubError(
      `${settings.endpoint} failed with HTTP ${res.status} for ${what}${detail}`,
      "retry later",
    );
  }
  return new R1Error("input", `HTTP ${res.status} from ${settings.endpoint} for ${what}${detail}`, "retry later");
}

// ---------------------------------------------------------------------------------------------------------------
// The model API: GET {endpoint}/api/models/{org}/{repo}/revision/{rev}?blobs=true, as huggingface_hub's
// model_info(files_metadata=True) calls it. `sha` is the commit the revision resolves to; each sibling carries
// its size and git blob id, and LFS files an `lfs` object whose sha256 is the content hash.

const SiblingSchema = z.object({
  rfilename: z.string(),
  size: z.number().int().nonnegative().optional(),
  blobId: z.string().optional(),
  lfs: z
    .object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative() })
    .optional()
    .nullable(),
});
const ModelInfoSchema = z.object({
  id: z.string().optional(),
  sha: z.string().regex(/^[0-9a-f]{40}$/),
  siblings: z.array(SiblingSchema),
  gated: z.union([z.boolean(), z.string()]).optional(),
});

/** One file of a repo at a commit: its size and the blob name (= expected hash) it will have in the cache. */
export interface RepoFile {
  path: string;
  size: number;
  blob: string; // sha256 hex for LFS files, git blob sha1 hex otherwise
  lfs: boolean;
}

export interface RepoListing {
  repo: string;
  commit: string;
  files: RepoFile[];
  gated: boolean;
}

export function encodeRepoPath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

export async function fetchListing(
  settings: HubSettings,
  repo: string,
  revision: string,
  signal?: AbortSignal,
): Promise<RepoListing> {
  const url = `${settings.endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`;
  const what = `the file list of ${repo}@${revision}`;
  const res = await hubFetch(settings, url, { what, signal, headers: { accept: "application/json" } });
  if (!res.ok) {
    await res.body?.cancel();
    throw hubHttpError(res, settings, repo, what);
  }
  const parsed = ModelInfoSchema.safeParse(await res.json().catch(() => undefined));
  if (!parsed.success) {
    throw new R1Error(
      "format",
      `${url}: unexpected model API answer (${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message})`,
      "HF_ENDPOINT must point at a Hugging Face Hub or a faithful mirror",
    );
  }
  const files: RepoFile[] = [];
  for (const s of parsed.data.siblings) {
    if (s.lfs) files.push({ path: s.rfilename, size: s.lfs.size, blob: s.lfs.sha256, lfs: true });
    else if (s.blobId && /^[0-9a-f]{40}$/.test(s.blobId) && s.size !== undefined)
      files.push({ path: s.rfilename, size: s.size, blob: s.blobId, lfs: false });
    else files.push({ path: s.rfilename, size: s.size ?? -1, blob: "", lfs: false }); // unusable; see pull
  }
  return { repo, commit: parsed.data.sha, files, gated: !!parsed.data.gated };
}

export function resolveUrl(settings: HubSettings, repo: string, commit: string, file: string): string {
  return `${settings.endpoint}/${repo}/resolve/${encodeURIComponent(commit)}/${encodeRepoPath(file)}`;
}
