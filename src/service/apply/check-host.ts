import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { splitCommand } from '../../actions/builtin/argv.ts';
import { formatPath, type PathSegment } from '../../model/path.ts';
import { labelOf, type Pending } from './pending.ts';

type Spec = Record<string, unknown>;

/** What one apply learned about this machine, so 10,000 tasks of one program cost one lookup. */
export type HostCache = Map<string, boolean>;

// A value that is substituted when the task runs: `$(tasks.x.results.y)`, `{{ inputs.x }}`, `$VAR`.
const substituted = (text: string) => /\$\(|\{\{|\$\w/.test(text);

function cached(cache: HostCache, key: string, probe: () => boolean): boolean {
  let known = cache.get(key);
  if (known === undefined) {
    known = probe();
    cache.set(key, known);
  }
  return known;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

// The program a task runs: the first argv element of `command` (list or string); undefined for `shell:`,
// a built-in action, or a command that does not split (the command check reports that one).
function programOf(spec: Spec): string | undefined {
  if (spec.action !== undefined && spec.action !== 'exec') return undefined;
  if (Array.isArray(spec.command)) return typeof spec.command[0] === 'string' ? spec.command[0] : undefined;
  if (typeof spec.command !== 'string') return undefined;
  try {
    return splitCommand(spec.command)[0];
  } catch {
    return undefined;
  }
}

// The PATH the task will search: its own `env` PATH when it sets one plainly, else this process's.
function searchPath(spec: Spec): string {
  const own = Array.isArray(spec.env)
    ? (spec.env as { name?: unknown; value?: unknown }[]).find((e) => e?.name === 'PATH')
    : undefined;
  if (typeof own?.value === 'string' && !substituted(own.value)) return own.value;
  return process.env.PATH ?? '';
}

/**
 * Warnings (never errors: the file may be meant for another machine, or an earlier task may create what is
 * missing) about a Task whose program or working directory does not exist on this machine. Both are checked
 * again when the task runs, where they fail as DVM_EXEC_NOT_FOUND and DVM_WORKDIR_NOT_FOUND.
 */
export function hostWarnings(pending: Pending, cache: HostCache): string[] {
  if (pending.info.kind !== 'Task') return [];
  const spec = (pending.effective.spec ?? {}) as Spec;
  const { doc } = pending;
  // Shaped like apply's errors: CODE FILE:LINE:COLUMN Kind/name PATH: message.
  const warn = (code: string, path: PathSegment[], message: string) => {
    const { line, column } = doc.locate(path);
    return `${code} ${doc.file}:${line}:${column} ${labelOf(pending.object)} ${formatPath(path)}: ${message} (checked again when the task runs)`;
  };
  const warnings: string[] = [];
  const workdir = typeof spec.workdir === 'string' && !substituted(spec.workdir) ? spec.workdir : undefined;
  const absoluteWorkdir = workdir !== undefined && isAbsolute(workdir) ? workdir : undefined;
  const workdirExists =
    absoluteWorkdir !== undefined &&
    cached(cache, `dir:${absoluteWorkdir}`, () => isDirectory(absoluteWorkdir));
  if (absoluteWorkdir && !workdirExists) {
    warnings.push(
      warn(
        'DVM_WORKDIR_NOT_FOUND',
        ['spec', 'workdir'],
        `${absoluteWorkdir} is not a directory on this machine`,
      ),
    );
  }
  const program = programOf(spec);
  if (!program || substituted(program)) return warnings;
  const commandPath: PathSegment[] = Array.isArray(spec.command)
    ? ['spec', 'command', 0]
    : ['spec', 'command'];
  if (program.includes('/')) {
    // A relative program is relative to the working directory: checked only in one the task sets and that exists.
    const file = isAbsolute(program)
      ? program
      : workdirExists && absoluteWorkdir
        ? join(absoluteWorkdir, program)
        : undefined;
    if (file && !cached(cache, `file:${file}`, () => isExecutableFile(file))) {
      warnings.push(
        warn('DVM_EXEC_NOT_FOUND', commandPath, `${file} is not an executable file on this machine`),
      );
    }
    return warnings;
  }
  const path = searchPath(spec);
  const found = cached(cache, `path:${path}\u0000${program}`, () =>
    path
      .split(delimiter)
      .filter(Boolean)
      .some((dir) => isExecutableFile(join(dir, program))),
  );
  if (!found) {
    warnings.push(
      warn('DVM_EXEC_NOT_FOUND', commandPath, `program "${program}" is not on this machine's PATH`),
    );
  }
  return warnings;
}
