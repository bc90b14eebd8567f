/**
 * Errors users can meet carry a stable code and a hint that says what to do.
 * bootmedia's ranges: BM1xxx spec, BM2xxx content/fetch, BM3xxx validation, BM4xxx write,
 * BM5xxx testbed. Each area declares its codes once with `defineCodes` (a table of title and
 * hint, kept beside the code that raises them); a third-party plugin declares its own, in a
 * namespace of its own (never "BM"). docs/errors.md is generated from the composed tables.
 */

/** A code such as "BM3201" or, for a third-party plugin, "ACME001". */
export type ErrorCode = string;

export interface CodeInfo {
  title: string;
  hint: string;
}
export type CodeTable = Readonly<Record<string, CodeInfo>>;

const REGISTRY = new Map<string, CodeInfo & { owner: string }>();

/** A code is letters then digits, e.g. BM3201 or ACME001. */
const CODE_PATTERN = /^[A-Z][A-Z0-9]{1,9}[0-9]{3,4}$/;

/**
 * Declares an area's codes (returns the table, typed). A code declared again with another
 * title or hint is a collision, reported at once rather than shadowed.
 */
export function defineCodes<T extends Record<string, CodeInfo>>(owner: string, table: T): T {
  for (const [code, info] of Object.entries(table)) {
    const known = REGISTRY.get(code);
    if (known && known.title === info.title && known.hint === info.hint) continue; // the same table, declared again
    if (known) throw new Error(`error code ${code} of ${owner} is already declared by ${known.owner}`);
    if (!CODE_PATTERN.test(code)) throw new Error(`error code "${code}" of ${owner} is not letters then digits`);
    REGISTRY.set(code, { ...info, owner });
  }
  return table;
}

/** The title and default hint of a declared code. */
export function codeInfo(code: ErrorCode): (CodeInfo & { owner: string }) | undefined {
  return REGISTRY.get(code);
}

/** Every declared code, sorted. */
export function declaredCodes(): Array<[string, CodeInfo & { owner: string }]> {
  return [...REGISTRY].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export class BootmediaError extends Error {
  readonly code: ErrorCode;
  /** Where the problem is: a spec location ("media.yaml:4:3"), a file, a device. */
  readonly where?: string;
  private readonly givenHint?: string;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; where?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "BootmediaError";
    this.code = code;
    this.givenHint = opts.hint;
    this.where = opts.where;
  }

  /** What to do: the hint given, else the code's declared hint. */
  get hint(): string {
    return this.givenHint ?? REGISTRY.get(this.code)?.hint ?? "";
  }
}

export function isBootmediaError(e: unknown): e is BootmediaError {
  return e instanceof BootmediaError;
}
