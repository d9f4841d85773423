import { hostname, loadavg, uptime } from 'node:os';
import type { ActionDefinition, ReadOutput } from '../action.ts';
import { jsonArtifactOf, READ_OUTPUT_SCHEMA } from '../artifact.ts';

/** Summary of system.info: the agent process and its host. */
export type SystemInfo = {
  hostname: string;
  platform: string;
  node: string;
  pid: number;
  processUptimeSeconds: number;
  hostUptimeSeconds: number;
  loadAverage: number[];
  rssBytes: number;
};

// The host name is read once: it does not change under a running agent (and the call is a system call).
const HOSTNAME = hostname();

// Host figures read from /proc at most once per SAMPLE_MS: the kernel updates the load average every 5 s and the
// uptime is reported in whole seconds, so a busy agent answers from the last sample instead of re-reading them.
const SAMPLE_MS = 250;
let sample: { at: number; hostUptimeSeconds: number; loadAverage: number[]; rssBytes: number } | undefined;

function hostSample(): NonNullable<typeof sample> {
  const now = performance.now();
  if (!sample || now - sample.at >= SAMPLE_MS) {
    sample = {
      at: now,
      hostUptimeSeconds: Math.round(uptime()),
      loadAverage: loadavg().map((n) => Math.round(n * 100) / 100),
      rssBytes: process.memoryUsage.rss(),
    };
  }
  return sample;
}

/** `system.info`: a cheap read action describing the agent's process and host (also the API's smoke test). */
export const systemInfoAction: ActionDefinition<Record<string, never>, ReadOutput<SystemInfo>> = {
  name: 'system.info',
  version: '1.0.0',
  description: "The agent's host and process: hostname, platform, Node version, pid, uptimes, load, memory.",
  risk: 'read',
  timeouts: { defaultMs: 5_000, maxMs: 10_000 },
  inputSchema: { type: 'object', additionalProperties: false, properties: {} },
  outputSchema: READ_OUTPUT_SCHEMA,
  async handler(_input, context) {
    const host = hostSample();
    const summary: SystemInfo = {
      hostname: HOSTNAME,
      platform: `${process.platform}-${process.arch}`,
      node: process.version,
      pid: process.pid,
      processUptimeSeconds: Math.round(process.uptime()),
      hostUptimeSeconds: host.hostUptimeSeconds,
      loadAverage: [...host.loadAverage],
      rssBytes: host.rssBytes,
    };
    return {
      summary,
      artifact: jsonArtifactOf(summary, context.maxOutputBytes),
    };
  },
};
