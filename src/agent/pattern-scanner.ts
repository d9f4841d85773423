import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';

// The worker: compiles the patterns once, then replaces their matches in each batch of texts it is sent and wakes
// the waiting main thread. CommonJS source, run with `eval`: nothing of the project is loaded there.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { port, done, sources, replacement } = workerData;
const combined = (ignoreCase) => {
  const parts = sources.filter((s) => s.ignoreCase === ignoreCase).map((s) => '(?:' + s.source + ')');
  return parts.length ? new RegExp(parts.join('|'), ignoreCase ? 'gi' : 'g') : undefined;
};
const patterns = [combined(false), combined(true)].filter(Boolean);
Atomics.store(done, 1, 1);
Atomics.notify(done, 1);
port.on('message', ({ call, texts }) => {
  const out = texts.map((text) => patterns.reduce((t, p) => t.replace(p, replacement), text));
  port.postMessage({ call, out });
  Atomics.store(done, 0, call);
  Atomics.notify(done, 0);
});
`;

// A worker thread, the port its answers come on, whether it has been waited for since it started, and whether it
// replaces one stopped for a slow scan (its start then counts as slow time).
type Running = { thread: Worker; port: MessagePort; fresh: boolean; replacement: boolean };

// How long a new worker may take to start (its patterns compiled) before a call is sent to it.
const START_ALLOWANCE_MS = 2000;

/**
 * How much of each second the main thread may wait on scans that ran out of their budget, and on the workers started
 * after them, before calls stop waiting: until the second ends, every call answers at once as unscanned. A request
 * built to make a home's pattern slow then costs the event loop (health, every other request) at most this share,
 * while scans that finish in their budget, however long, never count.
 */
export const SLOW_SCAN_MS_PER_SECOND = 100;

/**
 * Runs a home's own `redact.patterns` on a worker thread, so a pattern that backtracks on some text costs at most a
 * time budget per call: the main thread waits for the answer that long, then stops the worker (V8 interrupts the
 * match) and starts a new one at once, for the next call; such waits get at most SLOW_SCAN_MS_PER_SECOND of each
 * second. Texts a call had no time to scan are never passed on: the caller replaces them.
 */
export class PatternScanner {
  readonly #sources: { source: string; ignoreCase: boolean }[];
  readonly #replacement: string;
  // [0]: the last call answered; [1]: 1 once the current worker is ready.
  readonly #done = new Int32Array(new SharedArrayBuffer(8));
  #worker: Running | undefined;
  #call = 0;
  readonly #slowPerSecondMs: number;
  // The second being counted (its start) and the slow time spent in it.
  #second = Number.NEGATIVE_INFINITY;
  #slowSpent = 0;

  constructor(patterns: readonly RegExp[], replacement: string, options: { slowPerSecondMs?: number } = {}) {
    this.#sources = patterns.map((p) => ({ source: p.source, ignoreCase: p.flags.includes('i') }));
    this.#replacement = replacement;
    this.#slowPerSecondMs = options.slowPerSecondMs ?? SLOW_SCAN_MS_PER_SECOND;
  }

  #start(replacement = false): Running {
    Atomics.store(this.#done, 1, 0);
    const { port1, port2 } = new MessageChannel();
    const thread = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { port: port2, done: this.#done, sources: this.#sources, replacement: this.#replacement },
      transferList: [port2],
    });
    // It never keeps the process alive, and a failure (out of memory) only means the next call starts another.
    thread.unref();
    thread.on('error', () => {
      if (this.#worker?.thread === thread) this.#worker = undefined;
    });
    this.#worker = { thread, port: port1, fresh: true, replacement };
    return this.#worker;
  }

  /**
   * Each text with the patterns' matches replaced, or undefined when they took longer than `budgetMs` together (the
   * worker is then stopped) or this second's time for slow scans is spent (SLOW_SCAN_MS_PER_SECOND).
   */
  scan(texts: readonly string[], budgetMs: number): string[] | undefined {
    if (texts.length === 0) return [];
    const now = performance.now();
    if (now - this.#second >= 1000) {
      this.#second = now;
      this.#slowSpent = 0;
    }
    const left = this.#slowPerSecondMs - this.#slowSpent;
    if (left <= 0) return undefined;
    const worker = this.#worker ?? this.#start();
    if (worker.fresh) {
      // The first worker's start is not the patterns' time; a replacement's is, within what is left of the second.
      const started = performance.now();
      const ready =
        Atomics.wait(this.#done, 1, 0, worker.replacement ? left : START_ALLOWANCE_MS) !== 'timed-out';
      if (worker.replacement) this.#slowSpent += performance.now() - started;
      if (!ready) return undefined; // it goes on starting: a later call uses it
      worker.fresh = false;
    }
    // Waiting for the replacement may have spent the second: the ready worker is kept for the next one.
    const budget = Math.min(budgetMs, this.#slowPerSecondMs - this.#slowSpent);
    return budget > 0 ? this.#scan(worker, texts, budget) : undefined;
  }

  // Sends the texts and waits for their answer up to `budgetMs`; past it the worker is stopped and a replacement
  // started at once, and the time waited counts as slow.
  #scan(worker: Running, texts: readonly string[], budgetMs: number): string[] | undefined {
    const call = ++this.#call;
    worker.port.postMessage({ call, texts });
    const started = performance.now();
    const deadline = started + budgetMs;
    for (;;) {
      const answer = receiveMessageOnPort(worker.port)?.message as
        | { call: number; out: string[] }
        | undefined;
      // Calls wait for their answer or stop the worker: an answer here is this call's.
      if (answer?.call === call) return answer.out;
      const left = deadline - performance.now();
      if (left <= 0 || Atomics.wait(this.#done, 0, Atomics.load(this.#done, 0), left) === 'timed-out') {
        const late = receiveMessageOnPort(worker.port)?.message as
          | { call: number; out: string[] }
          | undefined;
        if (late?.call === call) return late.out;
        this.#slowSpent += performance.now() - started;
        void worker.thread.terminate();
        this.#start(true);
        return undefined;
      }
    }
  }

  /** Stops the worker (a later call starts another). */
  close(): void {
    void this.#worker?.thread.terminate();
    this.#worker = undefined;
  }
}
