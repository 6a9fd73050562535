// Server-sent events for streamed completions: `data: {json}\n\n` frames, `data: [DONE]` at the end, and
// `: keep-alive` comments while a request waits, as DeepSeek's API does. The producer never blocks on the
// client: frames queue in the stream. A client that stops reading (its queue passes highWaterBytes and it
// has not pulled for stallMs) or goes away fires `signal`, which cancels the generation.

export interface SseOptions {
  stallMs: number;
  keepAliveMs: number;
  highWaterBytes?: number;
}

export interface SseSink {
  /** Sends one JSON frame; false once the stream is closed. */
  send(obj: unknown): boolean;
  /** Sends `data: [DONE]` and closes. */
  done(): void;
  /** Closes without [DONE] (after an error frame, or when cancelled). */
  close(): void;
  /** Fires when the client disconnects or stalls. */
  readonly signal: AbortSignal;
}

const enc = new TextEncoder();

export function sseStream(opts: SseOptions): { response: Response; sink: SseSink } {
  const abort = new AbortController();
  let ctrl!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  let lastPull = Date.now();
  let lastWrite = Date.now();
  const high = opts.highWaterBytes ?? 256 * 1024;
  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        ctrl = c;
      },
      pull() {
        lastPull = Date.now();
      },
      cancel() {
        finish();
        abort.abort(new Error("client disconnected"));
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: high }),
  );
  const timer = setInterval(
    () => {
      if (closed) return;
      const now = Date.now();
      if ((ctrl.desiredSize ?? 0) <= 0 && now - lastPull > opts.stallMs) {
        abort.abort(new Error("client stopped reading"));
        finish(true);
        return;
      }
      if (now - lastWrite >= opts.keepAliveMs) write(": keep-alive\n\n");
    },
    Math.min(1000, opts.keepAliveMs, opts.stallMs),
  );
  timer.unref();
  const write = (s: string): boolean => {
    if (closed) return false;
    lastWrite = Date.now();
    try {
      ctrl.enqueue(enc.encode(s));
      return true;
    } catch {
      finish();
      return false;
    }
  };
  function finish(error = false): void {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    try {
      if (error) ctrl.error(new Error("stalled"));
      else ctrl.close();
    } catch {}
  }
  const sink: SseSink = {
    send: (obj) => write(`data: ${JSON.stringify(obj)}\n\n`),
    done() {
      write("data: [DONE]\n\n");
      finish();
    },
    close: () => finish(),
    signal: abort.signal,
  };
  const response = new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    },
  });
  return { response, sink };
}
