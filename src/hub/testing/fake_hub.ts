// A fake Hugging Face Hub for tests: a node:http server on 127.0.0.1 (random port) that answers the requests
// r1ts makes with the shapes the real Hub uses (checked against huggingface_hub's hf_api.py / file_download.py
// and huggingface.js): the model API (`/api/models/{repo}/revision/{rev}?blobs=true`, and the tree API),
// `resolve/{rev}/{file}` with X-Repo-Commit, ETag (git sha1) or a 302 to a CDN URL carrying X-Linked-Etag
// (sha256) and X-Linked-Size for LFS files, Range requests (206/416), and the X-Error-Code answers (GatedRepo
// 401/403, RepoNotFound 401, RevisionNotFound/EntryNotFound 404).
// It counts connections and logs every request, and can drop a connection mid-file or corrupt a byte.
// Test-only: nothing in the runtime imports it.

import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeRepoFile {
  content: Buffer;
  lfs: boolean;
  sha256: string;
  gitSha1: string;
}

export interface FakeRepo {
  id: string;
  commit: string;
  files: Map<string, FakeRepoFile>;
  /** Tokens that may read this gated repo; undefined for a public repo. */
  gatedTokens?: string[];
}

export interface LoggedRequest {
  method: string;
  path: string;
  range?: string;
  authorization?: string;
  status: number;
  /** Body bytes actually written to the socket. */
  bytesSent: number;
}

export interface FakeHub {
  url: string;
  requests: LoggedRequest[];
  /** TCP connections accepted since start (or since resetCounters). */
  connections: number;
  /** Most file bodies in flight at once since resetCounters (see latencyMs). */
  maxInFlight: number;
  /** Hold every file body this long before sending it, so concurrent downloads overlap measurably. */
  latencyMs: number;
  addRepo(id: string, files: Record<string, Buffer>, opts?: { gatedTokens?: string[] }): FakeRepo;
  /**
   * Drop the connection after `afterBytes` body bytes of the next `times` downloads of this file. A client's
   * fetch discards body chunks it has not read yet when the connection errors, so a test that needs exact byte
   * counts passes `beforeDrop`, which resolves once the client has written what it got (e.g. polls the partial).
   */
  cutAfter(
    repo: string,
    file: string,
    afterBytes: number,
    opts?: { times?: number; beforeDrop?: () => Promise<void> },
  ): void;
  /** Serve this file with the byte at `offset` flipped (the API still publishes the true hash). */
  corrupt(repo: string, file: string, offset: number): void;
  resetCounters(): void;
  close(): Promise<void>;
}

// What the Hub stores in LFS: weights and anything big (the .gitattributes every new repo gets).
const LFS_RE = /\.(safetensors|gguf|bin|pt|pth|ckpt|pkl|h5|onnx|msgpack)$/;

export function gitBlobSha1(content: Buffer): string {
  return createHash("sha1").update(`blob ${content.length}\0`).update(content).digest("hex");
}

function lfsPointer(f: FakeRepoFile): Buffer {
  return Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${f.sha256}\nsize ${f.content.length}\n`);
}

export async function startFakeHub(): Promise<FakeHub> {
  const repos = new Map<string, FakeRepo>();
  const cuts = new Map<string, { afterBytes: number; times: number; beforeDrop?: () => Promise<void> }>();
  const corrupt = new Map<string, number>();
  const requests: LoggedRequest[] = [];
  let connections = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let latencyMs = 0;

  const server: Server = createServer((req, res) => handle(req, res));
  server.on("connection", () => {
    connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function log(req: IncomingMessage, status: number, bytesSent: number) {
    requests.push({
      method: req.method ?? "GET",
      path: req.url ?? "",
      range: req.headers.range,
      authorization: req.headers.authorization,
      status,
      bytesSent,
    });
  }

  function fail(req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string) {
    res.writeHead(status, { "content-type": "application/json", "x-error-code": code, "x-error-message": message });
    res.end(req.method === "HEAD" ? undefined : JSON.stringify({ error: message }));
    log(req, status, 0);
  }

  function json(req: IncomingMessage, res: ServerResponse, body: unknown) {
    const s = Buffer.from(JSON.stringify(body));
    res.writeHead(200, { "content-type": "application/json", "content-length": s.length });
    res.end(s);
    log(req, 200, s.length);
  }

  function findRepo(req: IncomingMessage, res: ServerResponse, id: string, rev: string): FakeRepo | undefined {
    const repo = repos.get(id);
    if (!repo) {
      // The Hub answers 401 (not 404) for unknown repos to anonymous callers, so as not to reveal private ones.
      fail(req, res, 401, "RepoNotFound", "Repository not found");
      return undefined;
    }
    if (rev !== "main" && rev !== repo.commit) {
      fail(req, res, 404, "RevisionNotFound", `Invalid rev id: ${rev}`);
      return undefined;
    }
    return repo;
  }

  /** Serve bytes with Range support and the configured faults. */
  function sendBytes(req: IncomingMessage, res: ServerResponse, key: string, f: FakeRepoFile, extra: object) {
    let content = f.content;
    const flip = corrupt.get(key);
    if (flip !== undefined) {
      content = Buffer.from(content);
      content[flip] = content[flip]! ^ 0xff;
    }
    const size = content.length;
    let start = 0;
    let end = size - 1;
    let status = 200;
    const headers: Record<string, string | number> = { "accept-ranges": "bytes", ...extra };
    const range = req.headers.range;
    if (range) {
      const m = /^bytes=(\d+)-(\d*)$/.exec(range);
      if (!m || Number(m[1]) >= size) {
        res.writeHead(416, { "content-range": `bytes */${size}` });
        res.end();
        log(req, 416, 0);
        return;
      }
      start = Number(m[1]);
      end = m[2] ? Math.min(size - 1, Number(m[2])) : size - 1;
      status = 206;
      headers["content-range"] = `bytes ${start}-${end}/${size}`;
    }
    const body = content.subarray(start, end + 1);
    headers["content-length"] = body.length;
    headers["content-type"] = "application/octet-stream";
    res.writeHead(status, headers);
    if (req.method === "HEAD") {
      res.end();
      log(req, status, 0);
      return;
    }
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on("close", () => inFlight--);
    if (latencyMs > 0) setTimeout(() => sendBody(req, res, key, status, body), latencyMs);
    else sendBody(req, res, key, status, body);
  }

  function sendBody(req: IncomingMessage, res: ServerResponse, key: string, status: number, body: Buffer) {
    const cut = cuts.get(key);
    if (cut && cut.times > 0 && cut.afterBytes < body.length) {
      cut.times--;
      const part = body.subarray(0, cut.afterBytes);
      // Flush exactly `afterBytes` bytes, then kill the socket: the client sees a truncated body.
      const drop = () => res.socket?.destroy();
      const before = cut.beforeDrop;
      res.write(part, () => {
        if (before) before().then(drop, drop);
        else setTimeout(drop, 10);
      });
      log(req, status, part.length);
      return;
    }
    res.end(body);
    log(req, status, body.length);
  }

  function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", base);
    const path = decodeURIComponent(url.pathname);
    let m: RegExpExecArray | null;

    // Model API: /api/models/{org}/{repo}[/revision/{rev}]
    m = /^\/api\/models\/([^/]+\/[^/]+)(?:\/revision\/(.+))?$/.exec(path);
    if (m && req.method === "GET") {
      const repo = findRepo(req, res, m[1]!, m[2] ?? "main");
      if (!repo) return;
      const blobs = url.searchParams.get("blobs") === "true";
      const siblings = [...repo.files].map(([name, f]) => {
        if (!blobs) return { rfilename: name };
        const pointer = lfsPointer(f);
        return {
          rfilename: name,
          size: f.content.length,
          blobId: f.lfs ? gitBlobSha1(pointer) : f.gitSha1,
          ...(f.lfs ? { lfs: { size: f.content.length, sha256: f.sha256, pointerSize: pointer.length } } : {}),
        };
      });
      return json(req, res, {
        _id: repo.commit.slice(0, 24),
        id: repo.id,
        modelId: repo.id,
        author: repo.id.split("/")[0],
        sha: repo.commit,
        private: false,
        gated: repo.gatedTokens ? "manual" : false,
        disabled: false,
        tags: [],
        lastModified: "2025-01-20T00:00:00.000Z",
        siblings,
      });
    }

    // Tree API: /api/models/{org}/{repo}/tree/{rev}[/{path}]?recursive=true (files only; no subfolders here)
    m = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)(?:\/(.*))?$/.exec(path);
    if (m && req.method === "GET") {
      const repo = findRepo(req, res, m[1]!, m[2]!);
      if (!repo) return;
      return json(
        req,
        res,
        [...repo.files].map(([name, f]) => ({
          type: "file",
          oid: f.lfs ? gitBlobSha1(lfsPointer(f)) : f.gitSha1,
          size: f.content.length,
          path: name,
          ...(f.lfs ? { lfs: { oid: f.sha256, size: f.content.length, pointerSize: lfsPointer(f).length } } : {}),
        })),
      );
    }

    // CDN: where resolve redirects LFS files (a signed URL on the real Hub; no auth needed).
    m = /^\/cdn\/([0-9a-f]{64})$/.exec(path);
    if (m && (req.method === "GET" || req.method === "HEAD")) {
      const key = url.searchParams.get("key") ?? "";
      const [id, file] = [key.slice(0, key.indexOf("::")), key.slice(key.indexOf("::") + 2)];
      const f = repos.get(id)?.files.get(file);
      if (!f || f.sha256 !== m[1]) return fail(req, res, 404, "EntryNotFound", "no such object");
      return sendBytes(req, res, key, f, { etag: `"${createHash("md5").update(f.content).digest("hex")}"` });
    }

    // Files: /{org}/{repo}/resolve/{rev}/{path}
    m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (m && (req.method === "GET" || req.method === "HEAD")) {
      const repo = findRepo(req, res, m[1]!, m[2]!);
      if (!repo) return;
      if (repo.gatedTokens) {
        const auth = req.headers.authorization;
        const token = auth?.startsWith("Bearer ") ? auth.slice(7) : undefined;
        const msg = `Access to model ${repo.id} is restricted. You must have access to it and be authenticated to access it. Please log in.`;
        if (!token) return fail(req, res, 401, "GatedRepo", msg);
        if (!repo.gatedTokens.includes(token)) return fail(req, res, 403, "GatedRepo", msg);
      }
      const file = m[3]!;
      const f = repo.files.get(file);
      if (!f) return fail(req, res, 404, "EntryNotFound", `${file} does not exist on "${m[2]}"`);
      const key = `${repo.id}::${file}`;
      if (f.lfs) {
        const headers = {
          location: `${base}/cdn/${f.sha256}?key=${encodeURIComponent(key)}`,
          "x-repo-commit": repo.commit,
          "x-linked-etag": `"${f.sha256}"`,
          "x-linked-size": String(f.content.length),
          etag: `"${gitBlobSha1(lfsPointer(f))}"`,
        };
        res.writeHead(302, headers);
        res.end();
        log(req, 302, 0);
        return;
      }
      return sendBytes(req, res, key, f, { "x-repo-commit": repo.commit, etag: `"${f.gitSha1}"` });
    }
    fail(req, res, 404, "", "not found");
  }

  return {
    url: base,
    requests,
    get connections() {
      return connections;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    get latencyMs() {
      return latencyMs;
    },
    set latencyMs(ms: number) {
      latencyMs = ms;
    },
    addRepo(id, files, opts = {}) {
      const map = new Map<string, FakeRepoFile>();
      const commitHash = createHash("sha1").update(id);
      for (const [name, content] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
        const f = {
          content,
          lfs: LFS_RE.test(name),
          sha256: createHash("sha256").update(content).digest("hex"),
          gitSha1: gitBlobSha1(content),
        };
        map.set(name, f);
        commitHash.update(name).update(f.sha256);
      }
      const repo: FakeRepo = { id, commit: commitHash.digest("hex"), files: map, gatedTokens: opts.gatedTokens };
      repos.set(id, repo);
      return repo;
    },
    cutAfter(repo, file, afterBytes, opts = {}) {
      cuts.set(`${repo}::${file}`, { afterBytes, times: opts.times ?? 1, beforeDrop: opts.beforeDrop });
    },
    corrupt(repo, file, offset) {
      corrupt.set(`${repo}::${file}`, offset);
    },
    resetCounters() {
      connections = 0;
      maxInFlight = 0;
      requests.length = 0;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
