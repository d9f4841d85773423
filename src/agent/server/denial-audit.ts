import { ANONYMOUS } from '../auth/principal.ts';
import type { AuditRecord, AuditSink } from '../execute/types.ts';

/**
 * A request the API refused for who sent it: unauthenticated (401), or a role too weak for the route or for one of
 * its filters (403).
 */
export type Denial = Pick<
  AuditRecord,
  'actor' | 'via' | 'principal' | 'reasons' | 'error' | 'source' | 'route'
> & {
  /** Short label to count suppressed denials by: the 401 reason, or `role`. */
  kind: string;
};

/** Options of DenialAudit. */
export interface DenialAuditOptions {
  /** Denials audited one by one per window (default 100); the rest are counted. */
  limit?: number;
  /** Window length (default 60 s). */
  windowMs?: number;
  now?: () => number;
}

// Sources named in a summary entry, most frequent first.
const TOP_SOURCES = 5;

/**
 * Audits refused requests without letting a flood grow the audit without bound: in each window the first
 * `limit` denials are written one by one (durably, before the answer), the rest only counted, and the counts
 * written as one summary entry when the window ends (or the server closes). The presented token is never stored.
 */
export class DenialAudit {
  readonly #audit: AuditSink;
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  #windowStart = 0;
  #written = 0;
  #byKind = new Map<string, number>();
  #bySource = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(audit: AuditSink, options: DenialAuditOptions = {}) {
    this.#audit = audit;
    this.#limit = options.limit ?? 100;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Records one denial: resolves once it is durable, or at once when it was only counted. */
  async record(denial: Denial): Promise<void> {
    const now = this.#now();
    // The window turns over before anything is awaited: requests that arrive while the summary is written belong
    // to the new window and count against its limit.
    const summary = now - this.#windowStart >= this.#windowMs ? this.flush() : undefined;
    if (summary) {
      this.#windowStart = now;
      this.#written = 0;
    }
    if (this.#written < this.#limit) {
      this.#written++;
      const { kind: _kind, ...entry } = denial;
      await summary;
      await this.#audit.append({ ...entry, at: new Date(now).toISOString(), decision: 'denied' });
      return;
    }
    this.#byKind.set(denial.kind, (this.#byKind.get(denial.kind) ?? 0) + 1);
    const source = denial.source ?? 'unknown';
    this.#bySource.set(source, (this.#bySource.get(source) ?? 0) + 1);
    this.#timer ??= setTimeout(() => void this.flush().catch(() => {}), this.#windowMs).unref();
    await summary;
  }

  /** Writes the summary of the denials counted but not written, if any. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#byKind.size === 0) return;
    const total = [...this.#byKind.values()].reduce((a, b) => a + b, 0);
    const kinds = [...this.#byKind].map(([kind, n]) => `${kind} ×${n}`).join(', ');
    const sources = [...this.#bySource]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP_SOURCES)
      .map(([source, n]) => `${source} ×${n}`)
      .join(', ');
    this.#byKind = new Map();
    this.#bySource = new Map();
    await this.#audit.append({
      at: new Date(this.#now()).toISOString(),
      actor: ANONYMOUS,
      decision: 'denied',
      reasons: [
        `${total} more refused requests in this ${Math.round(this.#windowMs / 1000)} s window were counted, not audited one by one (at most ${this.#limit} a window): ${kinds}; from ${sources}`,
      ],
    });
  }
}
