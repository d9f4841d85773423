// One-time steps of a dependency instance on the process runtime: volumes owned by the service user, init
// (like initdb) while the first volume is empty, setup (like createdb) after the first healthy start.
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DvmError } from '../../errors/dvm-error.ts';
import { lookupUser } from '../../runtime/process/proc.ts';
import type { DependencyInstance } from './instances.ts';
import { resolveBinary, searchPath, substitute, substitutionsFor } from './service-spec.ts';

type Spec = Record<string, unknown>;

function runAsIds(user: string | undefined): { uid?: number; gid?: number } {
  if (!user || process.getuid?.() !== 0) return {};
  return lookupUser(user) ?? {};
}

function runHostCommand(
  argv: string[],
  env: Record<string, string>,
  ids: { uid?: number; gid?: number },
  cwd: string,
) {
  return new Promise<{ code: number; output: string }>((resolve) => {
    execFile(
      argv[0] ?? '',
      argv.slice(1),
      { env, cwd, timeout: 120_000, maxBuffer: 4 << 20, ...ids },
      (error, stdout, stderr) => {
        const code = error
          ? typeof (error as { code?: unknown }).code === 'number'
            ? Number((error as { code?: number }).code)
            : 127
          : 0;
        resolve({ code, output: `${stdout}${stderr}`.trim() });
      },
    );
  });
}

/** Lets another user traverse (not list) the directories from `path` up to and including `top`. */
function allowTraverse(path: string, top: string): void {
  for (let dir = path; ; dir = dirname(dir)) {
    try {
      chmodSync(dir, statSync(dir).mode | 0o111);
    } catch {}
    if (dir === top || dir === dirname(dir) || !dir.startsWith(top)) return;
  }
}

/** Creates the instance's volumes (owned by the service user when dvm runs as root); true when the first is empty. */
export function prepareVolumes(
  home: string,
  instance: DependencyInstance,
  user: string | undefined,
): boolean {
  const ids = runAsIds(user);
  let empty = false;
  instance.volumes.forEach((v, i) => {
    // Parents stay traversable (0755) for a service user; the volume itself is private to it.
    mkdirSync(dirname(v.hostPath), { recursive: true });
    mkdirSync(v.hostPath, { recursive: true, mode: 0o700 });
    if (ids.uid !== undefined && ids.gid !== undefined) {
      chownSync(v.hostPath, ids.uid, ids.gid);
      allowTraverse(dirname(v.hostPath), home);
    }
    if (i === 0) empty = readdirSync(v.hostPath).length === 0;
  });
  return empty;
}

/** Runs a definition's init or setup steps on the host, as the service user, with secrets in 0600 files. */
export async function runSteps(
  ctx: { home: string; log?: (line: string) => void },
  instance: DependencyInstance,
  steps: string[][],
  what: 'init' | 'setup',
) {
  const process_ = (instance.definition.process ?? {}) as Spec;
  const user = process_.user as string | undefined;
  const ids = runAsIds(user);
  const secretsDir = join(ctx.home, 'deps', `${instance.id}.secrets`);
  const values = {
    ...substitutionsFor(instance, 'process'),
    secretFile: (name: string) => {
      mkdirSync(dirname(secretsDir), { recursive: true });
      mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
      const file = join(secretsDir, name);
      writeFileSync(file, instance.env[name] ?? '', { mode: 0o600 });
      if (ids.uid !== undefined && ids.gid !== undefined) {
        chownSync(secretsDir, ids.uid, ids.gid);
        allowTraverse(dirname(secretsDir), ctx.home);
        chownSync(file, ids.uid, ids.gid);
      }
      return file;
    },
  };
  const owner = `dependency ${instance.name} (${instance.scope})`;
  const path = searchPath(instance.definition);
  const env = { PATH: path, LANG: 'C.UTF-8', ...instance.env };
  const cwd = instance.volumes[0]?.hostPath ?? ctx.home;
  try {
    for (const step of steps) {
      const argv = resolveBinary(substitute(step, values, owner), path);
      ctx.log?.(`${instance.name}: ${what} ${argv[0]?.split('/').pop()}`);
      const { code, output } = await runHostCommand(argv, env, ids, cwd);
      // A step is idempotent by contract; one that finds its work done ("already exists") counts as done.
      if (code !== 0 && !(what === 'setup' && /already exists/i.test(output))) {
        throw new DvmError(
          'DVM_DEPENDENCY_INIT',
          `${owner}: ${what} step ${argv[0]} exited ${code}: ${output.slice(-800)}`,
          {
            path: `spec.process.${what}`,
            fix: 'Fix the command or the data directory and start it again (a failed init leaves the volume empty).',
          },
        );
      }
    }
  } finally {
    rmSync(secretsDir, { recursive: true, force: true });
  }
}
