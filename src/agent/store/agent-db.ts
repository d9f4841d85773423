import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { openMigratedDatabase } from '../../store/sqlite/open-database.ts';
import { AGENT_MIGRATIONS } from './migrations.ts';

/** Path of the agent database inside a dvm home. */
export function agentDbPath(home: string): string {
  return join(home, 'agent.db');
}

/** Opens (creating and migrating if needed) the agent database; refuses one written by a newer dvm. */
export function openAgentDb(path: string): DatabaseSync {
  return openMigratedDatabase(path, AGENT_MIGRATIONS, { label: 'the agent database' });
}
