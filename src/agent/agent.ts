import { readFileSync } from 'node:fs';
import type { DatabaseSync } from 'node:sqlite';
import type { ActionRegistry } from '../actions/registry.ts';
import { homeConfigPath, withConfigLine } from '../service/home-config.ts';
import { loadNotifyConfig } from '../service/run/run-service.ts';
import { type AgentSettings, readAgentSettings } from './agent-settings.ts';
import { AuditAlerts } from './audit/audit-alerts.ts';
import { AuditLog } from './audit/audit-log.ts';
import { Confirmations } from './auth/confirmations.ts';
import { TokenStore } from './auth/tokens.ts';
import { ActionExecutor } from './execute/execute.ts';
import { Executions } from './execute/executions.ts';
import { IdempotencyKeys } from './execute/idempotency.ts';
import { cachedHealth, gitHealth, type HealthCheck, storeHealth } from './health.ts';
import { PolicyEngine } from './policy/policy-engine.ts';
import { loadRedactor } from './redact.ts';
import { createAgentRegistry } from './registry.ts';
import type { AgentServices, HealthReport } from './server/agent-services.ts';
import { agentDbPath, openAgentDb } from './store/agent-db.ts';
import { GroupCommitter } from './store/group-commit.ts';

/** The agent: everything execute() and the API need, opened on one dvm home. */
export interface Agent extends AgentServices {
  home: string;
  version: string;
  db: DatabaseSync;
  policy: PolicyEngine;
  audit: AuditLog;
  registry: ActionRegistry;
  /** config.yaml's `agent:` settings, read once when it opened. */
  settings: AgentSettings;
  /** The audit alerts of `agent.alerts` (absent without rules). */
  alerts?: AuditAlerts;
  /** Stops background work and closes the database. */
  close(): Promise<void>;
}

/** Options of openAgent. */
export interface AgentOptions {
  /** Environment of the actions (DOCKER_HOST, KUBECONFIG, PATH, …); default this process's. */
  env?: Record<string, string>;
  registry?: ActionRegistry;
  /** Extra readiness checks, by connector name (tests). */
  checks?: Record<string, HealthCheck>;
}

function packageVersion(): string {
  try {
    return JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
  } catch {
    return '0.0.0';
  }
}

/** Opens the agent on a dvm home: its database, tokens, policies, audit log and action registry. */
export async function openAgent(home: string, options: AgentOptions = {}): Promise<Agent> {
  const env = options.env ?? (process.env as Record<string, string>);
  const db = openAgentDb(agentDbPath(home));
  try {
    const writer = new GroupCommitter(db);
    const redactor = await loadRedactor(home);
    const audit = new AuditLog(db, { writer, redactor });
    const settings = await readAgentSettings(home);
    const policy = await PolicyEngine.load(home, settings);
    const registry = options.registry ?? createAgentRegistry(home);
    const tokens = new TokenStore(db);
    const confirmations = new Confirmations(db, undefined, tokens);
    const executions = new Executions(db, writer);
    executions.reapInterrupted();
    const notify = await loadNotifyConfig(home, env);
    // Committed audit entries that match agent.alerts go to their webhooks, off the request path.
    const alerts = settings.alerts
      ? new AuditAlerts(settings.alerts, {
          notify,
          riskOf: (action, version) => {
            try {
              return registry.get(action, version).risk;
            } catch {
              return undefined; // an entry for an action (or version) the registry does not have: no risk
            }
          },
          file: homeConfigPath(home),
        })
      : undefined;
    if (alerts) audit.onCommitted((entry) => alerts.handle(entry));
    const executor = new ActionExecutor({
      registry,
      policy,
      confirmations,
      idempotency: new IdempotencyKeys(writer),
      executions,
      audit,
      redact: (value, schema) => redactor.redact(value, schema),
      notify,
      env,
      ...(settings.limits ? { followLimits: settings.limits.follows } : {}),
    });
    const { connectorChecks } = await import('../actions/connectors.ts');
    const checks: Record<string, HealthCheck> = {
      store: storeHealth(db, writer),
      git: gitHealth(env),
      ...connectorChecks(env),
      ...options.checks,
    };
    return {
      home,
      version: packageVersion(),
      db,
      policy,
      audit,
      registry,
      settings,
      ...(alerts ? { alerts } : {}),
      executor,
      tokens,
      confirmations,
      executions,
      writer,
      ...(settings.limits?.rate ? { requestRate: settings.limits.rate } : {}),
      health: cachedHealth(checks) as () => Promise<HealthReport>,
      async close() {
        await executor.stop();
        // The stopped executions' ends are audited too: their alerts get a few seconds to go out.
        await alerts?.close();
        await audit.close?.();
        db.close();
      },
    };
  } catch (error) {
    db.close();
    throw await withConfigLine(error, home);
  }
}
