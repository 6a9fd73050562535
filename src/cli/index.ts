#!/usr/bin/env node
// r1: the one CLI. This file holds the only list of verbs and turns R1Errors into two plain lines
// (`error: ...`, `fix: ...`) with exit code 1; anything else is a bug and keeps its stack trace.

import { R1Error } from "../core/errors.js";
import type { Command } from "./command.js";
import { command as distill } from "./commands/distill.js";
import { command as evalCmd } from "./commands/eval.js";
import { command as grpo } from "./commands/grpo.js";
import { command as info } from "./commands/info.js";
import { command as list } from "./commands/list.js";
import { command as pull } from "./commands/pull.js";
import { command as rm } from "./commands/rm.js";
import { command as run } from "./commands/run.js";
import { command as serve } from "./commands/serve.js";
import { command as tokenize } from "./commands/tokenize.js";
import { command as train } from "./commands/train.js";
import { command as verify } from "./commands/verify.js";

const COMMANDS: Command[] = [run, serve, evalCmd, train, grpo, distill, info, tokenize, pull, list, rm, verify];

function help(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "r1: DeepSeek-R1 in TypeScript, local-first",
    "",
    "usage: r1 <command> [flags]   (r1 <command> --help for its flags)",
    "",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (!verb || verb === "--help" || verb === "-h" || verb === "help") {
    console.log(help());
    return verb ? 0 : 1;
  }
  const cmd = COMMANDS.find((c) => c.name === verb);
  if (!cmd) {
    console.error(`error: unknown command "${verb}"\n\n${help()}`);
    return 1;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(cmd.usage);
    return 0;
  }
  return cmd.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof R1Error) {
      console.error(`error: ${e.message}`);
      if (e.hint) console.error(`fix: ${e.hint}`);
      process.exitCode = 1;
    } else {
      console.error(e);
      process.exitCode = 2;
    }
  },
);
