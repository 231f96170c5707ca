/**
 * The error catalogue (STYLE.md §4). Every error the sidecar throws across a boundary is a
 * SidecarError with a stable code. `docs/errors.md` lists every code; a test keeps the two equal.
 * Codes are never reused once retired.
 */
export interface ErrorSpec {
  readonly code: string;
  readonly status?: number;
}

export class SidecarError extends Error {
  readonly code: string;
  readonly status: number | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  constructor(
    spec: ErrorSpec,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SidecarError';
    this.code = spec.code;
    this.status = spec.status;
    this.details = options?.details;
  }
}

/** Every code, with its HTTP status where it crosses the API. Keep alphabetical within an area. */
export const ERRORS = {
  // configuration
  CONFIG_INVALID: { code: 'SC_ERR_CONFIG_INVALID' },
  CONFIG_FILE_UNREADABLE: { code: 'SC_ERR_CONFIG_FILE_UNREADABLE' },
  // tag events
  EVENT_MALFORMED: { code: 'SC_ERR_EVENT_MALFORMED', status: 400 },
  // database
  DB_CONNECT: { code: 'SC_ERR_DB_CONNECT', status: 503 },
  DB_MIGRATION: { code: 'SC_ERR_DB_MIGRATION' },
  DB_EMBEDDED_LOCKED: { code: 'SC_ERR_DB_EMBEDDED_LOCKED' },
  DB_WRITE_REJECTED: { code: 'SC_ERR_DB_WRITE_REJECTED' },
  SPOOL_IO: { code: 'SC_ERR_SPOOL_IO' },
  // model
  MODEL_LOAD: { code: 'SC_ERR_MODEL_LOAD' },
  MODEL_CONTRACT: { code: 'SC_ERR_MODEL_CONTRACT' },
  MODEL_WORKER: { code: 'SC_ERR_MODEL_WORKER' },
  // API
  API_VALIDATION: { code: 'SC_ERR_API_VALIDATION', status: 400 },
  API_UNAUTHENTICATED: { code: 'SC_ERR_API_UNAUTHENTICATED', status: 401 },
  API_FORBIDDEN: { code: 'SC_ERR_API_FORBIDDEN', status: 403 },
  API_NOT_FOUND: { code: 'SC_ERR_API_NOT_FOUND', status: 404 },
  API_CONFLICT: { code: 'SC_ERR_API_CONFLICT', status: 409 },
  API_PAYLOAD_TOO_LARGE: { code: 'SC_ERR_API_PAYLOAD_TOO_LARGE', status: 413 },
  API_RATE_LIMITED: { code: 'SC_ERR_API_RATE_LIMITED', status: 429 },
  API_INTERNAL: { code: 'SC_ERR_API_INTERNAL', status: 500 },
  // identity
  IDENTITY_INVALID: { code: 'SC_ERR_IDENTITY_INVALID', status: 401 },
  IDENTITY_REPLAYED: { code: 'SC_ERR_IDENTITY_REPLAYED', status: 401 },
  // setpoint writes
  WRITE_OUT_OF_RANGE: { code: 'SC_ERR_WRITE_OUT_OF_RANGE', status: 422 },
  WRITE_STEP_TOO_LARGE: { code: 'SC_ERR_WRITE_STEP_TOO_LARGE', status: 422 },
  WRITE_FAILED: { code: 'SC_ERR_WRITE_FAILED', status: 502 },
  WRITE_UNKNOWN_TAG: { code: 'SC_ERR_WRITE_UNKNOWN_TAG', status: 422 },
  // sources
  SOURCE_PARSE: { code: 'SC_ERR_SOURCE_PARSE' },
  SOURCE_CONNECT: { code: 'SC_ERR_SOURCE_CONNECT' },
  // learning
  MODEL_REGISTRY: { code: 'SC_ERR_MODEL_REGISTRY' },
} as const satisfies Record<string, ErrorSpec>;

/** Warnings get codes too; they are logged, never thrown. */
export const WARNINGS = {
  SPOOLING: { code: 'SC_WRN_001' },
  SOURCE_RECONNECTING: { code: 'SC_WRN_002' },
  MODEL_FALLBACK: { code: 'SC_WRN_003' },
  FEATURE_DRIFT: { code: 'SC_WRN_004' },
} as const satisfies Record<string, ErrorSpec>;
