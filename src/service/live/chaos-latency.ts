import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { waitHealthy } from '../../runtime/health-probe.ts';
import { freePort } from '../../runtime/port-holder.ts';
import { readJson, writeJsonAtomic } from '../../runtime/process/state-files.ts';
import type { DependencyInstance } from '../deps/instances.ts';
import { type DepsContext, readRecord } from '../deps/lifecycle.ts';
import type { Platform } from '../platform.ts';
import { deployApp } from './deploy.ts';
import { liveAppsIn } from './live-apps.ts';

const PROXY_MAIN = fileURLToPath(new URL('../../runtime/latency-proxy-main.ts', import.meta.url));

/** An active latency injection on a dependency instance. */
export interface ChaosLatencyRecord {
  instance: string;
  proxyPort: number;
  latencyMs: number;
  jitterMs: number;
  since: string;
}

const chaosPath = (home: string, id: string) => join(home, 'deps', `chaos-latency-${id}.json`);
const proxyId = (id: string) => `chaos-latency-${id}`;

/** Where live apps must connect for each dependency under latency chaos: instance id → the proxy. */
export function chaosOverrides(
  home: string,
  instances: DependencyInstance[],
): Record<string, { host: string; port: number }> {
  const out: Record<string, { host: string; port: number }> = {};
  for (const instance of instances) {
    const record = readJson<ChaosLatencyRecord>(chaosPath(home, instance.id));
    if (record) out[instance.id] = { host: '127.0.0.1', port: record.proxyPort };
  }
  return out;
}

// Redeploys the deployed apps that use the instance, so their injected settings follow the chaos state.
async function redeployUsers(
  platform: Platform,
  deps: DepsContext,
  instance: DependencyInstance,
): Promise<string[]> {
  const names: string[] = [];
  for (const live of await liveAppsIn(platform, instance.placement)) {
    const record = readRecord(deps.home, live.id);
    if (!record || !live.dependencies.some((d) => d.id === instance.id)) continue;
    await deployApp(deps, live, { runtime: record.runtime });
    names.push(live.app.name);
  }
  return names;
}

/**
 * Turns latency chaos on (a supervised TCP proxy in front of the instance; the live apps using it are redeployed
 * to connect through it) or off (proxy removed, apps redeployed with the direct settings). With durationMs it
 * waits that long and turns it off again.
 */
export async function chaosLatency(
  platform: Platform,
  deps: DepsContext,
  instance: DependencyInstance,
  options: { latencyMs: number; jitterMs: number; off?: boolean; durationMs?: number; signal?: AbortSignal },
): Promise<Record<string, unknown>> {
  const runtime = deps.runtime('process');
  const turnOff = async () => {
    await runtime.remove(proxyId(instance.id));
    rmSync(chaosPath(deps.home, instance.id), { force: true });
    return redeployUsers(platform, deps, instance);
  };
  if (options.off) return { target: instance.name, state: 'off', apps: await turnOff() };
  const target = instance.ports[0]?.hostPort ?? 0;
  const existing = readJson<ChaosLatencyRecord>(chaosPath(deps.home, instance.id));
  const proxyPort = existing?.proxyPort ?? (await freePort());
  const argv = [
    process.execPath,
    '--disable-warning=ExperimentalWarning',
    PROXY_MAIN,
    '--target',
    `127.0.0.1:${target}`,
    '--listen',
    String(proxyPort),
    '--latency',
    String(options.latencyMs),
    '--jitter',
    String(options.jitterMs),
  ];
  const base = {
    id: proxyId(instance.id),
    owner: `latency proxy of ${instance.name}`,
    argv,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    ports: [{ containerPort: proxyPort, hostPort: proxyPort }],
    volumes: [],
    restart: 'always' as const,
  };
  await runtime.start({
    ...base,
    specHash: createHash('sha256').update(JSON.stringify(base)).digest('hex').slice(0, 16),
  });
  await waitHealthy({
    tcp: { host: '127.0.0.1', port: proxyPort },
    intervalMs: 50,
    timeoutMs: 1000,
    retries: 3,
    startPeriodMs: 5000,
  });
  const record: ChaosLatencyRecord = {
    instance: instance.id,
    proxyPort,
    latencyMs: options.latencyMs,
    jitterMs: options.jitterMs,
    since: new Date().toISOString(),
  };
  writeJsonAtomic(chaosPath(deps.home, instance.id), record);
  const apps = await redeployUsers(platform, deps, instance);
  if (options.durationMs === undefined) return { target: instance.name, state: 'on', ...record, apps };
  try {
    await sleep(options.durationMs, undefined, options.signal ? { signal: options.signal } : {});
  } finally {
    await turnOff();
  }
  return {
    target: instance.name,
    state: 'off',
    proxyPort,
    latencyMs: options.latencyMs,
    jitterMs: options.jitterMs,
    apps,
    lastedMs: options.durationMs,
  };
}
