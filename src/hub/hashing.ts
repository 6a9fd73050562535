// The two digests the Hub publishes, computed as streams so a 100 GB shard never sits in memory:
//   sha256(content)                          LFS files (weights): the API's lfs.sha256 / tree lfs.oid and the etag
//   sha1("blob " + size + "\0" + content)   files stored in git (JSON, tokenizer): the git blob id and the etag
// A cache blob is named by one of them, so the name alone says how to re-check it.

import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";

export type HashAlgo = "sha256" | "git-sha1";

/** Which digest a blob name is (64 hex: sha256, 40 hex: git sha1), or undefined if it is neither. */
export function algoOfBlobName(name: string): HashAlgo | undefined {
  if (/^[0-9a-f]{64}$/.test(name)) return "sha256";
  if (/^[0-9a-f]{40}$/.test(name)) return "git-sha1";
  return undefined;
}

/** A running digest. git-sha1 needs the total size up front for its header. */
export function newHasher(algo: HashAlgo, totalSize: number): Hash {
  if (algo === "sha256") return createHash("sha256");
  const h = createHash("sha1");
  h.update(`blob ${totalSize}\0`);
  return h;
}

/** Feed a file's bytes (or its first `limit` bytes) into a running hasher; resolves to the bytes read. */
export function hashInto(h: Hash, path: string, limit?: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    const opts = limit === undefined ? {} : { end: limit - 1 };
    if (limit === 0) return resolve(0);
    createReadStream(path, { ...opts, highWaterMark: 1 << 20 })
      .on("data", (chunk) => {
        h.update(chunk as Buffer);
        n += (chunk as Buffer).length;
      })
      .on("error", reject)
      .on("end", () => resolve(n));
  });
}

export async function hashFile(path: string, algo: HashAlgo, size: number): Promise<string> {
  const h = newHasher(algo, size);
  await hashInto(h, path);
  return h.digest("hex");
}
