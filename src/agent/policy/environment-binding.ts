import { DvmError } from '../../errors/dvm-error.ts';
import type { PolicyAnswer } from '../execute/types.ts';
import { ENV } from '../execute/validate-request.ts';

/** The id a decision of the environment binding names in `policy_ids` (not a Cedar policy: it comes first). */
export const ENVIRONMENT_BINDING_ID = 'dvm.environment-binding';

/**
 * The environments this dvm home's agent acts on, from config.yaml `agent.environments` (a list of names);
 * undefined when unset: then `target.env` is whatever the caller declares. DVM_SCHEMA_INVALID (file, path) when
 * the setting is not a non-empty list of environment names.
 */
export function boundEnvironments(
  config: Record<string, unknown>,
  file: string,
): readonly string[] | undefined {
  const agent = config.agent;
  if (agent === undefined || agent === null) return undefined;
  const invalid = (path: string, message: string) =>
    new DvmError('DVM_SCHEMA_INVALID', `${path} ${message}`, {
      file,
      path,
      fix: 'Write the environments this agent acts on, e.g.\nagent:\n  environments: [prod]',
    });
  if (typeof agent !== 'object' || Array.isArray(agent))
    throw invalid('agent', 'must be a mapping of settings');
  const unknown = Object.keys(agent).filter((key) => key !== 'environments' && key !== 'retention');
  if (unknown.length > 0)
    throw invalid(`agent.${unknown[0]}`, 'is not a setting (known: environments, retention)');
  const list = (agent as { environments?: unknown }).environments;
  if (list === undefined) return undefined;
  if (!Array.isArray(list) || list.length === 0) {
    throw invalid('agent.environments', 'must be a non-empty list of environment names');
  }
  list.forEach((name, i) => {
    if (typeof name !== 'string' || !ENV.test(name)) {
      throw invalid(
        `agent.environments[${i}]`,
        `is not an environment name (like dev, stage or prod): ${JSON.stringify(name)}`,
      );
    }
  });
  return Object.freeze([...new Set(list as string[])]);
}

/**
 * The decision of the environment binding for a request on `env`: a deny (before any policy is asked) when the
 * home binds its agent to other environments, else undefined.
 */
export function bindingDenial(
  environments: readonly string[] | undefined,
  env: string,
): (PolicyAnswer & { errors: string[] }) | undefined {
  if (environments === undefined || environments.includes(env)) return undefined;
  return {
    decision: 'deny',
    policyIds: [ENVIRONMENT_BINDING_ID],
    reasons: [
      `this agent acts on ${environments.join(', ')} (config.yaml agent.environments), not on "${env}": target.env must name one of them`,
    ],
    errors: [],
  };
}
