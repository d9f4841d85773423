import { ERROR_CODES, type ErrorCode } from './codes.ts';

/** Where in a source file a problem applies. */
export interface SourceLocation {
  file?: string;
  line?: number;
  column?: number;
  /** JSON path inside the object, like `spec.tasks[2].dependsOn`. */
  path?: string;
  /** `Kind/name` of the object the problem belongs to. */
  object?: string;
}

/** One problem, as listed in `details.causes` of an aggregate error. */
export interface ErrorCause extends SourceLocation {
  code: ErrorCode;
  message: string;
  fix?: string;
}

/** Options of a DvmError beyond its code and message. */
export interface DvmErrorOptions extends SourceLocation {
  fix?: string;
  causes?: ErrorCause[];
  details?: Record<string, unknown>;
}

/** The one error type of dvm: a stable code, a message, the fix, and where it applies. */
export class DvmError extends Error {
  readonly code: ErrorCode;
  readonly fix?: string;
  readonly location: SourceLocation;
  readonly causes: ErrorCause[];
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: DvmErrorOptions = {}) {
    super(message);
    this.name = 'DvmError';
    this.code = code;
    this.fix = options.fix;
    const { file, line, column, path, object } = options;
    this.location = { file, line, column, path, object };
    this.causes = options.causes ?? [];
    this.details = options.details ?? {};
  }

  /** Process exit status for this error (2 for usage errors, else 1). */
  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }

  /** HTTP status that the API answers with for this error. */
  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }

  /** This error as one cause of an aggregate. */
  toCause(): ErrorCause {
    return { code: this.code, message: this.message, fix: this.fix, ...this.location };
  }

  /** A JSON body `{code, reason, message, details}` for machine readers. */
  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      reason: ERROR_CODES[this.code].summary,
      message: this.message,
      details: { ...this.details, ...compact(this.location), fix: this.fix, causes: this.causes },
    };
  }
}

/** Builds one error from several causes: the cause's own code when there is one, else DVM_INVALID. */
export function aggregateError(causes: ErrorCause[], what: string): DvmError {
  const codes = new Set(causes.map((c) => c.code));
  const code: ErrorCode = codes.size === 1 ? causes[0].code : 'DVM_INVALID';
  const noun = causes.length === 1 ? 'problem' : 'problems';
  return new DvmError(code, `${causes.length} ${noun} ${what}; nothing was written`, { causes });
}

/** True when the value is a DvmError. */
export function isDvmError(value: unknown): value is DvmError {
  return value instanceof DvmError;
}

function compact(location: SourceLocation): Record<string, unknown> {
  return Object.fromEntries(Object.entries(location).filter(([, v]) => v !== undefined));
}
