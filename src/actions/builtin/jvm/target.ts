import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DvmError } from '../../../errors/dvm-error.ts';
import type { ActionContext } from '../../action.ts';
import { createMemoryLog } from '../../log-file.ts';
import { runProcess } from '../../process.ts';

/** Which JVM an action targets: a pid, or a main class (exact, or a suffix after a dot). */
export type JvmTarget = { pid?: number; mainClass?: string };

/** JSON Schema properties that pick the target JVM. */
export const JVM_TARGET_PROPERTIES = {
  pid: { type: 'integer', minimum: 1, description: 'Process id of the JVM.' },
  mainClass: {
    type: 'string',
    pattern: '^[A-Za-z_$][A-Za-z0-9_$.]*$',
    description: 'Main class (or a suffix of it) as `jcmd -l` lists it.',
  },
} as const;

/** The jcmd binary: $JAVA_HOME/bin/jcmd when present, else `jcmd` from PATH. */
export function jcmdPath(env: Record<string, string | undefined>): string {
  const home = env.JAVA_HOME;
  return home && existsSync(join(home, 'bin', 'jcmd')) ? join(home, 'bin', 'jcmd') : 'jcmd';
}

/** Runs `jcmd ARGS…` and returns what it printed; DVM_CONNECTOR_UNAVAILABLE when jcmd is missing. */
export async function jcmd(args: string[], context: ActionContext): Promise<string> {
  const log = createMemoryLog({ maxBytes: 64 * 1024 * 1024 });
  try {
    await runProcess([jcmdPath(context.env), ...args], context, { log, label: `jcmd ${args.join(' ')}` });
  } catch (error) {
    const code = (error as DvmError).code;
    if (code === 'DVM_EXEC_NOT_FOUND') {
      throw new DvmError('DVM_CONNECTOR_UNAVAILABLE', 'jcmd is not installed (it ships with every JDK)', {
        fix: 'Install a JDK, or set JAVA_HOME to one.',
        details: { origin: 'system' },
      });
    }
    if (code === 'DVM_TASK_FAILED') {
      const text = log.text();
      if (/AttachNotSupportedException|No such process|not found|Unable to open socket/i.test(text)) {
        throw new DvmError(
          'DVM_TARGET_NOT_FOUND',
          `no JVM answers as pid ${args[0]}: ${text.trim().split('\n').pop()}`,
          {
            fix: 'List the JVMs with `jcmd -l` (or jvm.status with mainClass).',
            details: { origin: 'user' },
          },
        );
      }
      throw new DvmError(
        'DVM_TASK_FAILED',
        `jcmd ${args.join(' ')} failed: ${text.trim().split('\n').slice(-3).join(' ')}`,
        {
          fix: 'Check that the JVM runs as the same user as dvm and allows attach.',
          details: { origin: 'system' },
        },
      );
    }
    throw error;
  }
  return log.text();
}

/** Resolves the target to one running JVM: its pid and main class. */
export async function resolveJvm(
  target: JvmTarget,
  context: ActionContext,
): Promise<{ pid: number; mainClass: string }> {
  if (target.pid === undefined && !target.mainClass) {
    throw new DvmError('DVM_ACTION_INPUT_INVALID', 'give the JVM as pid or mainClass', {
      fix: 'Pass --param pid=1234 or --param mainClass=com.example.App (see `jcmd -l`).',
      details: { origin: 'user' },
    });
  }
  const running = (await jcmd(['-l'], context))
    .split('\n')
    .map((line) => /^(\d+) (\S*)/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && !m[2].includes('sun.tools.jcmd.JCmd'))
    .map((m) => ({ pid: Number(m[1]), mainClass: m[2] || '(unknown)' }));
  const matches =
    target.pid !== undefined
      ? running.filter((j) => j.pid === target.pid)
      : running.filter(
          (j) => j.mainClass === target.mainClass || j.mainClass.endsWith(`.${target.mainClass}`),
        );
  const listing = running.map((j) => `${j.pid} ${j.mainClass}`).join(', ') || 'none';
  if (matches.length === 0) {
    throw new DvmError(
      'DVM_TARGET_NOT_FOUND',
      `no JVM ${target.pid !== undefined ? `with pid ${target.pid}` : `runs ${target.mainClass}`}; running: ${listing}`,
      {
        fix: 'Pick one of the running JVMs.',
        details: { origin: 'user' },
      },
    );
  }
  if (matches.length > 1) {
    throw new DvmError(
      'DVM_AMBIGUOUS',
      `${matches.length} JVMs run ${target.mainClass}: ${matches.map((j) => j.pid).join(', ')}`,
      {
        fix: 'Pass the pid instead.',
        details: { origin: 'user' },
      },
    );
  }
  return matches[0];
}
