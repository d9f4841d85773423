import { DvmError } from '../errors/dvm-error.ts';

/** The target of an action: its environment and any other `KEY=VALUE` the policy may look at. */
export type TargetFlags = { env: string; [key: string]: unknown };

/**
 * Builds a target from `--env` (default `dev`) and repeated `--target KEY=VALUE` flags. A key given twice with two
 * values — `--env prod --target env=dev` too — is DVM_USAGE: which one the action acts on is never a silent choice.
 */
export function targetFromFlags(env: string | undefined, pairs: readonly string[] | undefined): TargetFlags {
  const given = new Map<string, string>(env === undefined ? [] : [['env', env]]);
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new DvmError('DVM_USAGE', `--target "${pair}" is not KEY=VALUE`, {
        fix: 'Write e.g. --target env=prod.',
      });
    const [key, value] = [pair.slice(0, eq), pair.slice(eq + 1)];
    const before = given.get(key);
    if (before !== undefined && before !== value) {
      const flag = (v: string) => (key === 'env' && v === env ? `--env ${v}` : `--target ${key}=${v}`);
      throw new DvmError(
        'DVM_USAGE',
        `the target's ${key} is given twice: ${flag(before)} and ${flag(value)}`,
        {
          fix: `Give ${key} once.`,
        },
      );
    }
    given.set(key, value);
  }
  // env first, then the other keys in the order given.
  return {
    env: given.get('env') ?? 'dev',
    ...Object.fromEntries([...given].filter(([key]) => key !== 'env')),
  };
}
