import { DvmError } from '../../errors/dvm-error.ts';
import type { PolicyAnswer } from '../execute/types.ts';
import { ENV } from '../execute/validate-request.ts';

/** The id a decision of the environment binding names in `policy_ids` (not a Cedar policy: it comes first). */
export const ENVIRONMENT_BINDING_ID = 'dvm.environment-binding';

/**
 * The environments this dvm home's agent acts on, from config.yaml `agent.environments` (its value, read by
 * agentSettings). DVM_SCHEMA_INVALID (file, path) when it is not a non-empty list of environment names.
 */
export function environmentsSetting(list: unknown, file: string): readonly string[] {
  const invalid = (path: string, message: string) =>
    new DvmError('DVM_SCHEMA_INVALID', `${path} ${message}`, {
      file,
      path,
      fix: 'Write the environments this agent acts on, e.g.\nagent:\n  environments: [prod]',
    });
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
): (PolicyAnswer & { errors: string[]; fix: string }) | undefined {
  if (environments === undefined || environments.includes(env)) return undefined;
  return {
    decision: 'deny',
    policyIds: [ENVIRONMENT_BINDING_ID],
    reasons: [
      `this agent acts on ${environments.join(', ')} (config.yaml agent.environments), not on "${env}": target.env must name one of them`,
    ],
    errors: [],
    fix: `Name the environment this agent acts on (target.env, --env ${environments[0]}), or send the request to the agent of the environment you meant.`,
  };
}
