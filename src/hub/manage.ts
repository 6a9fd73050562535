// `r1 verify` and `r1 rm` as library calls: both work on the cache alone and never touch the network.

import { join } from "node:path";
import { R1Error } from "../core/errors.js";
import { type HubOptions, hubSettings } from "./env.js";
import { findCached } from "./lookup.js";
import { asHubRef } from "./pull.js";
import { formatHubRef, type HubRef } from "./ref.js";
import { cachedCommit, listTree, removeRepo, removeSnapshot, removeSnapshotFile, repoPaths } from "./store.js";
import { type VerifyReport, verifyFiles } from "./verify.js";

function notCached(text: string, cacheDir: string): R1Error {
  return new R1Error("not_found", `${text} is not in the cache (${cacheDir})`, "r1 list shows what the cache holds");
}

export interface VerifyResult extends VerifyReport {
  ref: string;
  repo: string;
  commit: string;
  snapshotDir: string;
}

/**
 * Re-hash a cached model against the hashes its blob names carry. A folder reference checks every file of the
 * snapshot (whoever downloaded them); a GGUF reference checks its file(s). Stops at the first bad file.
 */
export async function verifyModel(
  ref: string | HubRef,
  opts: HubOptions & { onFile?: (file: string, size: number) => void } = {},
): Promise<VerifyResult> {
  const hub = asHubRef(ref, "verify (only cached Hub models carry published hashes)");
  const text = formatHubRef(hub);
  const { cacheDir } = hubSettings(opts);
  const commit = await cachedCommit(cacheDir, hub.repo, hub.revision, !hub.explicitRevision);
  if (!commit) throw notCached(text, cacheDir);
  const snapshotDir = join(repoPaths(cacheDir, hub.repo).snapshots, commit);
  let files: string[];
  if (hub.file || hub.quant) {
    const found = await findCached(hub, cacheDir);
    if (!found) throw notCached(text, cacheDir);
    files = found.files;
  } else {
    files = await listTree(snapshotDir);
  }
  const report = await verifyFiles(repoPaths(cacheDir, hub.repo), snapshotDir, files, opts.onFile);
  return { ref: text, repo: hub.repo, commit, snapshotDir, ...report };
}

export interface RemoveResult {
  ref: string;
  /** What went: "repo", one "revision", or the named GGUF "file(s)". */
  scope: "repo" | "revision" | "file";
  freedBytes: number;
}

/** org/repo removes every revision; org/repo@rev one snapshot; org/repo:QUANT or /file.gguf one model file. */
export async function removeModel(ref: string | HubRef, opts: HubOptions = {}): Promise<RemoveResult> {
  const hub = asHubRef(ref, "remove (r1 rm only deletes models from the Hub cache; delete local files yourself)");
  const text = formatHubRef(hub);
  const { cacheDir } = hubSettings(opts);
  const commit = await cachedCommit(cacheDir, hub.repo, hub.revision, !hub.explicitRevision);
  if (!commit) throw notCached(text, cacheDir);
  if (hub.file || hub.quant) {
    const found = await findCached(hub, cacheDir);
    if (!found) throw notCached(text, cacheDir);
    let freed = 0;
    for (const f of found.files) freed += await removeSnapshotFile(cacheDir, hub.repo, commit, f);
    return { ref: text, scope: "file", freedBytes: freed };
  }
  if (hub.explicitRevision) {
    return { ref: text, scope: "revision", freedBytes: await removeSnapshot(cacheDir, hub.repo, commit) };
  }
  return { ref: text, scope: "repo", freedBytes: await removeRepo(cacheDir, hub.repo) };
}
