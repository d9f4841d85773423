import { Cron } from 'croner';
import type { Platform } from '../platform.ts';
import { backupInstance, scheduledBackups } from './backups.ts';

/** What the backup scheduler reports: a backup done or failed. */
export type BackupEvent =
  | { type: 'backup'; volume: string; instance: string; file: string; bytes: number; pruned: number }
  | { type: 'backup-failed'; volume: string; instance: string; message: string }
  | { type: 'backup-invalid'; volume: string; message: string };

/**
 * Arms one cron per Volume with `backup.enabled` (rereading the store every reloadIntervalMs, so applied or
 * changed Volumes take effect): each firing backs up the instance that uses the volume and prunes backups older
 * than `retention`. Runs inside `dvm serve`.
 */
export class BackupScheduler {
  readonly #platform: Platform;
  readonly #listener: (event: BackupEvent) => void;
  readonly #reloadMs: number;
  readonly #armed = new Map<string, { config: string; cron: Cron }>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    platform: Platform,
    options: { listener: (event: BackupEvent) => void; reloadIntervalMs?: number },
  ) {
    this.#platform = platform;
    this.#listener = options.listener;
    this.#reloadMs = options.reloadIntervalMs ?? 2000;
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

  /** Disarms everything. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    for (const { cron } of this.#armed.values()) cron.stop();
    this.#armed.clear();
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
        const cron = new Cron(entry.schedule, { protect: true }, async () => {
          try {
            const result = await backupInstance(
              this.#platform.home,
              entry.instance,
              entry.retentionMs === undefined ? {} : { retentionMs: entry.retentionMs },
            );
            this.#listener({
              type: 'backup',
              volume: entry.volume,
              instance: entry.instance.name,
              file: result.file,
              bytes: result.bytes,
              pruned: result.pruned.length,
            });
          } catch (error) {
            this.#listener({
              type: 'backup-failed',
              volume: entry.volume,
              instance: entry.instance.name,
              message: (error as Error).message,
            });
          }
        });
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
