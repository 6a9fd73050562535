// The shape of one CLI verb. src/cli/index.ts holds the only list of verbs; each lives in commands/<verb>.ts.
// `run` returns the process exit code; a user mistake is thrown as an R1Error and printed by index.ts.

export interface Command {
  name: string;
  summary: string;
  /** Full help text, printed for `r1 <verb> --help`. */
  usage: string;
  run(argv: string[]): Promise<number>;
}
