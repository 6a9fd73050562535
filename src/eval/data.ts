// Where benchmark files come from, and the parsers that read them. A file (named by its path relative to a
// data root, e.g. "gsm8k/test.jsonl", the layout of ../shared/data) is looked for in:
//   1. --data-dir, when given (and then only there: a user who names a folder means that folder);
//   2. the development checkout's ../shared/data (next to the repo, or next to the working directory);
//   3. the cache: $R1_DATA_DIR, else $XDG_CACHE_HOME/r1ts/data, else ~/.cache/r1ts/data;
// and, missing everywhere, downloaded once into the cache from --data-url / $R1_DATA_URL (a mirror laid out
// like shared/data) or else the pinned upstream copy in data_sources.json, checked against its sha256.
// Downloads are written to a temporary name and renamed, so a killed download never leaves a partial file.
//
// Parse errors name the file and the line (`gsm8k/test.jsonl:17: ...`) as R1Errors with code "format".

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { formatError, R1Error } from "../core/errors.js";
import sources from "./data_sources.json" with { type: "json" };

export interface DataOptions {
  /** --data-dir: the only folder searched when set. */
  dataDir?: string;
  /** --data-url / R1_DATA_URL: a mirror whose layout matches shared/data. */
  url?: string;
  /** Override the cache folder (tests). */
  cacheDir?: string;
  /** Skip the development checkout's shared/data (tests of the download path). */
  noShared?: boolean;
  /** Progress lines ("downloading ..."). */
  onEvent?: (line: string) => void;
}

export function dataCacheDir(opts: DataOptions = {}): string {
  if (opts.cacheDir) return opts.cacheDir;
  if (process.env.R1_DATA_DIR) return resolve(process.env.R1_DATA_DIR);
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg ? resolve(xdg) : join(homedir(), ".cache"), "r1ts", "data");
}

/** The development checkout's shared data folder, if this is one. */
export function sharedDataDir(): string | undefined {
  const repoRoot = fileURLToPath(new URL("../../../", import.meta.url)); // dist/src/eval -> repo root
  for (const d of [join(repoRoot, "..", "shared", "data"), resolve("..", "shared", "data")]) {
    if (existsSync(d)) return d;
  }
  return undefined;
}

const UPSTREAM = sources.files as Record<string, { url: string; sha256: string }>;

/** Path of a local copy of `rel`, downloading it into the cache if no copy exists. */
export async function dataFile(rel: string, opts: DataOptions = {}): Promise<string> {
  if (opts.dataDir) {
    const p = join(opts.dataDir, rel);
    if (!existsSync(p))
      throw new R1Error(
        "not_found",
        `data file ${p} does not exist`,
        `put ${rel} under --data-dir ${opts.dataDir}, or drop --data-dir to download it`,
      );
    return p;
  }
  const shared = opts.noShared ? undefined : sharedDataDir();
  if (shared && existsSync(join(shared, rel))) return join(shared, rel);
  const cached = join(dataCacheDir(opts), rel);
  if (existsSync(cached)) return cached;
  await download(rel, cached, opts);
  return cached;
}

export async function readDataFile(rel: string, opts: DataOptions = {}): Promise<{ path: string; text: string }> {
  const path = await dataFile(rel, opts);
  return { path, text: readFileSync(path, "utf8") };
}

async function download(rel: string, dest: string, opts: DataOptions): Promise<void> {
  const mirror = opts.url ?? process.env.R1_DATA_URL;
  const pinned = UPSTREAM[rel];
  const url = mirror ? `${mirror.replace(/\/+$/, "")}/${rel}` : pinned?.url;
  const hint =
    "pass --data-dir with a copy of the files, or --data-url (R1_DATA_URL) with a mirror laid out like shared/data";
  if (!url) throw new R1Error("not_found", `no local copy of data file ${rel} and no download source for it`, hint);
  opts.onEvent?.(`downloading ${url}`);
  let res: Response;
  try {
    res = await fetch(url, { redirect: "follow" });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    throw new R1Error("input", `cannot download data file ${rel} from ${url}: ${cause}`, hint);
  }
  if (!res.ok) throw new R1Error("not_found", `cannot download data file ${rel}: HTTP ${res.status} from ${url}`, hint);
  const body = Buffer.from(await res.arrayBuffer());
  // The pinned upstream copies have known hashes; a mirror is the user's choice and is taken as it is.
  if (!mirror && pinned) {
    const got = createHash("sha256").update(body).digest("hex");
    if (got !== pinned.sha256)
      throw new R1Error(
        "format",
        `${url}: sha256 ${got} differs from the pinned ${pinned.sha256}`,
        "the upstream file changed; use --data-dir",
      );
  }
  mkdirSync(dirname(dest), { recursive: true });
  const tmp = `${dest}.part-${process.pid}`;
  try {
    writeFileSync(tmp, body);
    renameSync(tmp, dest);
  } finally {
    rmSync(tmp, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Parsers. `file` is the name used in messages.
// ---------------------------------------------------------------------------------------------------------

/** Lines of a text file; a final newline does not make an empty last record. */
function lines(text: string): string[] {
  const ls = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  if (ls.length && ls[ls.length - 1] === "") ls.pop();
  return ls;
}

/** JSON Lines, each an object with the named string fields. Blank lines are skipped. */
export function parseJsonl<K extends string>(
  text: string,
  file: string,
  fields: K[],
): (Record<K, string> & Record<string, unknown>)[] {
  const out: (Record<K, string> & Record<string, unknown>)[] = [];
  lines(text).forEach((line, i) => {
    if (line.trim() === "") return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw formatError(
        `${file}:${i + 1}`,
        "JSON",
        (e as Error).message,
        "the file is damaged; delete it to download it again, or fix that line",
      );
    }
    if (typeof obj !== "object" || obj === null || Array.isArray(obj))
      throw formatError(`${file}:${i + 1}`, "JSON", "expected an object per line");
    for (const f of fields) {
      if (typeof (obj as Record<string, unknown>)[f] !== "string")
        throw formatError(`${file}:${i + 1}`, f, "missing or not a string");
    }
    out.push(obj as Record<K, string> & Record<string, unknown>);
  });
  if (!out.length) throw formatError(file, "content", "no records");
  return out;
}

/** Tab-separated, no header, exactly `cols` columns (MGSM; no quoting). */
export function parseTsv(text: string, file: string, cols: number): string[][] {
  const rows = lines(text).map((line, i) => {
    const parts = line.split("\t");
    if (parts.length !== cols)
      throw formatError(`${file}:${i + 1}`, "columns", `expected ${cols} tab-separated columns, found ${parts.length}`);
    return parts;
  });
  if (!rows.length) throw formatError(file, "content", "no records");
  return rows;
}

/** RFC 4180 CSV (quoted fields may hold commas, quotes and newlines). Each record with its first line. */
export function parseCsv(text: string, file: string, cols: number): { fields: string[]; line: number }[] {
  const out: { fields: string[]; line: number }[] = [];
  let fields: string[] = [];
  let field = "";
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRecord = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === "")) {
      if (fields.length !== cols)
        throw formatError(
          `${file}:${recordLine}`,
          "columns",
          `expected ${cols} comma-separated columns, found ${fields.length}`,
        );
      out.push({ fields, line: recordLine });
    }
    fields = [];
    field = "";
  };
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === "\n") line++;
        field += c;
      }
    } else if (c === '"' && field === "") quoted = true;
    else if (c === ",") {
      fields.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      endRecord();
      line++;
      recordLine = line;
    } else field += c;
  }
  if (quoted) throw formatError(`${file}:${recordLine}`, "quote", "a quoted field is never closed");
  if (field !== "" || fields.length) endRecord();
  if (!out.length) throw formatError(file, "content", "no records");
  return out;
}

/** Non-empty lines of a plain text list (deccp). */
export function parseLines(text: string, file: string): string[] {
  const out = lines(text)
    .map((l) => l.trim())
    .filter(Boolean);
  if (!out.length) throw formatError(file, "content", "no lines");
  return out;
}

export interface HellaswagRow {
  context: string;
  label: number;
  endings: string[];
  line: number;
}

/** llama.cpp's HellaSwag text layout: 6 lines per task (context, gold index 0-3, four endings). */
export function parseHellaswag(text: string, file: string): HellaswagRow[] {
  const ls = lines(text);
  if (ls.length % 6 !== 0)
    throw formatError(
      `${file}:${ls.length}`,
      "layout",
      `${ls.length} lines is not a multiple of 6 (context, label, 4 endings per task)`,
    );
  const out: HellaswagRow[] = [];
  for (let i = 0; i < ls.length; i += 6) {
    const label = ls[i + 1].trim();
    if (!/^[0-3]$/.test(label))
      throw formatError(`${file}:${i + 2}`, "label", `expected 0-3, found "${label.slice(0, 40)}"`);
    out.push({ context: ls[i], label: Number(label), endings: ls.slice(i + 2, i + 6), line: i + 1 });
  }
  return out;
}
