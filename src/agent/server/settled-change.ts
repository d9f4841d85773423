/**
 * Tells when a watched file's signature changed and then held still for one more look, so the file is read once its
 * writer is done: an editor's truncate-then-write is never read half-way (an empty config.yaml would drop the
 * redaction patterns and the environment binding until the next look).
 */
export class SettledChange {
  #applied: string;
  #pending: string | undefined;

  constructor(initial: string) {
    this.#applied = initial;
  }

  /** True once `now` differs from the signature last applied and was the same at the previous look. */
  check(now: string): boolean {
    if (now === this.#applied) {
      this.#pending = undefined;
      return false;
    }
    if (now !== this.#pending) {
      this.#pending = now;
      return false;
    }
    this.#applied = now;
    this.#pending = undefined;
    return true;
  }
}
