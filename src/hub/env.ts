// Where the Hub and the cache are, and whether we may talk to the Hub at all. The environment variables and
// their precedence are those of Python's huggingface_hub (constants.py), so one shell setup serves both tools.
// Everything is read at call time, never at import, so a test (or a long-lived server) sees the current values,
// and every field can be overridden by an explicit option.

import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const DEFAULT_ENDPOINT = "https://huggingface.co";
export const DEFAULT_REVISION = "main";

/** Options shared by every hub function; each one falls back to the environment when omitted. */
export interface HubOptions {
  /** The hub cache root (the folder holding models--org--repo). Else HF_HUB_CACHE, HF_HOME/hub, ~/.cache/... */
  cacheDir?: string;
  /** Hub base URL. Else HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** Bearer token. Else HF_TOKEN, the legacy HUGGING_FACE_HUB_TOKEN, else the file `hf auth login` writes. */
  token?: string;
  /** Never touch the network. Else HF_HUB_OFFLINE (1/true/yes/on). */
  offline?: boolean;
}

export interface HubSettings {
  cacheDir: string;
  endpoint: string;
  token: string | undefined;
  offline: boolean;
}

function expandHome(p: string): string {
  return p === "~" || p.startsWith("~/") ? join(homedir(), p.slice(1)) : p;
}

function envValue(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v === "" ? undefined : v;
}

/** huggingface_hub's HF_HOME: $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface. */
export function hfHome(): string {
  const explicit = envValue("HF_HOME");
  if (explicit) return expandHome(explicit);
  const xdg = envValue("XDG_CACHE_HOME");
  return join(xdg ? expandHome(xdg) : join(homedir(), ".cache"), "huggingface");
}

export function isTruthyEnv(v: string | undefined): boolean {
  return v !== undefined && ["1", "true", "yes", "on"].includes(v.trim().toLowerCase());
}

function tokenFromEnvOrFile(): string | undefined {
  const t = envValue("HF_TOKEN") ?? envValue("HUGGING_FACE_HUB_TOKEN");
  if (t) return t.trim();
  // The file written by `huggingface-cli login` / `hf auth login`: one line, the token.
  const file = envValue("HF_TOKEN_PATH") ? expandHome(envValue("HF_TOKEN_PATH")!) : join(hfHome(), "token");
  try {
    const s = readFileSync(file, "utf8").trim();
    return s === "" ? undefined : s;
  } catch {
    return undefined;
  }
}

export function hubSettings(opts: HubOptions = {}): HubSettings {
  const cacheDir =
    opts.cacheDir ??
    (envValue("HF_HUB_CACHE") ? expandHome(envValue("HF_HUB_CACHE")!) : undefined) ??
    (envValue("HUGGINGFACE_HUB_CACHE") ? expandHome(envValue("HUGGINGFACE_HUB_CACHE")!) : undefined) ??
    join(hfHome(), "hub");
  const endpoint = (opts.endpoint ?? envValue("HF_ENDPOINT") ?? DEFAULT_ENDPOINT).replace(/\/+$/, "");
  const offline = opts.offline ?? isTruthyEnv(process.env.HF_HUB_OFFLINE);
  const token = opts.token ?? tokenFromEnvOrFile();
  return { cacheDir, endpoint, token, offline };
}
