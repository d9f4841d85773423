import { existsSync, readdirSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Server as TlsServer } from 'node:tls';
import { DvmError, isDvmError } from '../errors/dvm-error.ts';
import { formatLocation } from '../errors/format.ts';
import { homeConfigStamp, withConfigLine } from '../service/home-config.ts';
import { type Agent, openAgent } from './agent.ts';
import { readAgentConfig } from './agent-config.ts';
import { describeAgentSettings } from './agent-settings.ts';
import type { Principal } from './auth/principal.ts';
import { policiesDir } from './policy/policy-engine.ts';
import { isPolicyFileName } from './policy/policy-file.ts';
import { createAgentServer } from './server/create-server.ts';
import { SettledChange } from './server/settled-change.ts';
import { certificateReloader, describeCertificate, type TlsFiles } from './server/tls-reload.ts';
import { pruneAgentData } from './store/retention.ts';

/** A served agent API: its address, the agent behind it (shared with the jobs' action tasks), and how to stop both. */
export interface AgentApi {
  address: string;
  agent: Agent;
  /** Stops the API (requests that still reach it get 503 DVM_AGENT_STOPPING) and leaves the agent open. */
  stopServing(): Promise<void>;
  /** Stops the API, then closes the agent (its running actions end DVM_CANCELLED). */
  close(): Promise<void>;
}

/** Opens the agent and serves its API on `host:port` (port 0 picks a free one); `close()` stops both. */
export async function startAgentApi(
  home: string,
  listen: { host: string; port: number },
  env: Record<string, string>,
  log: (line: string) => void = () => {},
  tls?: TlsFiles,
): Promise<AgentApi> {
  const agent = await openAgent(home, { env });
  // An alert that could not go out is logged (the audit entry itself is committed either way).
  agent.alerts?.onOutcome((o) => {
    if (o.outcome === 'failed')
      log(`error ${o.error.code}: audit alert ${o.rule} (audit #${o.seq}): ${o.error.message}`);
    if (o.outcome === 'dropped')
      log(`warning: audit alert ${o.rule} (audit #${o.seq}) dropped: too many alerts waiting`);
  });
  // Policy files are re-read when they change (and held still for a look); a broken one is reported and the previous
  // policies stay.
  const policyChange = new SettledChange(policySignature(home));
  // Certificate files are re-read when they change too (a renewed certificate needs no restart).
  let reloadCertificate = () => {};
  // Nothing a policy file does may stop the server: every failure is logged and the previous policies stay.
  // Executions of revoked tokens already being cancelled (each is cancelled, and logged, once).
  const cancelling = new Set<string>();
  const watch = setInterval(() => {
    reloadCertificate();
    try {
      stopRevokedRuns(agent, cancelling, log);
    } catch (error) {
      log(`error looking for executions of revoked tokens: ${(error as Error).message}`);
    }
    try {
      if (!policyChange.check(policySignature(home))) return;
      agent.policy.reload();
      log(
        `policies reloaded: ${agent.policy.policies().length} policies from ${agent.policy.sources().length} file(s)`,
      );
      for (const warning of agent.policy.reloadWarnings) log(`warning: ${warning}`);
    } catch (error) {
      const e = isDvmError(error)
        ? error
        : new DvmError(
            'DVM_POLICY_INVALID',
            `the policies could not be reloaded: ${(error as Error).message}`,
          );
      const { file, line } = e.location;
      log(`error ${e.code} ${file ?? ''}${line ? `:${line}` : ''}: ${e.message}`);
    }
  }, POLICY_POLL_MS);
  watch.unref();
  let app: ReturnType<typeof createAgentServer>;
  try {
    app = createAgentServer(agent, { version: agent.version, ...(tls ? { tls } : {}) });
    if (tls) log(`TLS certificate from ${tls.certPath}: ${describeCertificate(tls.cert)}`);
  } catch (error) {
    clearInterval(watch);
    await agent.close();
    // Only the certificate and key come from the user here; anything else is a bug, reported as such.
    if (!tls) throw error;
    throw new DvmError('DVM_USAGE', `--tls-cert and --tls-key cannot be used: ${(error as Error).message}`, {
      fix: 'Pass a PEM certificate (chain) and the PEM private key that belongs to it, e.g. from openssl req -x509 -newkey ec -nodes.',
    });
  }
  try {
    await app.listen({ host: listen.host, port: listen.port });
  } catch (error) {
    clearInterval(watch);
    await agent.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw new DvmError(
      code === 'EADDRINUSE' ? 'DVM_PORT_IN_USE' : 'DVM_USAGE',
      `cannot listen on ${listen.host}:${listen.port}: ${code === 'EADDRINUSE' ? 'the port is in use' : (error as Error).message}`,
      { fix: 'Pass another --listen HOST:PORT (port 0 picks a free one), or stop what holds the port.' },
    );
  }
  if (tls) reloadCertificate = certificateReloader(app.server as unknown as TlsServer, tls, log);
  // Ended executions past config.yaml agent.retention go at start and then hourly (none without the setting).
  let pruning: Promise<void> = Promise.resolve();
  const prune = () => {
    const { retention } = agent.settings;
    if (retention === undefined) return;
    pruning = pruning.then(async () => {
      try {
        const pruned = await pruneAgentData(agent.db, retention.ms);
        if (pruned.executions + pruned.requestIds + pruned.confirmations > 0)
          log(
            `pruned ${pruned.executions} execution(s), ${pruned.requestIds} request id(s) and ${pruned.confirmations} confirmation(s) older than ${retention.text} (config.yaml agent.retention)`,
          );
      } catch (error) {
        log(
          `error ${isDvmError(error) ? error.code : 'DVM_INTERNAL'}: pruning old executions failed: ${(error as Error).message}`,
        );
      }
    });
  };
  prune();
  const pruneTimer = setInterval(prune, PRUNE_INTERVAL_MS);
  pruneTimer.unref();
  const configWatch = watchConfig(home, env, agent, log, prune);
  const { address, port } = app.server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  let serving: Promise<void> | undefined;
  const stopServing = () => {
    serving ??= (async () => {
      clearInterval(watch);
      clearInterval(pruneTimer);
      clearInterval(configWatch);
      await app.close();
      await pruning;
    })();
    return serving;
  };
  return {
    address: `${tls ? 'https' : 'http'}://${host}:${port}`,
    agent,
    stopServing,
    async close() {
      await stopServing();
      await agent.close();
    },
  };
}

/**
 * Reads config.yaml again whenever it changes (polled like the policy files) and applies it to the agent: redaction,
 * webhooks and agent settings count for the requests that start from then on, and a changed retention prunes at
 * once. A file that does not check out is logged with its line, and the configuration in force stays.
 */
function watchConfig(
  home: string,
  env: Record<string, string>,
  agent: Agent,
  log: (line: string) => void,
  prune: () => void,
): NodeJS.Timeout {
  const change = new SettledChange(homeConfigStamp(home));
  let reading = false;
  const timer = setInterval(() => {
    let now: string;
    try {
      now = homeConfigStamp(home);
    } catch (error) {
      // Unreadable (permissions): reading it says why, and the configuration in force stays.
      now = `unreadable:${(error as NodeJS.ErrnoException).code}`;
    }
    if (reading || !change.check(now)) return;
    // A file that went away is more likely moved aside by a hand or a tool than meant: dropping the environment
    // binding and the redaction patterns for it would fail open.
    if (now === '') {
      log(
        'warning: config.yaml is gone: the configuration in force stays (restart dvm serve to run without one)',
      );
      return;
    }
    reading = true;
    void (async () => {
      try {
        const retention = agent.settings.retention?.ms;
        const read = await readAgentConfig(home, env);
        // Changed again while it was read (three readers): the settled look that follows reads it whole.
        if (homeConfigStamp(home) !== now) return;
        const warnings = agent.reconfigure(read);
        log(`config.yaml reloaded: ${describeAgentSettings(agent.settings)}`);
        for (const warning of warnings) log(`warning: ${warning}`);
        if (agent.settings.retention?.ms !== retention) prune();
      } catch (error) {
        const e = await withConfigLine(error, home);
        // One line, with where each cause is (a YAML syntax error's lines are in its causes).
        const what = isDvmError(e)
          ? [e, ...e.causes].map(
              (c) => `${formatLocation(c instanceof DvmError ? c.location : c)}: ${c.message}`,
            )
          : [(e as Error).message];
        log(
          `error ${isDvmError(e) ? e.code : 'DVM_INTERNAL'} ${what.join('; ')} (the configuration in force stays until the file is fixed)`,
        );
      } finally {
        reading = false;
      }
    })();
  }, POLICY_POLL_MS);
  timer.unref();
  return timer;
}

/** How often `dvm serve` deletes what is past config.yaml `agent.retention`. */
export const PRUNE_INTERVAL_MS = 3_600_000;

/** How often `dvm serve` looks for changed policy files. */
export const POLICY_POLL_MS = 1000;

// Who cancels the executions of a revoked token, as their DVM_CANCELLED error and the serve log name it.
const REVOCATION: Principal = {
  id: 'system',
  name: 'the revocation of its token',
  role: 'admin',
  owner: 'system',
  via: 'local',
};

/**
 * Cancels what revoked tokens still run here (a follow may run for an hour), as Vault revokes a token's leases with
 * it: each ends `failed` with DVM_CANCELLED, recorded and audited like any end. An expired token's runs go on.
 */
function stopRevokedRuns(agent: Agent, cancelling: Set<string>, log: (line: string) => void): void {
  for (const id of agent.executor.runningIds()) {
    if (cancelling.has(id)) continue;
    const principal = agent.executions.get(id)?.principal;
    if (!principal?.startsWith('token/') || !agent.tokens.isRevoked(principal.slice('token/'.length)))
      continue;
    cancelling.add(id);
    log(`cancelling execution ${id}: its token (${principal}) was revoked`);
    agent.executor
      .cancel(id, REVOCATION)
      .catch((error) => log(`error cancelling execution ${id}: ${(error as Error).message}`))
      .finally(() => cancelling.delete(id));
  }
}

// Names, sizes, modification and change times of the policy files: changes when any is added, edited, removed or has
// its mode or owner changed.
function policySignature(home: string): string {
  const dir = policiesDir(home);
  if (!existsSync(dir)) return '';
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    return `unreadable:${(error as NodeJS.ErrnoException).code}`;
  }
  return names
    .filter(isPolicyFileName)
    .sort()
    .map((name) => {
      try {
        const stat = statSync(join(dir, name));
        // ctime too: a chmod or chown that makes an unreadable file readable changes nothing else.
        return `${name}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}:${stat.ino}`;
      } catch {
        return `${name}:gone`;
      }
    })
    .join('|');
}
