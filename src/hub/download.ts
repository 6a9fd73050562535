// One file from the Hub into blobs/<etag>: stream into blobs/<etag>.incomplete (huggingface_hub's name, so either
// tool resumes the other's partial download), resume an existing partial with `Range: bytes=<have>-`, hash every
// byte (the partial's bytes are re-read from disk, so a resumed file is hashed whole), refuse and delete on a
// hash mismatch, and only then rename into place: a blob under its final name is always complete and verified.

import { promises as fs } from "node:fs";
import { join } from "node:path";
import { R1Error } from "../core/errors.js";
import type { HubSettings } from "./env.js";
import { algoOfBlobName, hashInto, newHasher } from "./hashing.js";
import { hubFetch, hubHttpError, type RepoFile, resolveUrl, TransientHubError } from "./http.js";
import type { PullEvent } from "./progress.js";
import { INCOMPLETE } from "./store.js";

export interface DownloadContext {
  settings: HubSettings;
  repo: string;
  commit: string;
  blobsDir: string;
  signal?: AbortSignal;
  onEvent: (e: PullEvent) => void;
  /** Extra attempts after a dropped connection or a 5xx, each resuming where the last stopped. */
  retries: number;
  retryDelayMs: number;
}

export interface DownloadResult {
  /** Bytes that came over the network for this file (all attempts). */
  received: number;
  /** Bytes already on disk from an earlier, interrupted download when we started. */
  resumedFrom: number;
}

async function sizeOrZero(p: string): Promise<number> {
  try {
    return (await fs.stat(p)).size;
  } catch {
    return 0;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function downloadBlob(file: RepoFile, ctx: DownloadContext): Promise<DownloadResult> {
  const finalPath = join(ctx.blobsDir, file.blob);
  const partPath = finalPath + INCOMPLETE;
  const resumedFrom = await sizeOrZero(partPath);
  let received = 0;
  ctx.onEvent({ type: "file-start", path: file.path, size: file.size, resumeFrom: Math.min(resumedFrom, file.size) });
  for (let attempt = 0; ; attempt++) {
    try {
      received += await attemptOnce(file, ctx, partPath, finalPath);
      ctx.onEvent({ type: "file-done", path: file.path, received });
      return { received, resumedFrom };
    } catch (e) {
      if (!(e instanceof TransientHubError) || attempt >= ctx.retries || ctx.signal?.aborted) throw e;
      received += (e as TransientHubError & { received?: number }).received ?? 0;
      ctx.onEvent({ type: "retry", path: file.path, attempt: attempt + 1, reason: e.message });
      await sleep(ctx.retryDelayMs * (attempt + 1));
    }
  }
}

/** One HTTP exchange; resolves to the bytes received. Throws TransientHubError (with .received) to retry. */
async function attemptOnce(file: RepoFile, ctx: DownloadContext, partPath: string, finalPath: string) {
  const algo = algoOfBlobName(file.blob);
  if (!algo) throw new Error(`internal: blob name ${file.blob} is not a hash`);
  let start = await sizeOrZero(partPath);
  if (start > file.size) {
    await fs.rm(partPath, { force: true }); // longer than the file can be: not ours to trust
    start = 0;
  }
  const where = `${ctx.repo}/${file.path}`;
  // The digest runs over the bytes already on disk, then over the new bytes as they arrive: one pass, no re-read.
  let hasher = newHasher(algo, file.size);
  let total = await hashInto(hasher, partPath, start);
  let received = 0;
  if (start < file.size) {
    const headers: Record<string, string> = start > 0 ? { range: `bytes=${start}-` } : {};
    const what = `${where} (${file.size} bytes${start > 0 ? `, resuming at ${start}` : ""})`;
    const res = await hubFetch(ctx.settings, resolveUrl(ctx.settings, ctx.repo, ctx.commit, file.path), {
      what,
      headers,
      signal: ctx.signal,
    });
    if (res.status === 416) {
      // The server cannot serve from our offset: the partial is not a prefix of this file. Start over.
      await res.body?.cancel();
      await fs.rm(partPath, { force: true });
      throw Object.assign(new TransientHubError(`${where}: partial download rejected by the server`), { received: 0 });
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw hubHttpError(res, ctx.settings, ctx.repo, where);
    }
    if (start > 0 && res.status === 200) {
      // Range ignored (some mirrors): the body is the whole file, so the partial and its digest are dropped.
      start = 0;
      total = 0;
      hasher = newHasher(algo, file.size);
    } else if (res.status === 206) {
      const cr = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get("content-range") ?? "");
      if (!cr || Number(cr[1]) !== start) {
        await res.body?.cancel();
        await fs.rm(partPath, { force: true });
        throw Object.assign(new TransientHubError(`${where}: server answered a different range; restarting`), {
          received: 0,
        });
      }
    }
    const expectLen = file.size - start;
    const cl = res.headers.get("content-length");
    if (cl !== null && Number(cl) !== expectLen) {
      await res.body?.cancel();
      throw new R1Error(
        "format",
        `${where}: the server sends ${cl} bytes where the model API promised ${expectLen}`,
        "the repo changed during the download or the mirror (HF_ENDPOINT) is inconsistent; run the command again",
      );
    }
    received = await appendBody(res, partPath, start, file, ctx, (chunk) => hasher.update(chunk));
    total = start + received;
  }
  if (total < file.size) {
    throw Object.assign(new TransientHubError(`${where}: connection closed after ${total} of ${file.size} bytes`), {
      received,
    });
  }
  const got = hasher.digest("hex");
  if (total !== file.size || got !== file.blob) {
    await fs.rm(partPath, { force: true });
    const label = algo === "sha256" ? "sha256" : "git blob sha1";
    throw new R1Error(
      "format",
      `${where}: ${label} mismatch: the Hub publishes ${file.blob}, the downloaded bytes hash to ${got}` +
        ` (${total} bytes); the file was refused and deleted`,
      "run the command again; if it repeats, the mirror (HF_ENDPOINT) or a proxy is altering the file",
    );
  }
  await fs.rename(partPath, finalPath);
  return received;
}

/** Stream the response body onto the end of the partial file. A dropped connection becomes a retryable error. */
async function appendBody(
  res: Response,
  partPath: string,
  start: number,
  file: RepoFile,
  ctx: DownloadContext,
  onChunk: (chunk: Uint8Array) => void,
) {
  const fh = await fs.open(partPath, start > 0 ? "a" : "w");
  let n = 0;
  try {
    if (res.body) {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        await fh.write(chunk);
        onChunk(chunk);
        n += chunk.length;
        ctx.onEvent({ type: "bytes", path: file.path, delta: chunk.length });
      }
    }
    await fh.datasync();
  } catch (e) {
    if (ctx.signal?.aborted) throw ctx.signal.reason ?? e;
    throw Object.assign(
      new TransientHubError(
        `download of ${ctx.repo}/${file.path} interrupted after ${start + n} of ${file.size} bytes ` +
          `(${(e as Error).message})`,
        "run the same command again: it resumes from the partial file",
      ),
      { received: n },
    );
  } finally {
    await fh.close();
  }
  return n;
}
