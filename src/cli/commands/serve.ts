// r1 serve: the OpenAI- and DeepSeek-compatible HTTP server (src/server), over a local model, remote
// backends (gateway), or both. Runs until SIGTERM / SIGINT, then stops taking requests, finishes the ones
// in flight, and exits; a second signal exits at once.

import { usageError } from "../../core/errors.js";
import { loadEngine } from "../../generate/engine.js";
import { loadPrices } from "../../metering/prices.js";
import { DEFAULTS, startServer } from "../../server/server.js";
import { KERNEL_FLAGS, KERNEL_USAGE, kernelsFrom, num, parse } from "../args.js";
import type { Command } from "../command.js";
import { resolveModelArg } from "../model_arg.js";

const usage = `r1 serve --model PATH [flags]
r1 serve --backend URL [--backend URL ...] [flags]      (gateway; may be combined with --model)

  --model PATH             checkpoint folder, .gguf file, or hub reference to serve locally
  --served-model-name N    the name clients put in "model" (default: the model folder's name)
  --host H                 interface to bind (default ${DEFAULTS.host}: this machine only)
  --port N                 port (default: $R1_PORT, else ${DEFAULTS.port}; 0 picks a free one)
  --api-key KEY            accept this Bearer key (repeatable; also $R1_API_KEYS, comma-separated)
  --backend URL            remote OpenAI-compatible engine (repeatable): routes by model name,
                           health-checked, round-robin, retried on another before the first byte
  --backend-key KEY        Bearer key sent to the backends
  --ctx-size N             context per sequence (default: min(max_position_embeddings, 4096))
  --max-batch N            sequences decoded together (default ${DEFAULTS.maxBatch})
  --max-queue N            requests waiting before 429 (default ${DEFAULTS.maxQueue})
  --max-tokens-cap N       largest max_tokens accepted (default ${DEFAULTS.maxTokensCap})
  --default-max-tokens N   max_tokens when a chat request names none (default ${DEFAULTS.defaultMaxTokens})
  --max-body-kb N          request body cap (default ${DEFAULTS.maxBodyBytes >> 10})
  --prefix-cache-mb N      memory for reusable KV caches (default ${DEFAULTS.prefixCacheBytes >> 20}; 0 disables)
  --prices FILE            price tables (JSON; default: DeepSeek-R1 and OpenAI o1 launch prices)
  --watts-per-core W       energy estimate without RAPL (default 10; see docs/metering.md)
  --litres-per-kwh L       water estimate (default 3.1; see docs/metering.md)
  --no-pull                never download a hub reference
${KERNEL_USAGE}`;

export const command: Command = {
  name: "serve",
  summary: "serve the OpenAI/DeepSeek-compatible API, a chat page at /, and a gateway to remote engines",
  usage,
  async run(argv) {
    const { values: v } = parse(
      argv,
      {
        model: { type: "string" },
        "served-model-name": { type: "string" },
        host: { type: "string" },
        port: { type: "string" },
        "api-key": { type: "string", multiple: true },
        backend: { type: "string", multiple: true },
        "backend-key": { type: "string" },
        "ctx-size": { type: "string" },
        "max-batch": { type: "string" },
        "max-queue": { type: "string" },
        "max-tokens-cap": { type: "string" },
        "default-max-tokens": { type: "string" },
        "max-body-kb": { type: "string" },
        "prefix-cache-mb": { type: "string" },
        prices: { type: "string" },
        "watts-per-core": { type: "string" },
        "litres-per-kwh": { type: "string" },
        "no-pull": { type: "boolean" },
        ...KERNEL_FLAGS,
      },
      usage,
    );
    const s = (k: string) => v[k as keyof typeof v] as string | undefined;
    const int = (k: string, min = 1) => num(s(k), k, { int: true, min });
    const backends = (v.backend as string[] | undefined) ?? [];
    if (!s("model") && !backends.length)
      throw usageError("give --model PATH, --backend URL, or both", `usage:\n${usage}`);
    const port = num(s("port") ?? process.env.R1_PORT, "port", { int: true, min: 0 }) ?? DEFAULTS.port;
    if (port > 65535) throw usageError(`--port must be at most 65535, got ${port}`);
    const keys = [
      ...((v["api-key"] as string[] | undefined) ?? []),
      ...(process.env.R1_API_KEYS ?? "")
        .split(",")
        .map((k) => k.trim())
        .filter(Boolean),
    ];
    const host = s("host") ?? DEFAULTS.host;

    let engine: ReturnType<typeof loadEngine> | undefined;
    if (s("model")) {
      const path = await resolveModelArg(s("model") as string, { pull: !v["no-pull"] });
      engine = loadEngine(path, { kernels: kernelsFrom(v) });
      process.stderr.write(`loaded ${engine.name} in ${(engine.loadMs / 1000).toFixed(2)} s\n`);
      for (const n of engine.ckpt.notes) process.stderr.write(`note: ${n}\n`);
    }
    const server = await startServer({
      engine,
      modelName: s("served-model-name"),
      backends,
      backendKey: s("backend-key"),
      host,
      port,
      apiKeys: keys,
      ctx: int("ctx-size"),
      maxBatch: int("max-batch"),
      maxQueue: int("max-queue", 0),
      maxTokensCap: int("max-tokens-cap"),
      defaultMaxTokens: int("default-max-tokens"),
      maxBodyBytes: s("max-body-kb") ? (int("max-body-kb") as number) * 1024 : undefined,
      prefixCacheBytes: s("prefix-cache-mb") !== undefined ? (int("prefix-cache-mb", 0) as number) << 20 : undefined,
      prices: s("prices") ? loadPrices(s("prices") as string) : undefined,
      wattsPerCore: num(s("watts-per-core"), "watts-per-core", { min: 0 }),
      litresPerKWh: num(s("litres-per-kwh"), "litres-per-kwh", { min: 0 }),
    }).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "EADDRINUSE")
        throw usageError(`port ${port} is already in use`, "pick another with --port or R1_PORT");
      if (e.code === "EACCES")
        throw usageError(`cannot bind ${host}:${port}: permission denied`, "use a port above 1023");
      throw e;
    });
    const st = server.state;
    const models = [st.local?.name, ...(st.gateway?.models() ?? [])].filter(Boolean).join(", ");
    process.stderr.write(`r1 serve: ${server.url}  (chat page at /, API at /v1)  models: ${models || "(none yet)"}\n`);
    if (!keys.length && !/^(127\.|::1$|localhost$)/.test(host))
      process.stderr.write(
        `warning: bound to ${host} with no API key: anyone who can reach it can use it (--api-key)\n`,
      );
    for (const b of st.gateway?.status() ?? [])
      if (!b.healthy) process.stderr.write(`warning: backend ${b.url} is down: ${b.last_error}\n`);

    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (sig: string) => {
        if (stopping) {
          process.stderr.write(`${sig} again: exiting now\n`);
          process.exit(1);
        }
        stopping = true;
        const n = (st.local?.scheduler.active ?? 0) + (st.local?.scheduler.queued ?? 0);
        process.stderr.write(`${sig}: no new requests; finishing ${n} in flight (again to exit now)\n`);
        server.close().then(resolve, resolve);
      };
      process.on("SIGTERM", () => stop("SIGTERM"));
      process.on("SIGINT", () => stop("SIGINT"));
    });
    process.stderr.write("r1 serve: stopped\n");
    return 0;
  },
};
