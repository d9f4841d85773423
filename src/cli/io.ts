import { DvmError } from '../errors/dvm-error.ts';

/** The largest input dvm reads (an -f file, or stdin): far above any platform's YAML, far below what exhausts memory. */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

/** DVM_INPUT_TOO_LARGE for an input (`<stdin>` or a file) over MAX_INPUT_BYTES. */
export function inputTooLarge(shown: string): DvmError {
  return new DvmError(
    'DVM_INPUT_TOO_LARGE',
    `${shown === '<stdin>' ? 'stdin' : shown} is larger than the ${MAX_INPUT_BYTES / 1024 / 1024} MiB dvm reads`,
    {
      file: shown,
      fix: 'Split it into several files (-f DIR reads them all), or check what -f names or what is piped into dvm.',
    },
  );
}

/** The streams and environment a command runs with (injected so tests can read what it prints). */
export interface CommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  readStdin(): Promise<string>;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** The process's own streams and environment. */
export function processIo(): CommandIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      for await (const chunk of process.stdin) {
        bytes += (chunk as Buffer).byteLength;
        // A stream that never ends (< /dev/zero) stops at the cap instead of exhausting memory.
        if (bytes > MAX_INPUT_BYTES) {
          process.stdin.destroy();
          throw inputTooLarge('<stdin>');
        }
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks).toString('utf8');
    },
    env: process.env,
    cwd: process.cwd(),
  };
}
