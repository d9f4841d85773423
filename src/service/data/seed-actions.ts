import { DvmError } from '../../errors/dvm-error.ts';
import type { StoredObject } from '../../store/store.ts';
import type { Platform } from '../platform.ts';
import { storeInput } from './actions.ts';
import { checkStore, type StoreSeeded } from './seed.ts';

/** Runs a data.* action (through the agent's one path) and answers its result; a denial or failure throws. */
export type RunDataAction = (
  action: 'data.truncate' | 'data.insert' | 'data.verify',
  params: Record<string, unknown>,
  dryRun?: boolean,
) => Promise<Record<string, unknown>>;

/**
 * Seeds DataStores as the actions a seed is made of, each run by `run` (so policy decides each and audit records
 * each): per store, in order, data.truncate when `truncate`, data.insert, data.verify when `verify`. Every store is
 * checked (names, records, how the actions name it), and every step decided (a dry run), before the first action
 * runs, so a bad or forbidden one changes nothing; the first action that fails stops the seed.
 */
export async function seedThroughActions(
  platform: Platform,
  stores: readonly StoredObject[],
  options: { truncate: boolean; verify: boolean; confirmed?: boolean },
  run: RunDataAction,
): Promise<StoreSeeded[]> {
  const inputs: Record<string, unknown>[] = [];
  for (const store of stores) {
    await checkStore(platform, store);
    inputs.push({ ...(await storeInput(platform, store)) });
  }
  // Every step is decided (a dry run through the same path) before the first one runs: a forbid on any of them —
  // data.insert, say — stops the seed before a truncate has emptied a store.
  const steps = [
    ...(options.truncate ? (['data.truncate'] as const) : []),
    'data.insert' as const,
    ...(options.verify ? (['data.verify'] as const) : []),
  ];
  for (const params of inputs) {
    for (const action of steps) {
      const decided = await run(action, params, true);
      const store = String(params.store ?? 'the store');
      if (decided.run_decision === 'deny') {
        throw new DvmError('DVM_FORBIDDEN', `policy denies ${action} on ${store}; nothing was seeded`, {
          fix: `See the decision with \`dvm policy test --action ${action}\`, or ask an admin to change the policy.`,
        });
      }
      // A gate met halfway would stop the seed after a truncate: one that cannot be met here stops it now.
      if (
        decided.run_decision === 'confirm' &&
        (decided.run_approval === 'other-principal' || !options.confirmed)
      ) {
        const second = decided.run_approval === 'other-principal';
        throw new DvmError(
          'DVM_CONFIRMATION_REQUIRED',
          `${action} on ${store} needs ${second ? "a second principal's approval" : 'confirmation'}; nothing was seeded`,
          {
            fix: second
              ? `A seed cannot wait for an approval: run its steps with \`dvm action run ${action}\` (another principal approves each), or ask an admin to change the policy.`
              : 'Pass --yes to confirm every step of the seed up front (the policy must still allow each).',
          },
        );
      }
    }
  }
  const seeded: StoreSeeded[] = [];
  for (const [i, store] of stores.entries()) {
    const params = inputs[i] as Record<string, unknown>;
    const started = performance.now();
    const truncated = options.truncate ? await run('data.truncate', params) : undefined;
    const inserted = await run('data.insert', params);
    const verified = options.verify ? await run('data.verify', params) : undefined;
    seeded.push({
      store: store.name,
      target: String(inserted.target),
      table: String(inserted.table),
      records: Number(inserted.records),
      // The beforeSeed truncate ran: the store was empty before the insert (a table not created yet was already).
      truncated: truncated !== undefined,
      ...(verified ? { verified: { rows: Number(verified.rows), missing: Number(verified.missing) } } : {}),
      durationMs: Math.round(performance.now() - started),
    });
  }
  return seeded;
}
