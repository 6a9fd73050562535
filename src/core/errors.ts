// Every error a user can cause is an R1Error: a message that names the problem (file, field, value) and a
// `hint` that names the fix. The CLI prints `error: <message>` and `fix: <hint>` and exits 1, never a stack.
// Internal bugs stay plain Errors, so a stack trace always means "our fault".

export type ErrorCode =
  | "format" // a checkpoint file is malformed (truncated, bad offsets, unknown dtype)
  | "config" // config.json is missing a field, or disagrees with the tensors
  | "unsupported" // a valid file that r1ts cannot run (unknown architecture, tensor type)
  | "input" // a prompt or request that cannot be served (too long, bad token id)
  | "not_found" // a path or model reference that does not exist
  | "usage"; // a CLI flag or API parameter is wrong

export class R1Error extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "R1Error";
  }
}

/** A malformed file: `where` is the file path, `field` the header field or tensor name at fault. */
export function formatError(where: string, field: string, problem: string, hint?: string): R1Error {
  return new R1Error(
    "format",
    `${where}: ${field}: ${problem}`,
    hint ?? "the file is damaged or incomplete; download it again (r1 verify checks hashes)",
  );
}

export function configError(where: string, field: string, problem: string, hint?: string): R1Error {
  return new R1Error("config", `${where}: ${field}: ${problem}`, hint ?? "check config.json against the checkpoint");
}

export function unsupported(what: string, hint?: string): R1Error {
  return new R1Error("unsupported", what, hint);
}

export function inputError(what: string, hint?: string): R1Error {
  return new R1Error("input", what, hint);
}

export function usageError(what: string, hint?: string): R1Error {
  return new R1Error("usage", what, hint);
}
