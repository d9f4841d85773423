import { DvmError } from '../errors/dvm-error.ts';

/** The target of an action: its environment and any other `KEY=VALUE` the policy may look at. */
export type TargetFlags = { env: string; [key: string]: unknown };

/** Builds a target from `--env` (default `dev`) and repeated `--target KEY=VALUE` flags; later pairs win. */
export function targetFromFlags(env: string | undefined, pairs: readonly string[] | undefined): TargetFlags {
  const target: TargetFlags = { env: env ?? 'dev' };
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new DvmError('DVM_USAGE', `--target "${pair}" is not KEY=VALUE`, {
        fix: 'Write e.g. --target env=prod.',
      });
    target[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return target;
}
