// Finding a Hub reference in the cache without the network: revision -> commit through refs/, then the files the
// reference needs inside snapshots/<commit>/, with the same selection rules a pull applies. A snapshot that lacks
// part of what the runtime needs (e.g. Python fetched only config.json) is "not cached", so a pull completes it.

import { promises as fs } from "node:fs";
import { join } from "node:path";
import type { HubRef } from "./ref.js";
import { groupKey, SAFETENSORS_INDEX, selectGguf, shardsOfIndex } from "./select.js";
import { cachedCommit, listTree, repoPaths } from "./store.js";

export interface CachedModel {
  repo: string;
  commit: string;
  snapshotDir: string;
  /** What the runtime loads: the snapshot folder, or the (first) .gguf file. */
  path: string;
  /** The snapshot files this reference uses, relative to snapshotDir. */
  files: string[];
}

async function present(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const f of await listTree(dir)) {
    try {
      await fs.stat(join(dir, ...f.split("/"))); // follows the link: a dangling one is not present
      out.push(f);
    } catch {
      // dangling link
    }
  }
  return out;
}

/** The cached model a hub reference names, or undefined when it is not (completely) in the cache. */
export async function findCached(ref: HubRef, cacheDir: string): Promise<CachedModel | undefined> {
  const commit = await cachedCommit(cacheDir, ref.repo, ref.revision, !ref.explicitRevision);
  if (!commit) return undefined;
  const snapshotDir = join(repoPaths(cacheDir, ref.repo).snapshots, commit);
  const have = await present(snapshotDir);
  const found = (files: string[], path: string): CachedModel => ({ repo: ref.repo, commit, snapshotDir, path, files });
  const gguf = (files: string[]) => found(files, join(snapshotDir, ...files[0]!.split("/")));

  if (ref.file) {
    const parts = have.filter((f) => groupKey(f) === groupKey(ref.file!));
    return have.includes(ref.file) ? gguf(parts.sort()) : undefined;
  }
  if (ref.quant) {
    if (!have.some((f) => f.toLowerCase().endsWith(".gguf"))) return undefined;
    try {
      return gguf(selectGguf(ref.repo, have, ref.quant));
    } catch {
      return undefined; // no cached file carries this tag (ambiguity is reported by the pull, which sees them all)
    }
  }
  if (!have.includes("config.json")) {
    // A GGUF-only snapshot named without a tag: usable when it holds exactly one model.
    const ggufs = have.filter((f) => f.toLowerCase().endsWith(".gguf"));
    if (ggufs.length === 0) return undefined;
    try {
      return gguf(selectGguf(ref.repo, have, undefined));
    } catch {
      return undefined;
    }
  }
  let weights: string[];
  if (have.includes(SAFETENSORS_INDEX)) {
    const text = await fs.readFile(join(snapshotDir, SAFETENSORS_INDEX), "utf8");
    weights = shardsOfIndex(text, join(snapshotDir, SAFETENSORS_INDEX));
    if (!weights.every((w) => have.includes(w))) return undefined;
    weights.push(SAFETENSORS_INDEX);
  } else {
    weights = have.filter((f) => !f.includes("/") && f.endsWith(".safetensors"));
    if (weights.length === 0) return undefined;
  }
  const small = have.filter((f) => !f.includes("/") && (f.endsWith(".json") || f.endsWith(".jinja")));
  return found([...new Set([...small, ...weights])].sort(), snapshotDir);
}
