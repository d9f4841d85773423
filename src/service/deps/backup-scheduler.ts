import { randomUUID } from 'node:crypto';
import { Cron } from 'croner';
import type { Agent } from '../../agent/agent.ts';
import { DvmError } from '../../errors/dvm-error.ts';
import type { Platform } from '../platform.ts';
import { type ScheduledBackup, scheduledBackups } from './backups.ts';
import { findInstance } from './instances.ts';

// data.backup's retention param: a number and one unit.
const RETENTION = /^[0-9]+(ms|s|m|h|d)$/;

/**
 * The data.backup params that name a scheduled backup's instance: its name in its scope, or its id when the name
 * finds another instance from there (one of an App's scope); with the Volume's retention.
 */
export async function backupParams(
  platform: Platform,
  entry: ScheduledBackup,
): Promise<Record<string, unknown>> {
  const { instance } = entry;
  const scope = {
    ...(instance.placement.ecosystem ? { ecosystem: instance.placement.ecosystem } : {}),
    ...(instance.placement.domain ? { domain: instance.placement.domain } : {}),
  };
  const byName = await findInstance(platform.store, platform.home, instance.name, scope).catch(
    () => undefined,
  );
  const retention =
    entry.retention !== undefined && RETENTION.test(entry.retention)
      ? entry.retention
      : entry.retentionMs !== undefined
        ? `${entry.retentionMs}ms`
        : undefined;
  return {
    target: byName?.id === instance.id ? instance.name : instance.id,
    ...scope,
    ...(retention ? { retention } : {}),
  };
}

/** What the backup scheduler reports: a backup done or failed. */
export type BackupEvent =
  | { type: 'backup'; volume: string; instance: string; file: string; bytes: number; pruned: number }
  | { type: 'backup-failed'; volume: string; instance: string; message: string }
  | { type: 'backup-invalid'; volume: string; message: string };

/**
 * Arms one cron per Volume with `backup.enabled` (rereading the store every reloadIntervalMs, so applied or
 * changed Volumes take effect): each firing runs the data.backup action through the agent (policy, audit) on the
 * instance that uses the volume, pruning backups older than `retention`. Runs inside `dvm serve`.
 */
export class BackupScheduler {
  readonly #platform: Platform;
  readonly #listener: (event: BackupEvent) => void;
  readonly #reloadMs: number;
  readonly #agent: (() => Promise<Agent>) | undefined;
  readonly #armed = new Map<string, { config: string; cron: Cron }>();
  readonly #firing = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    platform: Platform,
    options: {
      listener: (event: BackupEvent) => void;
      reloadIntervalMs?: number;
      /** The agent the backups run through (`dvm serve`'s, which its API shares); default one per backup. */
      agent?: () => Promise<Agent>;
    },
  ) {
    this.#platform = platform;
    this.#listener = options.listener;
    this.#reloadMs = options.reloadIntervalMs ?? 2000;
    this.#agent = options.agent;
  }

  /** How many volumes are armed. */
  get size(): number {
    return this.#armed.size;
  }

  /** Arms the schedules and keeps them in step with the store. */
  async start(): Promise<void> {
    await this.#reload();
    this.#timer = setInterval(() => void this.#reload().catch(() => {}), this.#reloadMs);
    this.#timer.unref();
  }

  /** Disarms everything, and waits up to `graceMs` for backups running now to end (recorded and audited). */
  async stop(graceMs = 5000): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    for (const { cron } of this.#armed.values()) cron.stop();
    this.#armed.clear();
    if (this.#firing.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(this.#firing),
      new Promise((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
  }

  // One firing: the data.backup action through the agent; its outcome (a denial too) is reported, and the schedule
  // goes on.
  async #fire(entry: ScheduledBackup): Promise<void> {
    const done = (async () => {
      try {
        const result = await this.#backup(entry);
        this.#listener({
          type: 'backup',
          volume: entry.volume,
          instance: entry.instance.name,
          file: String(result.file),
          bytes: Number(result.bytes),
          pruned: Array.isArray(result.pruned) ? result.pruned.length : 0,
        });
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        this.#listener({
          type: 'backup-failed',
          volume: entry.volume,
          instance: entry.instance.name,
          message: `${typeof code === 'string' && code.startsWith('DVM_') ? `${code}: ` : ''}${(error as Error).message}`,
        });
      }
    })();
    this.#firing.add(done);
    await done;
    this.#firing.delete(done);
  }

  // Runs data.backup (with the Volume's retention) through the agent's one path, as the local principal in the
  // pipeline environment — what a Job's action task that dvm serve fires runs as — so policy decides it and audit
  // records it. A confirmation gate cannot be met by a schedule: its challenge is withdrawn and the firing fails.
  async #backup(entry: ScheduledBackup): Promise<Record<string, unknown>> {
    const { LOCAL_PRINCIPAL } = await import('../../agent/auth/principal.ts');
    const { errorFromBody } = await import('../../agent/client/agent-client.ts');
    const { PIPELINE_ENVIRONMENT } = await import('../run/agent-invoke.ts');
    const params = await backupParams(this.#platform, entry);
    const agent = this.#agent
      ? await this.#agent()
      : await import('../../agent/agent.ts').then(({ openAgent }) => openAgent(this.#platform.home));
    try {
      const definition = agent.executor.registry.get('data.backup');
      const response = await agent.executor.execute(
        {
          request_id: `backup-${randomUUID()}`,
          action: definition.name,
          version: definition.version,
          params,
          target: { env: PIPELINE_ENVIRONMENT },
        },
        LOCAL_PRINCIPAL,
        { wait: true },
      );
      if (response.status === 428) {
        const challenge = (
          response.body.details as { challenge?: { confirmation_token?: string } } | undefined
        )?.challenge;
        if (challenge?.confirmation_token) agent.confirmations.withdraw(challenge.confirmation_token);
        throw new DvmError(
          'DVM_CONFIRMATION_REQUIRED',
          `data.backup in ${PIPELINE_ENVIRONMENT} needs confirmation, and a scheduled backup cannot confirm`,
          {
            fix: `Let the policies allow data.backup in env ${PIPELINE_ENVIRONMENT} without confirmation, or turn the Volume's backup schedule off.`,
          },
        );
      }
      if (response.status >= 400) throw errorFromBody(response.status, response.body);
      return (response.body.result ?? {}) as Record<string, unknown>;
    } finally {
      if (!this.#agent) await agent.close();
    }
  }

  async #reload(): Promise<void> {
    const wanted = await scheduledBackups(this.#platform);
    const keys = new Set<string>();
    for (const entry of wanted) {
      const key = `${entry.instance.id}/${entry.volume}`;
      keys.add(key);
      const config = JSON.stringify([
        entry.schedule,
        entry.retentionMs,
        entry.instance.ports,
        entry.instance.env,
      ]);
      if (this.#armed.get(key)?.config === config) continue;
      this.#armed.get(key)?.cron.stop();
      try {
        const cron = new Cron(entry.schedule, { protect: true }, () => this.#fire(entry));
        this.#armed.set(key, { config, cron });
      } catch (error) {
        this.#armed.delete(key);
        this.#listener({
          type: 'backup-invalid',
          volume: entry.volume,
          message: `backup.schedule "${entry.schedule}" does not parse: ${(error as Error).message}`,
        });
      }
    }
    for (const [key, { cron }] of this.#armed) {
      if (keys.has(key)) continue;
      cron.stop();
      this.#armed.delete(key);
    }
  }
}
