import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseDuration } from '../../actions/builtin/duration.ts';
import { DvmError } from '../../errors/dvm-error.ts';
import { type DataTarget, dataTargetOf } from '../data/connection.ts';
import { nearest } from '../data/lookup.ts';
import type { Platform } from '../platform.ts';
import { engineOf } from './catalog.ts';
import { type DependencyInstance, listInstances } from './instances.ts';

type Spec = Record<string, unknown>;

/** How to reach an instance's data: its engine (postgres or redis), host port and credentials. */
export function targetOfInstance(instance: DependencyInstance, database?: string): DataTarget {
  const engine = engineOf(instance.definitionName, instance.definition.image);
  if (!engine) {
    throw new DvmError(
      'DVM_DATA_TARGET',
      `backups of ${instance.definitionName} (${String(instance.definition.image ?? '') || 'no image'}) are not implemented; this build backs up PostgreSQL and Redis`,
      {
        path: 'target',
        fix: 'Back up a postgres or redis instance.',
        details: { origin: 'user' },
      },
    );
  }
  const address = { host: '127.0.0.1', port: instance.ports[0]?.hostPort ?? 0 };
  return dataTargetOf(
    engine,
    instance.env,
    address,
    database,
    `${instance.name} (${instance.definitionName})`,
  );
}

/** Directory holding an instance's backups, newest file name last. */
export function backupDir(home: string, instance: DependencyInstance): string {
  return join(home, 'backups', instance.id);
}

/** The backup files of an instance, oldest first. */
export function listBackups(home: string, instance: DependencyInstance): string[] {
  try {
    return readdirSync(backupDir(home, instance))
      .filter((f) => /\.(pgdump|jsonl)$/.test(f))
      .sort()
      .map((f) => join(backupDir(home, instance), f));
  } catch {
    return [];
  }
}

/** Deletes backups older than the retention (the newest one is always kept). */
export function pruneBackups(
  home: string,
  instance: DependencyInstance,
  retentionMs: number,
  now = Date.now(),
): string[] {
  const files = listBackups(home, instance);
  const pruned: string[] = [];
  for (const file of files.slice(0, -1)) {
    if (now - statSync(file).mtimeMs > retentionMs) {
      rmSync(file, { force: true });
      pruned.push(file);
    }
  }
  return pruned;
}

/** Backs an instance up (pg_dump custom format, or Redis DUMP lines) under DVM_HOME/backups/ID, then prunes. */
export async function backupInstance(
  home: string,
  instance: DependencyInstance,
  options: { retentionMs?: number; database?: string } = {},
) {
  const { backupTarget } = await import('../data/backup.ts');
  const target = targetOfInstance(instance, options.database);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = join(
    backupDir(home, instance),
    `${stamp}.${target.engine === 'postgres' ? 'pgdump' : 'jsonl'}`,
  );
  const result = await backupTarget(target, file);
  const pruned = options.retentionMs !== undefined ? pruneBackups(home, instance, options.retentionMs) : [];
  return { instance: instance.name, ...result, pruned };
}

/** Restores an instance from a backup file (default: its newest backup). */
export async function restoreInstance(
  home: string,
  instance: DependencyInstance,
  options: { file?: string; clean?: boolean; database?: string } = {},
) {
  const { restoreTarget } = await import('../data/backup.ts');
  const file = options.file ?? listBackups(home, instance).at(-1);
  if (!file) {
    throw new DvmError('DVM_NOT_FOUND', `${instance.name} has no backups in ${backupDir(home, instance)}`, {
      path: 'file',
      fix: 'Run data.backup first, or pass file=PATH.',
      details: { origin: 'user' },
    });
  }
  const result = await restoreTarget(
    targetOfInstance(instance, options.database),
    file,
    options.clean === undefined ? {} : { clean: options.clean },
  );
  return { instance: instance.name, file, ...result };
}

/** A Volume with scheduled backups, and the instance whose data it holds. */
export interface ScheduledBackup {
  volume: string;
  instance: DependencyInstance;
  schedule: string;
  retentionMs?: number;
  /** `backup.retention` as written (like 7d). */
  retention?: string;
}

/**
 * The Volumes with `backup.enabled` and a schedule, each matched to the instance that uses it: a Volume named
 * INSTANCE-VOLUME, ID-VOLUME or DEFINITION-VOLUME (the seed's postgres-data) in the instance's scope.
 */
export async function scheduledBackups(platform: Platform): Promise<ScheduledBackup[]> {
  const out: ScheduledBackup[] = [];
  for (const instance of await listInstances(platform.store, platform.home, {})) {
    for (const volume of instance.volumes) {
      for (const name of [
        `${instance.name}-${volume.name}`,
        `${instance.id}-${volume.name}`,
        `${instance.definitionName}-${volume.name}`,
      ]) {
        const object = await nearest(platform.store, 'Volume', name, instance.placement);
        const backup = (object?.effective.spec as Spec | undefined)?.backup as Spec | undefined;
        if (!object || !backup?.enabled || typeof backup.schedule !== 'string') continue;
        out.push({
          volume: object.name,
          instance,
          schedule: backup.schedule,
          ...(typeof backup.retention === 'string'
            ? { retentionMs: parseDuration(backup.retention), retention: backup.retention }
            : {}),
        });
        break;
      }
    }
  }
  return out;
}
