import type { ActionDefinition } from '../../actions/action.ts';
import type { Placement } from '../../model/api.ts';
import { openPlatform, type Platform } from '../platform.ts';
import { backupInstance, restoreInstance } from './backups.ts';
import { findInstance, instanceForm } from './instances.ts';

const TARGET = {
  target: {
    type: 'string',
    minLength: 1,
    description: 'The dependency instance (postgres or redis) by name.',
  },
  ecosystem: {
    type: 'string',
    minLength: 1,
    description: 'Ecosystem of the instance (when the name is in several).',
  },
  domain: { type: 'string', minLength: 1, description: 'Domain of the instance.' },
  database: {
    type: 'string',
    minLength: 1,
    description: 'Database (postgres) or database number (redis); default the instance’s own.',
  },
} as const;

type Input = {
  target: string;
  ecosystem?: string;
  domain?: string;
  database?: string;
  file?: string;
  clean?: boolean;
  retention?: string;
};

function scope(input: Input): Placement {
  return {
    ...(input.ecosystem ? { ecosystem: input.ecosystem } : {}),
    ...(input.domain ? { domain: input.domain } : {}),
  };
}

/** data.backup and data.restore: logical backups of a dependency instance (pg_dump / Redis DUMP) under DVM_HOME/backups. */
export function backupActions(home: string): ActionDefinition[] {
  let platform: Promise<Platform> | undefined;
  const open = () => {
    platform ??= openPlatform(home);
    return platform;
  };
  // The platform and the instance an input names.
  const target = async (input: Input) => {
    const p = await open();
    return { home: p.home, instance: await findInstance(p.store, p.home, input.target, scope(input)) };
  };
  const backup: ActionDefinition<Input, Record<string, unknown>> = {
    name: 'data.backup',
    version: '1.0.0',
    description:
      'Back up a dependency instance: pg_dump (custom format) for PostgreSQL, DUMP of every key for Redis.',
    risk: 'write',
    timeouts: { defaultMs: 600_000, maxMs: 7_200_000 },
    inputSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['target'],
      properties: {
        ...TARGET,
        retention: {
          type: 'string',
          pattern: '^[0-9]+(ms|s|m|h|d)$',
          description: 'Delete older backups of it, like 7d.',
        },
      },
    },
    outputSchema: { type: 'object', additionalProperties: true },
    async handler(input) {
      const { home: dir, instance } = await target(input);
      const { parseDuration } = await import('../../actions/builtin/duration.ts');
      return {
        ...(await backupInstance(dir, instance, {
          ...(input.retention ? { retentionMs: parseDuration(input.retention) } : {}),
          ...(input.database ? { database: input.database } : {}),
        })),
      };
    },
  };
  const restore: ActionDefinition<Input, Record<string, unknown>> = {
    name: 'data.restore',
    version: '1.0.0',
    description:
      'Restore a dependency instance from a backup (default its newest): pg_restore --clean, or FLUSHDB + RESTORE.',
    risk: 'destructive',
    timeouts: { defaultMs: 600_000, maxMs: 7_200_000 },
    inputSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['target'],
      properties: {
        ...TARGET,
        file: {
          type: 'string',
          minLength: 1,
          description: 'Backup file (default: the newest of the instance).',
        },
        clean: {
          type: 'boolean',
          description: 'Drop (postgres) or flush (redis) what is there first (default true).',
        },
      },
    },
    outputSchema: { type: 'object', additionalProperties: true },
    async handler(input) {
      const { home: dir, instance } = await target(input);
      return {
        ...(await restoreInstance(dir, instance, {
          ...(input.file ? { file: input.file } : {}),
          ...(input.clean !== undefined ? { clean: input.clean } : {}),
          ...(input.database ? { database: input.database } : {}),
        })),
      };
    },
  };
  // Decided on the instance in its one form (its name and scope, as findInstance reads them): a forbid on
  // `shop-db` holds for its id `quickstart-shop-db` and for an App's alias of it too.
  const canonicalInput = async (input: Input): Promise<Input | undefined> => {
    const p = await open();
    const form = await instanceForm(p.store, p.home, input.target, scope(input));
    if (!form) return undefined;
    const { ecosystem: _e, domain: _d, ...rest } = input;
    return { ...rest, ...form };
  };
  return [backup, restore].map((definition) => ({
    ...definition,
    canonicalInput,
  })) as unknown as ActionDefinition[];
}
