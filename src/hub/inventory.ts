// What the cache holds, model by model, for `r1 list`. One snapshot can hold several runnable models (a folder
// checkpoint and several GGUF quants of it), so each gets its own entry with the reference that names it.
// Reads only small files (config.json, the first 256 KB of a GGUF header) and the verification records: listing
// never hashes, so it stays instant on a cache of hundreds of gigabytes.

import { promises as fs } from "node:fs";
import { join } from "node:path";
import { type HubOptions, hubSettings } from "./env.js";
import { peekGguf } from "./gguf_peek.js";
import { findCached } from "./lookup.js";
import type { HubRef } from "./ref.js";
import { groupKey, quantTag } from "./select.js";
import { blobBytes, listTree, repoFromFolderName, repoPaths } from "./store.js";
import { allRecorded, readRecords } from "./verify.js";

export interface CachedEntry {
  /** The reference that names this model (pass it to --model, r1 verify, r1 rm). */
  ref: string;
  repo: string;
  commit: string;
  /** Branches and tags whose ref file points at this commit. */
  revisions: string[];
  format: "safetensors" | "gguf";
  /** Files of the model, relative to the snapshot folder. */
  files: string[];
  /** Local path the runtime loads. */
  path: string;
  sizeBytes: number;
  architecture?: string;
  quantization?: string;
  /** Everything the runtime needs is present (a Python tool may have fetched only part of a repo). */
  complete: boolean;
  /** Every file was hashed by r1ts (pull or verify) and has not changed since. */
  verified: boolean;
}

async function readRefs(refsDir: string, prefix = ""): Promise<Map<string, string[]>> {
  const byCommit = new Map<string, string[]>();
  let entries: import("node:fs").Dirent[] = [];
  try {
    entries = await fs.readdir(refsDir, { withFileTypes: true });
  } catch {
    return byCommit;
  }
  for (const e of entries) {
    const name = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) {
      for (const [c, names] of await readRefs(join(refsDir, e.name), name)) {
        byCommit.set(c, [...(byCommit.get(c) ?? []), ...names]);
      }
    } else {
      const c = (await fs.readFile(join(refsDir, e.name), "utf8")).trim();
      byCommit.set(c, [...(byCommit.get(c) ?? []), name]);
    }
  }
  return byCommit;
}

interface ConfigLabel {
  architecture?: string;
  quantization?: string;
}

async function configLabel(snapshotDir: string): Promise<ConfigLabel> {
  try {
    const c = JSON.parse(await fs.readFile(join(snapshotDir, "config.json"), "utf8"));
    const arch = Array.isArray(c.architectures) ? c.architectures[0] : c.model_type;
    const q = c.quantization_config;
    const dtypes: Record<string, string> = { bfloat16: "BF16", float16: "F16", float32: "F32" };
    const dtype = c.torch_dtype ?? c.dtype;
    const quantization = q?.quant_method
      ? `${q.quant_method}${q.fmt ? ` ${q.fmt}` : ""}`.toUpperCase()
      : typeof dtype === "string"
        ? (dtypes[dtype] ?? dtype)
        : undefined;
    return { architecture: typeof arch === "string" ? arch : undefined, quantization };
  } catch {
    return {};
  }
}

/** Every model in the cache, sorted by repo then reference. */
export async function listCached(opts: HubOptions = {}): Promise<CachedEntry[]> {
  const { cacheDir } = hubSettings(opts);
  let folders: string[] = [];
  try {
    folders = await fs.readdir(cacheDir);
  } catch {
    return [];
  }
  const out: CachedEntry[] = [];
  for (const folder of folders.sort()) {
    const repo = repoFromFolderName(folder);
    if (!repo) continue;
    const p = repoPaths(cacheDir, repo);
    const refs = await readRefs(p.refs);
    const records = await readRecords(p);
    let commits: string[] = [];
    try {
      commits = (await fs.readdir(p.snapshots, { withFileTypes: true }))
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      continue;
    }
    for (const commit of commits) {
      const snapshotDir = join(p.snapshots, commit);
      const revisions = (refs.get(commit) ?? []).sort();
      const at = revisions.includes("main") ? "" : `@${revisions[0] ?? commit}`;
      const hubRef = (extra: Partial<HubRef>): HubRef => ({
        kind: "hub",
        repo,
        revision: commit,
        explicitRevision: true,
        text: repo,
        ...extra,
      });
      const all = await listTree(snapshotDir);
      const abs = (fs_: string[]) => fs_.map((f) => join(snapshotDir, ...f.split("/")));
      const ggufGroups = [...new Set(all.filter((f) => f.toLowerCase().endsWith(".gguf")).map(groupKey))];
      const nonGguf = all.filter((f) => !f.toLowerCase().endsWith(".gguf"));

      if (nonGguf.some((f) => f.endsWith(".safetensors") || f === "config.json")) {
        const found = await findCached(hubRef({}), cacheDir);
        const files = found && !found.path.toLowerCase().endsWith(".gguf") ? found.files : nonGguf;
        const label = await configLabel(snapshotDir);
        out.push({
          ref: `${repo}${at}`,
          repo,
          commit,
          revisions,
          format: "safetensors",
          files,
          path: snapshotDir,
          sizeBytes: await blobBytes(abs(files)),
          ...label,
          complete: !!found && found.path === snapshotDir,
          verified: await allRecorded(p, abs(files), records),
        });
      }
      for (const g of ggufGroups) {
        const parts = all.filter((f) => groupKey(f) === g).sort();
        const first = join(snapshotDir, ...parts[0]!.split("/"));
        const peek = await peekGguf(first);
        const tag = quantTag(g);
        const unique = ggufGroups.filter((o) => quantTag(o) === tag).length === 1;
        const ref = tag && unique && !at.includes(":") ? `${repo}${at}:${tag}` : `${repo}/${parts[0]}${at}`;
        const found = await findCached(hubRef({ file: parts[0] }), cacheDir);
        out.push({
          ref,
          repo,
          commit,
          revisions,
          format: "gguf",
          files: parts,
          path: first,
          sizeBytes: await blobBytes(abs(parts)),
          architecture: peek.architecture,
          quantization: tag ?? peek.fileType,
          complete: !!found && found.files.length === parts.length,
          verified: await allRecorded(p, abs(parts), records),
        });
      }
    }
  }
  return out.sort((a, b) => (a.repo === b.repo ? a.ref.localeCompare(b.ref) : a.repo.localeCompare(b.repo)));
}
