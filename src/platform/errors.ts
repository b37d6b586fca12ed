import { STATUS_CODES } from 'node:http';

/** Problem types (RFC 9457 `type`): stable, relative URIs documented at `/problems/{kind}`. */
export const problemKinds = {
  'validation-error': 'One or more fields are invalid; `errors` lists each with a JSON pointer.',
  'malformed-request': 'The body could not be parsed as the declared content type.',
  unauthorized: 'No valid API key was given (`Authorization: Bearer <key>`).',
  forbidden: 'The client lacks a scope the operation needs; `requiredScopes` names them.',
  'not-found': 'No such resource, or it lies outside the client’s jurisdiction.',
  'method-not-allowed': 'The resource exists but does not take this method; see the `Allow` header.',
  conflict: 'The request conflicts with existing data; the problem says which.',
  'invalid-state': 'The action is not allowed from the resource’s current state (`currentState`).',
  'idempotency-key-in-flight': 'A request with this Idempotency-Key is still being processed.',
  'idempotency-key-reused': 'This Idempotency-Key was used with a different request.',
  'precondition-failed': 'If-Match did not match the resource’s current ETag.',
  'payload-too-large': 'The body exceeds the size limit.',
  'unsupported-media-type': 'The Content-Type is not accepted by this operation.',
  'unprocessable-request': 'The request is well-formed but cannot be carried out.',
  'rate-limited': 'Too many requests; retry after the `Retry-After` header’s seconds.',
  'request-timeout': 'The request took too long to arrive.',
  'service-unavailable': 'The service cannot answer right now; retry later.',
  'internal-error': 'The request failed inside the service; quote `requestId` when reporting it.',
} as const;

export type ProblemKind = keyof typeof problemKinds;

export interface FieldError {
  /** Where the bad value is: body, query, path or header. */
  in: 'body' | 'query' | 'path' | 'header';
  /** JSON pointer (RFC 6901) to the field inside that part, e.g. `/members/0/idNumber`. */
  pointer: string;
  detail: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export const problemType = (kind: ProblemKind) => `/problems/${kind}`;

/** An error that knows the problem+json it becomes. Services throw these; the error handler answers. */
export class ProblemError extends Error {
  readonly headers: Record<string, string>;
  constructor(
    readonly status: number,
    readonly kind: ProblemKind,
    detail: string,
    readonly extensions: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'ProblemError';
    this.headers = headers;
  }

  toProblem(instance: string): Problem {
    return {
      type: problemType(this.kind),
      title: titleOf(this.kind, this.status),
      status: this.status,
      detail: this.message,
      instance,
      ...this.extensions,
    };
  }
}

export function titleOf(kind: ProblemKind, status: number): string {
  const custom: Partial<Record<ProblemKind, string>> = {
    'validation-error': 'Validation failed',
    'malformed-request': 'Malformed request body',
    'invalid-state': 'Action not allowed in the current state',
    'idempotency-key-in-flight': 'Idempotency key in flight',
    'idempotency-key-reused': 'Idempotency key reused with a different request',
    'internal-error': 'Internal error',
  };
  return custom[kind] ?? STATUS_CODES[status] ?? 'Error';
}

export const notFound = (what = 'resource') => new ProblemError(404, 'not-found', `No such ${what}.`);
export const conflict = (detail: string, extensions: Record<string, unknown> = {}) =>
  new ProblemError(409, 'conflict', detail, extensions);
export const invalidState = (detail: string, currentState: string) =>
  new ProblemError(409, 'invalid-state', detail, { currentState });
export const validationError = (errors: FieldError[]) =>
  new ProblemError(
    400,
    'validation-error',
    errors.length === 1 ? `${errors[0]!.pointer || '/'}: ${errors[0]!.detail}` : `${errors.length} fields are invalid.`,
    { errors },
  );
export const unprocessable = (detail: string, extensions: Record<string, unknown> = {}) =>
  new ProblemError(422, 'unprocessable-request', detail, extensions);
