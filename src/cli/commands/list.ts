// r1 list: the models in the Hugging Face cache (ours and Python's), with size, format, architecture,
// quantization and whether r1ts has verified their hashes. Reads headers only; never hashes, never connects.

import { type CachedEntry, formatBytes, hubSettings, listCached } from "../../hub/index.js";
import { parse } from "../args.js";
import type { Command } from "../command.js";

const usage = `r1 list [--json]

  --json   one JSON array: ref, repo, commit, revisions, format, files, path, sizeBytes, architecture,
           quantization, complete, verified

VERIFIED "yes" means r1ts hashed every file (at pull or with r1 verify) and none changed since; "no" means not
checked yet (e.g. downloaded by Python): run r1 verify REF. "partial" in SIZE marks a snapshot missing files the
runtime needs: r1 pull REF completes it.`;

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

function row(e: CachedEntry): string[] {
  return [
    e.ref,
    e.commit.slice(0, 10),
    `${formatBytes(e.sizeBytes)}${e.complete ? "" : " (partial)"}`,
    e.format,
    e.architecture ?? "?",
    e.quantization ?? "?",
    e.verified ? "yes" : "no",
  ];
}

export const command: Command = {
  name: "list",
  summary: "list the models in the local Hugging Face cache",
  usage,
  async run(argv) {
    const { values } = parse(argv, { json: { type: "boolean" } }, usage);
    const entries = await listCached();
    if (values.json) {
      process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
      return 0;
    }
    const { cacheDir } = hubSettings();
    if (entries.length === 0) {
      process.stdout.write(`no models in ${cacheDir} (r1 pull org/repo downloads one)\n`);
      return 0;
    }
    const header = ["REF", "COMMIT", "SIZE", "FORMAT", "ARCH", "QUANT", "VERIFIED"];
    process.stdout.write(`${table([header, ...entries.map(row)])}\n\ncache: ${cacheDir}\n`);
    return 0;
  },
};
