import { DvmError } from '../../errors/dvm-error.ts';
import { type Placement, placementLabel } from '../../model/api.ts';
import type { KindRegistry } from '../../model/kind-registry.ts';
import type { StoredObject } from '../../store/store.ts';
import { resolveObjectRef } from '../apply/check-references.ts';
import type { Platform } from '../platform.ts';
import { View } from '../view.ts';

/** The App a job watches and runs in: its name, where it lives, and its path on the host (`~` expanded). */
export interface JobApp {
  name: string;
  placement: Placement;
  path?: string;
}

function appOf(object: { name: string; placement: Placement; effective: StoredObject['effective'] }): JobApp {
  const path = (object.effective.spec as { path?: unknown } | undefined)?.path;
  return {
    name: object.name,
    placement: object.placement,
    path: typeof path === 'string' ? path.replace(/^~(?=$|\/)/, process.env.HOME ?? '~') : undefined,
  };
}

/**
 * The App of a Job: `spec.app` (resolved upward like any reference), else — when `required` (a commit
 * trigger needs a repository) — the only App of the job's domain. None or several is a coded error.
 */
export async function resolveJobApp(
  platform: Platform,
  job: StoredObject,
  required: boolean,
): Promise<JobApp | undefined> {
  const named = (job.effective.spec as { app?: unknown } | undefined)?.app;
  if (typeof named === 'string') {
    const found = await resolveObjectRef(
      new View(platform.store),
      platform.kinds,
      job.placement,
      ['App'],
      named,
    );
    if ('found' in found) return appOf(found.found);
    if ('ambiguous' in found) {
      throw new DvmError('DVM_AMBIGUOUS', `spec.app "${named}" matches several Apps`, {
        fix: 'Qualify it as DOMAIN/NAME.',
        path: 'spec.app',
      });
    }
    throw new DvmError('DVM_REF_NOT_FOUND', `spec.app: App "${named}" not found`, {
      fix: 'Apply the App, or correct spec.app.',
      path: 'spec.app',
    });
  }
  if (!required) return undefined;
  const domain = { ecosystem: job.placement.ecosystem, domain: job.placement.domain };
  const apps = await platform.store.list({ kinds: ['App'], placement: domain });
  if (apps.length === 1) return appOf(apps[0]);
  throw noSingleApp(domain, apps);
}

// None or several Apps in the job's domain, for a commit trigger without spec.app.
function noSingleApp(domain: Placement, apps: { name: string }[]): DvmError {
  const where = placementLabel(domain);
  if (apps.length === 0) {
    return new DvmError(
      'DVM_REF_NOT_FOUND',
      `no App in ${where} whose repository the commit trigger watches`,
      {
        fix: 'Apply an App with spec.path in the domain, or name one in the Job with spec.app.',
        path: 'spec.app',
      },
    );
  }
  const names = apps.map((a) => a.name).sort();
  return new DvmError(
    'DVM_AMBIGUOUS',
    `${apps.length} Apps in ${where} (${names.join(', ')}): which repository does the commit trigger watch?`,
    { fix: `Set spec.app to one of: ${names.join(', ')}.`, path: 'spec.app' },
  );
}

/** A commit trigger's App without spec.path: there is no repository to watch. */
export function noRepository(app: string): DvmError {
  return new DvmError('DVM_TRIGGER_INVALID', `App ${app} has no spec.path: no repository to watch`, {
    fix: "Set the App's spec.path to its git repository.",
    path: 'spec.trigger',
  });
}

/**
 * Why `dvm serve` could not arm the commit trigger of a Job being applied (`view`: the batch over the store): no
 * App in its domain or several (without spec.app), or an App without spec.path. A spec.app naming nothing is a
 * reference error of apply, not repeated here.
 */
export async function commitTriggerProblem(
  view: View,
  kinds: KindRegistry,
  placement: Placement,
  spec: Record<string, unknown>,
): Promise<DvmError | undefined> {
  let app: { name: string; effective: StoredObject['effective'] } | undefined;
  if (typeof spec.app === 'string') {
    const found = await resolveObjectRef(view, kinds, placement, ['App'], spec.app);
    if (!('found' in found)) return undefined;
    app = found.found;
  } else {
    const domain = { ecosystem: placement.ecosystem, domain: placement.domain };
    const apps = await view.findAll('App', undefined, domain);
    if (apps.length !== 1) return noSingleApp(domain, apps);
    app = apps[0];
  }
  const path = (app.effective.spec as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' && path !== '' ? undefined : noRepository(app.name);
}
