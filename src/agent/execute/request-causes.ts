import type { ActionRegistry } from '../../actions/registry.ts';
import { DvmError, isDvmError } from '../../errors/dvm-error.ts';

/**
 * An invalid execute request's DVM_REQUEST_INVALID with its params' violations added (paths under `params.`), so
 * one answer lists every problem of the body: the envelope's (target, timeout, …) and the action input's. Returns
 * `error` unchanged when the action or its params cannot be checked (unknown action, params no object).
 */
export function withParamCauses(error: unknown, body: unknown, registry: ActionRegistry): unknown {
  if (!isDvmError(error) || error.code !== 'DVM_REQUEST_INVALID') return error;
  const { action, version, params } = (body ?? {}) as Record<string, unknown>;
  if (typeof action !== 'string' || (version !== undefined && typeof version !== 'string')) return error;
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params)))
    return error;
  if (error.causes.some((c) => c.path === 'action' || c.path === 'version' || c.path?.startsWith('params')))
    return error;
  let inputCauses: DvmError['causes'];
  try {
    const definition = registry.get(action, version);
    registry.validateInput(definition, structuredClone(params ?? {}));
    return error;
  } catch (input) {
    if (!isDvmError(input) || input.code !== 'DVM_ACTION_INPUT_INVALID') return error;
    inputCauses = input.causes.map((c) => ({ ...c, path: c.path ? `params.${c.path}` : 'params' }));
  }
  const causes = [...error.causes, ...inputCauses];
  return new DvmError('DVM_REQUEST_INVALID', `the execute request is not valid: ${causes.length} problems`, {
    fix: 'Fix each field listed (the causes; details.causes in an API answer).',
    causes,
  });
}
