/** A counting semaphore: at most `limit` holders at once, waiters served first come, first served. */
export class Semaphore {
  private available: number;
  private readonly waiters: (() => void)[] = [];

  constructor(limit: number) {
    this.available = Math.max(1, limit);
  }

  /** Waits for a slot; resolves at once when one is free. */
  acquire(): Promise<void> {
    if (this.available > 0) {
      this.available--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Frees a slot (handing it straight to the next waiter, if any). */
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.available++;
  }
}
