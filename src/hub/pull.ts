// `pull`: bring a Hub reference into the cache. The order is the safety argument:
//   1. ask the model API for the commit and the file list (sizes, sha256 of LFS files, git sha1 of the rest)
//   2. choose the files the runtime reads (select.ts: never pickle, never code)
//   3. count what must still come (finished blobs are reused, partial ones resumed) and check the free disk
//      space: nothing has been written yet, so a full disk costs nothing
//   4. download up to 4 files at once into blobs/<hash>.incomplete, hash-check, rename into blobs/
//   5. link snapshots/<commit>/<file> -> ../../blobs/<hash>, then write refs/<revision>
// A failure in one file aborts the others; every partial file stays for the next run to resume.

import { promises as fs } from "node:fs";
import { dirname, join } from "node:path";
import { R1Error, usageError } from "../core/errors.js";
import { downloadBlob } from "./download.js";
import { type HubOptions, type HubSettings, hubSettings } from "./env.js";
import { fetchListing, hubFetch, hubHttpError, type RepoFile, type RepoListing, resolveUrl } from "./http.js";
import { findCached } from "./lookup.js";
import { formatBytes, type PullEvent, progressReporter } from "./progress.js";
import { formatHubRef, type HubRef, parseModelRef } from "./ref.js";
import {
  assertNothingExecutable,
  groupKey,
  SAFETENSORS_INDEX,
  selectFolderFiles,
  selectGguf,
  shardsOfIndex,
} from "./select.js";
import { INCOMPLETE, linkSnapshotFile, repoPaths, writeRef } from "./store.js";
import { updateRecords } from "./verify.js";

export interface PullOptions extends HubOptions {
  /** Progress and plan events; defaults to a progress bar (TTY) or plain lines on stderr. */
  onEvent?: (e: PullEvent) => void;
  /** Files downloaded at once (default 4). */
  concurrency?: number;
  /** Extra attempts per file after a dropped connection or a 5xx, each resuming (default 3). */
  retries?: number;
  retryDelayMs?: number;
  signal?: AbortSignal;
  /**
   * Free bytes on the filesystem holding `dir`. Only tests set this (to stage a full disk without filling one);
   * everything else gets fs.statfs.
   */
  freeSpace?: (dir: string) => Promise<number>;
}

export interface PullResult {
  ref: string;
  repo: string;
  commit: string;
  snapshotDir: string;
  /** What the runtime loads: the snapshot folder or the (first) .gguf file. */
  path: string;
  /** Files of the snapshot this reference uses. */
  files: string[];
  /** Bytes that came over the network (all files, all attempts). */
  receivedBytes: number;
  /** True when nothing needed the network (offline, or everything already cached). */
  fromCache: boolean;
}

export function asHubRef(ref: string | HubRef, verb: string): HubRef {
  const parsed = typeof ref === "string" ? parseModelRef(ref) : ref;
  if (parsed.kind !== "hub") {
    throw usageError(
      `${parsed.text} is a local model (${parsed.path}): there is nothing to ${verb}`,
      "name a Hub model as org/repo, org/repo:Q4_K_M or org/repo/file.gguf",
    );
  }
  return parsed;
}

async function nearestExisting(dir: string): Promise<string> {
  for (;;) {
    try {
      await fs.stat(dir);
      return dir;
    } catch {
      const up = dirname(dir);
      if (up === dir) return dir;
      dir = up;
    }
  }
}

async function statfsFree(dir: string): Promise<number> {
  const s = await fs.statfs(dir);
  return Number(s.bavail) * Number(s.bsize);
}

async function sizeOrMinus1(p: string): Promise<number> {
  try {
    return (await fs.stat(p)).size;
  } catch {
    return -1;
  }
}

/** The shard list of a safetensors index: from the cache if the blob is there, else fetched into memory. */
async function indexShards(settings: HubSettings, listing: RepoListing, blobsDir: string, signal?: AbortSignal) {
  const entry = listing.files.find((f) => f.path === SAFETENSORS_INDEX);
  if (!entry) return undefined;
  const where = `${listing.repo}/${SAFETENSORS_INDEX}`;
  let text: string;
  try {
    text = await fs.readFile(join(blobsDir, entry.blob), "utf8");
  } catch {
    // Read into memory only, to plan; the file itself is downloaded and hash-checked with the others.
    const res = await hubFetch(settings, resolveUrl(settings, listing.repo, listing.commit, SAFETENSORS_INDEX), {
      what: where,
      signal,
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw hubHttpError(res, settings, listing.repo, where);
    }
    text = await res.text();
  }
  return shardsOfIndex(text, where);
}

function planFiles(ref: HubRef, listing: RepoListing, shards: string[] | undefined): string[] {
  const paths = listing.files.map((f) => f.path);
  if (ref.file) {
    if (!paths.includes(ref.file)) {
      const ggufs = paths.filter((p) => p.toLowerCase().endsWith(".gguf"));
      throw new R1Error(
        "not_found",
        `${ref.repo}@${ref.revision} has no file ${ref.file}`,
        ggufs.length ? `its .gguf files: ${ggufs.join(", ")}` : `${ref.repo} has no .gguf files`,
      );
    }
    return paths.filter((p) => groupKey(p) === groupKey(ref.file!)).sort();
  }
  if (ref.quant) return selectGguf(ref.repo, paths, ref.quant);
  return selectFolderFiles(ref.repo, paths, shards);
}

/** Run `work` over `items`, at most `limit` at a time; stops taking new items after the first failure. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { e: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (e) {
        failure ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.e;
}

export async function pull(ref: string | HubRef, opts: PullOptions = {}): Promise<PullResult> {
  const hub = asHubRef(ref, "pull");
  const text = formatHubRef(hub);
  const settings = hubSettings(opts);
  const onEvent = opts.onEvent ?? progressReporter();
  const t0 = Date.now();

  if (settings.offline) {
    const cached = await findCached(hub, settings.cacheDir);
    if (!cached) {
      throw new R1Error(
        "not_found",
        `${text} is not in the cache (${settings.cacheDir}) and HF_HUB_OFFLINE=1 forbids downloading it`,
        "unset HF_HUB_OFFLINE to download it, or set HF_HUB_CACHE to the cache that holds it",
      );
    }
    onEvent({ type: "cached", ref: text, path: cached.path });
    return { ref: text, ...cached, receivedBytes: 0, fromCache: true };
  }

  // 1-2: what the revision holds and what we take from it.
  const p = repoPaths(settings.cacheDir, hub.repo);
  const listing = await fetchListing(settings, hub.repo, hub.revision, opts.signal);
  const shards = hub.file || hub.quant ? undefined : await indexShards(settings, listing, p.blobs, opts.signal);
  const chosen = planFiles(hub, listing, shards);
  assertNothingExecutable(chosen);
  const byPath = new Map(listing.files.map((f) => [f.path, f]));
  const files: RepoFile[] = chosen.map((c) => byPath.get(c)!);
  for (const f of files) {
    if (!f.blob) {
      throw new R1Error(
        "format",
        `the model API gave no size or hash for ${hub.repo}/${f.path}`,
        "HF_ENDPOINT must serve /api/models/<repo>/revision/<rev>?blobs=true like the Hub does",
      );
    }
  }

  // 3: what is already here, and room for the rest. Nothing is written before this check.
  const state = await Promise.all(
    files.map(async (f) => {
      const done = (await sizeOrMinus1(join(p.blobs, f.blob))) === f.size;
      const part = done ? 0 : Math.max(0, await sizeOrMinus1(join(p.blobs, f.blob + INCOMPLETE)));
      return { f, done, part: part <= f.size ? part : 0 };
    }),
  );
  const totalBytes = files.reduce((n, f) => n + f.size, 0);
  const downloadBytes = [...new Map(state.map((s) => [s.f.blob, s])).values()].reduce(
    (n, s) => n + (s.done ? 0 : s.f.size - s.part),
    0,
  );
  onEvent({
    type: "plan",
    repo: hub.repo,
    revision: hub.revision,
    commit: listing.commit,
    files: state.map((s) => ({ path: s.f.path, size: s.f.size, cached: s.done })),
    totalBytes,
    downloadBytes,
  });
  if (downloadBytes > 0) {
    const probeDir = await nearestExisting(p.blobs);
    const free = await (opts.freeSpace ?? statfsFree)(probeDir);
    if (downloadBytes > free) {
      throw new R1Error(
        "input",
        `not enough disk space to pull ${text}: it needs ${formatBytes(downloadBytes)} (${downloadBytes} bytes), ` +
          `${probeDir} has ${formatBytes(free)} free`,
        "free some space (r1 list, then r1 rm REF), or point HF_HUB_CACHE at a larger disk",
      );
    }
  }

  // 4-5: download (largest first, so the long transfers overlap), record, link.
  // snapshots/ too: Python's cache scanner reports a repo folder without one as corrupted.
  await fs.mkdir(p.blobs, { recursive: true });
  await fs.mkdir(p.snapshots, { recursive: true });
  const abort = new AbortController();
  const onOuterAbort = () => abort.abort(opts.signal?.reason);
  opts.signal?.addEventListener("abort", onOuterAbort, { once: true });
  const hashed: string[] = [];
  let receivedBytes = 0;
  const ctx = {
    settings,
    repo: hub.repo,
    commit: listing.commit,
    blobsDir: p.blobs,
    signal: abort.signal,
    onEvent,
    retries: opts.retries ?? 3,
    retryDelayMs: opts.retryDelayMs ?? 500,
  };
  // Two paths with identical content share one blob: fetch it once, link it twice.
  const pending = [...new Map(state.filter((s) => !s.done).map((s) => [s.f.blob, s.f])).values()];
  const queue = pending.sort((a, b) => b.size - a.size);
  try {
    await pool(queue, opts.concurrency ?? 4, async (f) => {
      try {
        const r = await downloadBlob(f, ctx);
        receivedBytes += r.received;
        hashed.push(f.blob);
      } catch (e) {
        abort.abort(e);
        throw e;
      }
    });
  } finally {
    opts.signal?.removeEventListener("abort", onOuterAbort);
    await updateRecords(p, hashed, "pull");
  }
  for (const f of files) await linkSnapshotFile(settings.cacheDir, hub.repo, listing.commit, f.path, f.blob);
  await writeRef(settings.cacheDir, hub.repo, hub.revision, listing.commit);

  const snapshotDir = join(p.snapshots, listing.commit);
  const isGguf = hub.file !== undefined || hub.quant !== undefined || !chosen.includes("config.json");
  const path = isGguf ? join(snapshotDir, ...chosen[0]!.split("/")) : snapshotDir;
  onEvent({ type: "done", ref: text, path, receivedBytes, seconds: (Date.now() - t0) / 1000 });
  return {
    ref: text,
    repo: hub.repo,
    commit: listing.commit,
    snapshotDir,
    path,
    files: chosen,
    receivedBytes,
    fromCache: downloadBytes === 0,
  };
}
