import { DvmError } from '../errors/dvm-error.ts';
import { homeConfigPath, readHomeConfig } from '../service/home-config.ts';
import { type AlertRule, alertRulesSetting } from './audit/audit-alerts.ts';
import { DEFAULT_FOLLOW_LIMITS } from './execute/follow-limits.ts';
import { type AgentLimits, limitsSetting } from './limits-setting.ts';
import { environmentsSetting } from './policy/environment-binding.ts';
import { DEFAULT_CONNECTION_LIMITS } from './server/connection-limits.ts';
import { allowedHostsSetting } from './server/host-check.ts';
import { retentionSetting } from './store/retention.ts';

/** The agent's settings from a home's config.yaml `agent:` mapping, each checked; unset ones are absent. */
export interface AgentSettings {
  /** `agent.environments`: the environments the agent acts on (unset: whatever the caller declares). */
  environments?: readonly string[];
  /** `agent.retention`: how long ended executions are kept (unset: for ever). */
  retention?: { ms: number; text: string };
  /**
   * `agent.limits`: how many follows run at once, each principal's request rate, and the connections and event
   * streams held open (unset: the defaults).
   */
  limits?: AgentLimits;
  /** `agent.alerts`: audit entries posted to a `notify:` webhook once committed (unset: none). */
  alerts?: AlertRule[];
  /** `agent.allowed_hosts`: Host names the API answers besides its own (unset: none on loopback, any elsewhere). */
  allowedHosts?: readonly string[];
}

// Every setting of the mapping, each read by its own capability's parser (the value, the file for errors).
const SETTINGS = {
  environments: environmentsSetting,
  retention: retentionSetting,
  limits: limitsSetting,
  alerts: alertRulesSetting,
  allowed_hosts: allowedHostsSetting,
} as const;

/**
 * Reads config.yaml's `agent:` mapping (`config` as parsed from `file`): DVM_SCHEMA_INVALID (file, path) when it
 * is not a mapping, names an unknown setting, or holds a bad value.
 */
export function agentSettings(config: Record<string, unknown>, file: string): AgentSettings {
  const agent = config.agent;
  if (agent === undefined || agent === null) return {};
  const known = Object.keys(SETTINGS).join(', ');
  if (typeof agent !== 'object' || Array.isArray(agent)) {
    throw new DvmError('DVM_SCHEMA_INVALID', 'agent must be a mapping of settings', {
      file,
      path: 'agent',
      fix: `Write the agent's settings (${known}) under it, e.g.\nagent:\n  environments: [prod]\n  retention: 30d`,
    });
  }
  const unknown = Object.keys(agent).filter((key) => !Object.hasOwn(SETTINGS, key));
  if (unknown.length > 0) {
    throw new DvmError('DVM_SCHEMA_INVALID', `agent.${unknown[0]} is not a setting (known: ${known})`, {
      file,
      path: `agent.${unknown[0]}`,
      fix: `Remove it, or spell one of the settings: ${known}.`,
    });
  }
  const values = agent as Record<string, unknown>;
  const environments =
    values.environments === undefined ? undefined : SETTINGS.environments(values.environments, file);
  const retention = values.retention === undefined ? undefined : SETTINGS.retention(values.retention, file);
  const limits = values.limits === undefined ? undefined : SETTINGS.limits(values.limits, file);
  const alerts = values.alerts === undefined ? undefined : SETTINGS.alerts(values.alerts, file);
  const allowedHosts =
    values.allowed_hosts === undefined ? undefined : SETTINGS.allowed_hosts(values.allowed_hosts, file);
  return {
    ...(environments ? { environments } : {}),
    ...(retention ? { retention } : {}),
    ...(limits ? { limits } : {}),
    ...(alerts?.length ? { alerts } : {}),
    ...(allowedHosts ? { allowedHosts } : {}),
  };
}

/** One line that says what the settings are, defaults included (dvm serve logs it at start). */
export function describeAgentSettings(settings: AgentSettings): string {
  const follows = settings.limits?.follows ?? DEFAULT_FOLLOW_LIMITS;
  const rate = settings.limits?.rate;
  const { connections, connectionsPerAddress, streams, streamsPerPrincipal } =
    settings.limits ?? DEFAULT_CONNECTION_LIMITS;
  return [
    `follows ${follows.total} at once (${follows.perPrincipal} per principal)`,
    rate ? `requests ${rate.perSecond}/s per principal (burst ${rate.burst})` : 'requests not rate-limited',
    `connections ${connections} at once (${connectionsPerAddress} per address)`,
    `event streams ${streams} at once (${streamsPerPrincipal} per principal)`,
    settings.retention ? `executions kept ${settings.retention.text}` : 'executions kept for ever',
    `environments ${settings.environments?.join(', ') ?? 'any'}`,
    `${settings.alerts?.length ?? 0} audit alert rule(s)`,
    `allowed hosts ${settings.allowedHosts ? settings.allowedHosts.join(', ') || 'none' : 'not set'}`,
  ].join('; ');
}

/** Reads the `agent:` settings of a dvm home's config.yaml (see agentSettings). */
export async function readAgentSettings(home: string): Promise<AgentSettings> {
  return agentSettings(await readHomeConfig(home), homeConfigPath(home));
}
