import { createInterface } from 'node:readline';
import { DvmError } from '../errors/dvm-error.ts';
import { formatError } from '../errors/format.ts';
import type { CommandContext } from './command.ts';

/**
 * Whether dvm may ask a question: stdin and stderr (where the question is written) are both a terminal, and the
 * command prints to the process's own streams. With stderr redirected (`2>/dev/null`) the question would be invisible
 * and an answer typed blind could run a change, so dvm refuses as it does off a terminal.
 */
export function canAsk(ctx: CommandContext): boolean {
  return (
    process.stdin.isTTY === true &&
    process.stderr.isTTY === true &&
    ctx.io.stdout === process.stdout &&
    ctx.io.stderr === process.stderr
  );
}

/** Thrown by ask() when Ctrl-C answers the question: the command says that nothing was done and exits 130. */
export class PromptInterrupted extends Error {
  constructor() {
    super('interrupted at the question (Ctrl-C)');
    this.name = 'PromptInterrupted';
  }
}

/**
 * Asks `question` on the terminal (stderr) and answers the line typed; undefined at the end of input (Ctrl-D);
 * Ctrl-C rejects with PromptInterrupted (the terminal is in raw mode: Ctrl-C is a key here, not a signal).
 */
export function ask(question: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    let settled = false;
    const settle = (done: () => void) => {
      if (settled) return;
      settled = true;
      rl.close();
      done();
    };
    // Nothing typed ends the question's line (Enter does for an answer): what dvm says next starts a line of its own.
    const unanswered = (done: () => void) =>
      settle(() => {
        process.stderr.write('\n');
        done();
      });
    rl.on('SIGINT', () => unanswered(() => reject(new PromptInterrupted())));
    rl.on('close', () => unanswered(() => resolve(undefined)));
    rl.question(question, (answer) => settle(() => resolve(answer)));
  });
}

/** Prints, as a DVM_CANCELLED line, that Ctrl-C at a question left everything as it was; answers exit status 130. */
export function interruptedAtQuestion(ctx: CommandContext, message: string): number {
  ctx.io.stderr.write(formatError(new DvmError('DVM_CANCELLED', message)));
  return 130;
}
