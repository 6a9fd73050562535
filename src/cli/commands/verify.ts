// r1 verify REF: re-hash a cached model's files against the hashes their blob names carry (sha256 for weights,
// git blob sha1 for small files) and report the first bad one with exit code 1. Works offline.

import { usageError } from "../../core/errors.js";
import { formatBytes, verifyModel } from "../../hub/index.js";
import { parse } from "../args.js";
import type { Command } from "../command.js";

const usage = `r1 verify REF [--quiet]

  REF       a cached Hub model: org/repo, org/repo@revision, org/repo:Q4_K_M, org/repo/file.gguf
  --quiet   no per-file lines on stderr

Exit code 0 when every file matches, 1 at the first file that does not (it is named, with both hashes).`;

export const command: Command = {
  name: "verify",
  summary: "re-hash a cached model against the Hub's published hashes",
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { quiet: { type: "boolean", short: "q" } }, usage);
    if (positionals.length !== 1) throw usageError("r1 verify takes exactly one model reference", `usage:\n${usage}`);
    const onFile = values.quiet
      ? undefined
      : (file: string, size: number) => process.stderr.write(`  hashing ${file} (${formatBytes(size)})\n`);
    const r = await verifyModel(positionals[0]!, { onFile });
    if (r.bad) {
      process.stdout.write(`bad: ${r.ref}@${r.commit.slice(0, 10)}: ${r.bad.file}: ${r.bad.problem}\n`);
      process.stdout.write(`fix: r1 rm ${r.ref} && r1 pull ${r.ref}\n`);
      return 1;
    }
    const note = r.unchecked.length ? `; no recorded hash for ${r.unchecked.join(", ")}` : "";
    process.stdout.write(
      `ok: ${r.ref}@${r.commit.slice(0, 10)}: ${r.checked.length} files, ${formatBytes(r.bytes)} verified${note}\n`,
    );
    return 0;
  },
};
