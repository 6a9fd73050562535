// The Hugging Face cache layout, byte for byte the one Python's huggingface_hub writes and reads, so a model
// fetched by either tool is found by the other:
//
//   <cacheDir>/models--<org>--<repo>/
//     blobs/<etag>                 file contents, named by the Hub's etag: the sha256 for LFS files, the git
//                                  blob sha1 for small files stored in git; <etag>.incomplete while downloading
//     snapshots/<commit>/<path>    relative symlinks to ../../blobs/<etag> (one level more per subfolder)
//     refs/<revision>              the commit a branch or tag pointed to when last resolved (no trailing newline);
//                                  never written when the revision is itself a commit hash
//     .r1ts/verified.json          ours alone: which blobs r1ts has hashed (Python's scanner ignores it)
//
// This file does paths and filesystem moves only; it never talks to the network.

import { type Dirent, promises as fs } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { isCommitHash } from "./ref.js";

export function repoFolderName(repo: string): string {
  return `models--${repo.replace(/\//g, "--")}`;
}

/** "models--org--repo" -> "org/repo"; undefined for folders that are not model repos (datasets--, .locks). */
export function repoFromFolderName(name: string): string | undefined {
  if (!name.startsWith("models--")) return undefined;
  const parts = name.slice("models--".length).split("--");
  return parts.length === 2 && parts.every((p) => p !== "") ? parts.join("/") : undefined;
}

export interface RepoPaths {
  root: string;
  blobs: string;
  snapshots: string;
  refs: string;
  r1ts: string;
}

export function repoPaths(cacheDir: string, repo: string): RepoPaths {
  const root = join(cacheDir, repoFolderName(repo));
  return {
    root,
    blobs: join(root, "blobs"),
    snapshots: join(root, "snapshots"),
    refs: join(root, "refs"),
    r1ts: join(root, ".r1ts"),
  };
}

export const INCOMPLETE = ".incomplete";

/** The Hub's ETag as huggingface_hub normalizes it: no weak prefix, no quotes. */
export function normalizeEtag(etag: string | null | undefined): string | undefined {
  if (!etag) return undefined;
  return etag.replace(/^W\//, "").replace(/^"(.*)"$/, "$1");
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

async function readdirSafe(dir: string): Promise<Dirent[]> {
  try {
    return await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

export async function readRef(cacheDir: string, repo: string, revision: string): Promise<string | undefined> {
  try {
    const s = (await fs.readFile(join(repoPaths(cacheDir, repo).refs, revision), "utf8")).trim();
    return isCommitHash(s) ? s : undefined;
  } catch {
    return undefined;
  }
}

export async function writeRef(cacheDir: string, repo: string, revision: string, commit: string): Promise<void> {
  if (isCommitHash(revision)) return;
  const file = join(repoPaths(cacheDir, repo).refs, revision);
  await fs.mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, commit); // no newline: the Python layout
  await fs.rename(tmp, file);
}

/** Snapshot commits present on disk, newest first (by folder mtime). */
export async function snapshotCommits(cacheDir: string, repo: string): Promise<string[]> {
  const dir = repoPaths(cacheDir, repo).snapshots;
  const entries = (await readdirSafe(dir)).filter((e) => e.isDirectory());
  const withTime = await Promise.all(
    entries.map(async (e) => ({ name: e.name, t: (await fs.stat(join(dir, e.name))).mtimeMs })),
  );
  return withTime.sort((a, b) => b.t - a.t).map((x) => x.name);
}

/**
 * The cached commit a revision points to: the ref file for a branch or tag, the snapshot itself for a commit.
 * For the default branch with no ref file (a hand-copied cache), the newest snapshot stands in.
 */
export async function cachedCommit(
  cacheDir: string,
  repo: string,
  revision: string,
  isDefault: boolean,
): Promise<string | undefined> {
  const fromRef = await readRef(cacheDir, repo, revision);
  if (fromRef && (await exists(join(repoPaths(cacheDir, repo).snapshots, fromRef)))) return fromRef;
  const snaps = await snapshotCommits(cacheDir, repo);
  if (snaps.includes(revision)) return revision;
  if (isDefault && !fromRef) return snaps[0];
  return undefined;
}

/** Relative paths ("a/b.json", '/' separated) of every file or link under a snapshot folder. */
export async function listTree(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdirSafe(dir)) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listTree(join(dir, e.name), rel)));
    else out.push(rel);
  }
  return out.sort();
}

/** Blob name a snapshot entry links to (undefined for a plain file, as on filesystems without symlinks). */
export async function blobNameOf(snapshotFile: string): Promise<string | undefined> {
  try {
    const target = await fs.readlink(snapshotFile);
    return target.split(/[\\/]/).pop();
  } catch {
    return undefined;
  }
}

/**
 * Point snapshots/<commit>/<file> at blobs/<blob> with a relative link, replacing any old entry atomically
 * (link under a temporary name, then rename). Where symlinks are refused (Windows without developer mode) the
 * blob is copied, as huggingface_hub does.
 */
export async function linkSnapshotFile(
  cacheDir: string,
  repo: string,
  commit: string,
  file: string,
  blob: string,
): Promise<string> {
  const p = repoPaths(cacheDir, repo);
  const link = join(p.snapshots, commit, ...file.split("/"));
  await fs.mkdir(dirname(link), { recursive: true });
  const target = relative(dirname(link), join(p.blobs, blob)).split(sep).join("/");
  const tmp = `${link}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await fs.symlink(target, tmp);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") throw e;
    await fs.copyFile(join(p.blobs, blob), tmp);
  }
  await fs.rename(tmp, link);
  return link;
}

/** Sum of the sizes of distinct blobs reached from the given snapshot files. */
export async function blobBytes(files: string[]): Promise<number> {
  const seen = new Map<string, number>();
  for (const f of files) {
    try {
      const real = await fs.realpath(f);
      if (!seen.has(real)) seen.set(real, (await fs.stat(real)).size);
    } catch {
      // a dangling link counts for nothing
    }
  }
  let n = 0;
  for (const v of seen.values()) n += v;
  return n;
}

// ---------------------------------------------------------------------------------------------------------------
// Removal. Blobs are shared between snapshots (an unchanged config.json across commits is one blob), so removing
// a revision or a file removes only the blobs no remaining snapshot links to.

async function referencedBlobs(p: RepoPaths): Promise<Set<string>> {
  const used = new Set<string>();
  for (const commit of (await readdirSafe(p.snapshots)).filter((e) => e.isDirectory())) {
    for (const f of await listTree(join(p.snapshots, commit.name))) {
      const b = await blobNameOf(join(p.snapshots, commit.name, f));
      if (b) used.add(b);
    }
  }
  return used;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await fs.stat(path)).size;
  } catch {
    return 0;
  }
}

/** Delete unreferenced complete blobs (partial .incomplete downloads are left for a later resume). */
async function collectGarbage(p: RepoPaths): Promise<number> {
  const used = await referencedBlobs(p);
  let freed = 0;
  for (const e of await readdirSafe(p.blobs)) {
    if (e.name.endsWith(INCOMPLETE) || used.has(e.name)) continue;
    freed += await sizeOf(join(p.blobs, e.name));
    await fs.rm(join(p.blobs, e.name), { force: true });
  }
  return freed;
}

async function removeEmptyDirs(dir: string, stopAt: string): Promise<void> {
  while (dir.startsWith(stopAt) && dir !== stopAt) {
    try {
      await fs.rmdir(dir);
    } catch {
      return;
    }
    dir = dirname(dir);
  }
}

async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdirSafe(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += await dirBytes(p);
    else if (e.isFile()) n += await sizeOf(p);
  }
  return n;
}

/** Remove a whole repo (all revisions, partial downloads, our records, the Python lock folder). */
export async function removeRepo(cacheDir: string, repo: string): Promise<number> {
  const p = repoPaths(cacheDir, repo);
  const freed = await dirBytes(p.root);
  await fs.rm(p.root, { recursive: true, force: true });
  await fs.rm(join(cacheDir, ".locks", repoFolderName(repo)), { recursive: true, force: true });
  return freed;
}

async function refsPointingAt(p: RepoPaths, commit: string, dir = p.refs, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdirSafe(dir)) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await refsPointingAt(p, commit, join(dir, e.name), rel)));
    else if ((await fs.readFile(join(dir, e.name), "utf8")).trim() === commit) out.push(rel);
  }
  return out;
}

/** Remove one snapshot and the refs that name it; the repo folder goes too when nothing is left. */
export async function removeSnapshot(cacheDir: string, repo: string, commit: string): Promise<number> {
  const p = repoPaths(cacheDir, repo);
  await fs.rm(join(p.snapshots, commit), { recursive: true, force: true });
  for (const r of await refsPointingAt(p, commit)) {
    await fs.rm(join(p.refs, r), { force: true });
    await removeEmptyDirs(dirname(join(p.refs, r)), p.refs);
  }
  const freed = await collectGarbage(p);
  if ((await snapshotCommits(cacheDir, repo)).length === 0) return freed + (await removeRepo(cacheDir, repo));
  return freed;
}

/** Remove one file (e.g. one GGUF quant) from a snapshot, and its blob when no other snapshot uses it. */
export async function removeSnapshotFile(cacheDir: string, repo: string, commit: string, file: string) {
  const p = repoPaths(cacheDir, repo);
  const link = join(p.snapshots, commit, ...file.split("/"));
  await fs.rm(link, { force: true });
  await removeEmptyDirs(dirname(link), join(p.snapshots, commit));
  if ((await listTree(join(p.snapshots, commit))).length === 0) return removeSnapshot(cacheDir, repo, commit);
  return collectGarbage(p);
}
