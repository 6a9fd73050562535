// Re-checking what is on disk. A cache blob's name is its expected hash (sha256 for LFS files, git blob sha1 for
// the rest), so every blob can be re-hashed, whoever downloaded it. r1ts also keeps a small record of which blobs
// it has hashed and when (<repo>/.r1ts/verified.json), so `r1 list` can say "verified" without re-reading
// gigabytes: an entry counts only while the blob's size and mtime are those it had when it was hashed.
//
// verified.json: { "<blob name>": { "algo": "sha256"|"git-sha1", "size": n, "mtimeMs": t, "at": ISO, "by": ... } }

import { promises as fs } from "node:fs";
import { join } from "node:path";
import { algoOfBlobName, type HashAlgo, hashFile } from "./hashing.js";
import { blobNameOf, type RepoPaths } from "./store.js";

export interface BlobRecord {
  algo: HashAlgo;
  size: number;
  mtimeMs: number;
  at: string;
  by: "pull" | "verify";
}
export type BlobRecords = Record<string, BlobRecord>;

const recordFile = (p: RepoPaths) => join(p.r1ts, "verified.json");

export async function readRecords(p: RepoPaths): Promise<BlobRecords> {
  try {
    const parsed = JSON.parse(await fs.readFile(recordFile(p), "utf8"));
    return typeof parsed === "object" && parsed !== null ? (parsed as BlobRecords) : {};
  } catch {
    return {};
  }
}

/** Merge records for freshly hashed blobs (and drop `forget`), writing the file atomically. */
export async function updateRecords(p: RepoPaths, hashed: string[], by: BlobRecord["by"], forget: string[] = []) {
  if (hashed.length === 0 && forget.length === 0) return;
  const records = await readRecords(p);
  for (const blob of forget) delete records[blob];
  for (const blob of hashed) {
    const algo = algoOfBlobName(blob);
    if (!algo) continue;
    try {
      const st = await fs.stat(join(p.blobs, blob));
      records[blob] = { algo, size: st.size, mtimeMs: st.mtimeMs, at: new Date().toISOString(), by };
    } catch {
      delete records[blob];
    }
  }
  await fs.mkdir(p.r1ts, { recursive: true });
  const tmp = `${recordFile(p)}.${process.pid}.tmp`;
  await fs.writeFile(tmp, `${JSON.stringify(records, null, 1)}\n`);
  await fs.rename(tmp, recordFile(p));
}

/** True when every one of these snapshot files links to a blob r1ts hashed and that has not changed since. */
export async function allRecorded(p: RepoPaths, snapshotFiles: string[], records: BlobRecords): Promise<boolean> {
  if (snapshotFiles.length === 0) return false;
  for (const f of snapshotFiles) {
    const blob = await blobNameOf(f);
    const rec = blob ? records[blob] : undefined;
    if (!rec) return false;
    try {
      const st = await fs.stat(join(p.blobs, blob!));
      if (st.size !== rec.size || st.mtimeMs !== rec.mtimeMs) return false;
    } catch {
      return false;
    }
  }
  return true;
}

export interface VerifyReport {
  /** Files checked, relative to the snapshot folder. */
  checked: string[];
  bytes: number;
  /** The first file that failed, and why. Verification stops there. */
  bad?: { file: string; problem: string };
  /** Files whose expected hash is unknown (plain copies instead of links to hash-named blobs). */
  unchecked: string[];
}

/**
 * Re-hash the given files of a snapshot folder (relative paths) against their blob names, stopping at the first
 * bad one. Updates the records either way: good blobs are recorded, a bad one is forgotten.
 */
export async function verifyFiles(
  p: RepoPaths,
  snapshotDir: string,
  files: string[],
  onFile?: (file: string, size: number) => void,
): Promise<VerifyReport> {
  const report: VerifyReport = { checked: [], bytes: 0, unchecked: [] };
  const good: string[] = [];
  try {
    for (const file of files) {
      const link = join(snapshotDir, ...file.split("/"));
      const blob = await blobNameOf(link);
      const algo = blob ? algoOfBlobName(blob) : undefined;
      if (!blob || !algo) {
        report.unchecked.push(file);
        continue;
      }
      let size: number;
      try {
        size = (await fs.stat(join(p.blobs, blob))).size;
      } catch {
        report.bad = { file, problem: `its blob ${blob} is missing (the link dangles)` };
        return report;
      }
      onFile?.(file, size);
      const got = await hashFile(join(p.blobs, blob), algo, size);
      report.checked.push(file);
      report.bytes += size;
      if (got !== blob) {
        report.bad = {
          file,
          problem: `${algo === "sha256" ? "sha256" : "git blob sha1"} is ${got}, expected ${blob} (${size} bytes)`,
        };
        await updateRecords(p, [], "verify", [blob]);
        return report;
      }
      good.push(blob);
    }
    return report;
  } finally {
    await updateRecords(p, good, "verify");
  }
}
