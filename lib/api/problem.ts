/**
 * RFC 9457 problem details: every error the tracking API returns. Nothing here carries a stack, a store path or
 * a secret: `detail` is written for the caller, from what the caller sent.
 */

/** One thing wrong with a request: where (`pointer` into the JSON body, or a `parameter` name) and why. */
export interface ProblemError {
  /** JSON Pointer (RFC 6901) into the request body, `''` for the body as a whole. */
  pointer?: string;
  /** A query or path parameter. */
  parameter?: string;
  detail: string;
}

export interface Problem {
  /** A tag URI naming the kind of problem: stable for clients to branch on, never dereferenced. */
  type: string;
  title: string;
  status: number;
  detail: string;
  /** Every validation problem at once, so a caller fixes a request in one go. */
  errors?: ProblemError[];
}

/** The kinds of problem, each with the title every instance of it shares. */
export const PROBLEM_KINDS = {
  'invalid-json': { status: 400, title: 'Request body is not valid JSON' },
  'invalid-request': { status: 400, title: 'Request is invalid' },
  'job-not-found': { status: 404, title: 'Job is not tracked' },
  'route-not-found': { status: 404, title: 'No such resource' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'job-busy': { status: 409, title: 'Job kept changing' },
  'unsupported-media-type': { status: 415, title: 'Request body must be JSON' },
  'internal-error': { status: 500, title: 'Internal error' },
} as const;

export type ProblemKind = keyof typeof PROBLEM_KINDS;

/** RFC 4151 tag URIs: unique to dli-watch without promising a page behind them. */
const TYPE_PREFIX = 'tag:dli-watch,2026:problem/';

export function problemType(kind: ProblemKind): string {
  return `${TYPE_PREFIX}${kind}`;
}

/** Builds the problem body for one kind, with this instance's detail and validation errors. */
export function problem(kind: ProblemKind, detail: string, errors?: ProblemError[]): Problem {
  const { status, title } = PROBLEM_KINDS[kind];
  return { type: problemType(kind), title, status, detail, ...(errors === undefined ? {} : { errors }) };
}

/** RFC 6901: `~` and `/` inside a reference token are escaped. */
export function jsonPointer(path: readonly PropertyKey[]): string {
  return path.map((token) => `/${String(token).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}
