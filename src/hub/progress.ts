// What a pull tells its caller, as events (the library never prints by itself unless asked), and the one
// renderer the CLI uses: a single redrawn bar on a TTY, plain lines elsewhere (logs, CI, pipes).

export type PullEvent =
  /** Before any byte is written: what will be fetched and how much of it is already here. */
  | {
      type: "plan";
      repo: string;
      revision: string;
      commit: string;
      files: { path: string; size: number; cached: boolean }[];
      totalBytes: number; // all selected files
      downloadBytes: number; // what still has to come over the network (partials subtracted)
    }
  | { type: "file-start"; path: string; size: number; resumeFrom: number }
  | { type: "bytes"; path: string; delta: number }
  | { type: "retry"; path: string; attempt: number; reason: string }
  | { type: "file-done"; path: string; received: number }
  /** The model was found in the cache (resolveModel) or the pull finished; `path` is what the caller loads. */
  | { type: "cached"; ref: string; path: string }
  | { type: "done"; ref: string; path: string; receivedBytes: number; seconds: number };

export function formatBytes(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[i]}`;
}

interface Sink {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * An onEvent for pull/resolveModel that draws on `out` (stderr by default). On a TTY: one line redrawn at most
 * ten times a second, `pulling org/repo [#####-----] 41% 1.2 GB/2.9 GB 48 MB/s`. Elsewhere: a line per file
 * start and end and per 10% of the total, so logs stay short.
 */
export function progressReporter(out: Sink = process.stderr): (e: PullEvent) => void {
  const tty = !!out.isTTY;
  let repo = "";
  let total = 0;
  let done = 0;
  let started = 0;
  let lastDraw = 0;
  let lastDecile = -1;
  const draw = (force: boolean) => {
    const now = Date.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const rate = done / Math.max(0.001, (now - started) / 1000);
    const width = 24;
    const filled = Math.round(frac * width);
    const line =
      `pulling ${repo} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ` +
      `${formatBytes(done)}/${formatBytes(total)} ${formatBytes(rate)}/s`;
    const cols = out.columns ?? 120;
    out.write(`\r${line.slice(0, cols - 1)}\x1b[K`);
  };
  return (e) => {
    switch (e.type) {
      case "plan": {
        repo = e.repo;
        total = e.downloadBytes;
        started = Date.now();
        const cached = e.files.filter((f) => f.cached).length;
        out.write(
          `${e.repo}@${e.commit.slice(0, 10)}: ${e.files.length} files, ${formatBytes(e.totalBytes)}` +
            (cached > 0 ? ` (${cached} already cached)` : "") +
            (e.downloadBytes > 0 ? `; downloading ${formatBytes(e.downloadBytes)}\n` : "; nothing to download\n"),
        );
        break;
      }
      case "file-start":
        if (!tty) {
          const resume = e.resumeFrom > 0 ? ` (resuming at ${formatBytes(e.resumeFrom)})` : "";
          out.write(`  get ${e.path} ${formatBytes(e.size)}${resume}\n`);
        }
        break;
      case "bytes":
        done += e.delta;
        if (tty) draw(false);
        else {
          const decile = total > 0 ? Math.floor((done / total) * 10) : 10;
          if (decile > lastDecile && decile < 10) {
            lastDecile = decile;
            if (decile > 0) out.write(`  ${decile * 10}% of ${formatBytes(total)}\n`);
          }
        }
        break;
      case "retry":
        out.write(`${tty ? "\n" : ""}  retry ${e.attempt} for ${e.path}: ${e.reason}\n`);
        break;
      case "file-done":
        if (!tty) out.write(`  ok  ${e.path}\n`);
        break;
      case "done":
        if (tty) {
          draw(true);
          out.write("\n");
        }
        out.write(`${e.ref}: ${formatBytes(e.receivedBytes)} in ${e.seconds.toFixed(1)} s -> ${e.path}\n`);
        break;
      case "cached":
        break;
    }
  };
}

/** An onEvent that drops everything (library callers that want silence). */
export const quiet = (_e: PullEvent): void => {};
