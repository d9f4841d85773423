import { DvmError } from '../errors/dvm-error.ts';

/** The most dvm reads from stdin (as for -f files). */
export const MAX_STDIN_BYTES = 64 * 1024 * 1024;

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
        if (bytes > MAX_STDIN_BYTES) {
          process.stdin.destroy();
          throw new DvmError(
            'DVM_INPUT_TOO_LARGE',
            `stdin is larger than the ${MAX_STDIN_BYTES / 1024 / 1024} MiB dvm reads`,
            {
              file: '<stdin>',
              fix: 'Split the input into several files (-f DIR reads them all), or check what is piped into dvm.',
            },
          );
        }
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks).toString('utf8');
    },
    env: process.env,
    cwd: process.cwd(),
  };
}
