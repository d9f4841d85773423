import { readFileSync } from 'node:fs';
import type { DatabaseSync } from 'node:sqlite';
import type { ActionRegistry } from '../actions/registry.ts';
import { homeConfigPath, withConfigLine } from '../service/home-config.ts';
import { type AgentConfig, readAgentConfig } from './agent-config.ts';
import type { AgentSettings } from './agent-settings.ts';
import { AuditAlerts } from './audit/audit-alerts.ts';
import { AuditLog } from './audit/audit-log.ts';
import { Confirmations } from './auth/confirmations.ts';
import { TokenStore } from './auth/tokens.ts';
import { ActionExecutor } from './execute/execute.ts';
import { Executions } from './execute/executions.ts';
import { IdempotencyKeys } from './execute/idempotency.ts';
import { cachedHealth, gitHealth, type HealthCheck, storeHealth } from './health.ts';
import { PolicyEngine } from './policy/policy-engine.ts';
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
  /** config.yaml's `agent:` settings in force: read when it opened, or at the last reconfigure(). */
  readonly settings: AgentSettings;
  /** The audit alerts of `agent.alerts` (no rules: entries are not looked at). */
  alerts: AuditAlerts;
  /**
   * Applies a config.yaml read again (readAgentConfig) to the requests that start from now on: redaction, notify
   * webhooks, environments, limits, retention and alert rules; returns warnings for what it loosened (a binding
   * removed or widened, fewer redaction patterns). An alert rule whose webhook is missing is DVM_SCHEMA_INVALID, and
   * then nothing changes.
   */
  reconfigure(config: AgentConfig): string[];
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
    const config = await readAgentConfig(home, env);
    let { redactor, settings, patterns } = config;
    const audit = new AuditLog(db, { writer, redactor });
    const policy = await PolicyEngine.load(home, settings);
    const registry = options.registry ?? createAgentRegistry(home);
    const tokens = new TokenStore(db);
    const confirmations = new Confirmations(db, undefined, tokens);
    const executions = new Executions(db, writer, audit);
    // Committed audit entries that match agent.alerts go to their webhooks, off the request path.
    const alerts = new AuditAlerts(settings.alerts ?? [], {
      notify: config.notify,
      riskOf: (action, version) => {
        try {
          return registry.get(action, version).risk;
        } catch {
          return undefined; // an entry for an action (or version) the registry does not have: no risk
        }
      },
      file: homeConfigPath(home),
    });
    // Entries are handed to the alerts only while there are rules (each handed entry costs a copy).
    let stopAlerting: (() => void) | undefined;
    const listenForAlerts = () => {
      if (alerts.rules.length > 0) stopAlerting ??= audit.onCommitted((entry) => alerts.handle(entry));
      else {
        stopAlerting?.();
        stopAlerting = undefined;
      }
    };
    listenForAlerts();
    // After the alerts listen: an execution a crash interrupted is audited `failed`, and alerted like any other.
    executions.reapInterrupted();
    const executor = new ActionExecutor({
      registry,
      policy,
      confirmations,
      idempotency: new IdempotencyKeys(writer),
      executions,
      audit,
      redact: (value, schema) => redactor.redact(value, schema),
      notify: config.notify,
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
      get settings() {
        return settings;
      },
      alerts,
      reconfigure(next: AgentConfig) {
        // First what can refuse the new configuration, so a refused one changes nothing.
        alerts.configure(next.settings.alerts ?? [], next.notify);
        const warnings = loosened(settings.environments, patterns, next);
        listenForAlerts();
        // Redaction is synchronous: nothing is using the old redactor's worker now.
        if (redactor !== next.redactor) redactor.close?.();
        redactor = next.redactor;
        audit.useRedactor(next.redactor);
        executor.reconfigure({
          notify: next.notify,
          ...(next.settings.limits ? { followLimits: next.settings.limits.follows } : {}),
        });
        policy.useEnvironments(next.settings.environments);
        settings = next.settings;
        patterns = next.patterns;
        return warnings;
      },
      executor,
      tokens,
      confirmations,
      executions,
      writer,
      get requestRate() {
        return settings.limits?.rate;
      },
      get connectionLimits() {
        return settings.limits;
      },
      get allowedHosts() {
        return settings.allowedHosts;
      },
      health: cachedHealth(checks) as () => Promise<HealthReport>,
      async close() {
        await executor.stop();
        // The stopped executions' ends are audited too: their alerts get a few seconds to go out.
        await alerts.close();
        await audit.close?.();
        redactor.close?.();
        db.close();
      },
    };
  } catch (error) {
    db.close();
    throw await withConfigLine(error, home);
  }
}

// What a new configuration loosens, said when it is applied: the environments it acts on, the secrets it redacts.
function loosened(
  environments: readonly string[] | undefined,
  patterns: number,
  next: AgentConfig,
): string[] {
  const warnings: string[] = [];
  const bound = next.settings.environments;
  if (environments && !bound)
    warnings.push('agent.environments was removed: this agent now acts on any environment a request names');
  const added = environments && bound ? bound.filter((env) => !environments.includes(env)) : [];
  if (added.length) warnings.push(`agent.environments now also lets requests act on ${added.join(', ')}`);
  if (next.patterns < patterns)
    warnings.push(
      `redact.patterns went from ${patterns} to ${next.patterns}: fewer secret shapes are redacted`,
    );
  return warnings;
}
