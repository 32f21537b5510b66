/**
 * Errors from talking to DLI. Each kind asks for a different reaction from the cycle, so each is its own class:
 * authentication stops the whole cycle, "not found" counts towards marking a job lost, the rest leave the job
 * untouched until the next cycle.
 */

export interface DliErrorDetails {
  jobId?: string;
  /** HTTP status, when DLI or its gateway answered. */
  status?: number;
  /** `error_code` from the body (`DLI.0002`, `APIGW.0308`, …). */
  code?: string;
  /** `X-Request-Id` of the response (or `request_id` of the body): what Huawei support asks for. */
  requestId?: string;
  cause?: unknown;
}

export type DliErrorKind =
  | 'auth'
  | 'project'
  | 'cancelled'
  | 'not-found'
  | 'throttled'
  | 'server'
  | 'network'
  | 'malformed'
  | 'request';

export class DliError extends Error {
  readonly kind: DliErrorKind = 'request';
  readonly jobId: string | undefined;
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly requestId: string | undefined;

  constructor(message: string, details: DliErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.jobId = details.jobId;
    this.status = details.status;
    this.code = details.code;
    this.requestId = details.requestId;
  }

  /** What to put beside the message in a log line (never a credential). */
  toLogAttributes(): Record<string, unknown> {
    return {
      error_kind: this.kind,
      job_id: this.jobId,
      http_status: this.status,
      error_code: this.code,
      request_id: this.requestId,
    };
  }
}

/** A {@link DliError} base of one kind: each kind below is its own class, for `instanceof`, in one line. */
function ofKind<K extends DliErrorKind>(kind: K) {
  return class extends DliError {
    override readonly kind: K = kind;
  };
}

/** The gateway or DLI refused our credentials (401, `APIGW.0301`, `DLI.0013`–`DLI.0015`): fatal for the cycle. */
export class DliAuthError extends ofKind('auth') {}

/**
 * DLI does not know the project (`DLI.0023` "no related resources" for the project in the path, or a `DLI.0001`
 * parameter error about the project): every request would fail alike, so like rejected credentials it stops the
 * cycle, and it is the configuration's to fix.
 */
export class DliProjectError extends ofKind('project') {}

/** The request was stopped by the caller (a shutdown), not by DLI or the network: not a failure. */
export class DliCancelledError extends ofKind('cancelled') {}

/** DLI says the job does not exist (`DLI.0002`). */
export class DliJobNotFoundError extends ofKind('not-found') {}

/** Still throttled (429, `APIGW.0308`) after the retries. */
export class DliThrottledError extends ofKind('throttled') {}

/** 5xx, or DLI's own server error `DLI.0999` (which it sends as HTTP 400), after the retries. */
export class DliServerError extends ofKind('server') {}

/** No answer: connection failure or timeout, after the retries. */
export class DliNetworkError extends ofKind('network') {}

/** An answer that is not the JSON shape DLI documents. */
export class DliMalformedResponseError extends ofKind('malformed') {}

/** Any other 4xx: our request is wrong and retrying will not help. */
export class DliRequestError extends ofKind('request') {}
