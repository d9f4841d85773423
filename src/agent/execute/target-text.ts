import type { ExecuteRequest } from './types.ts';

/** A target as one line for audit entries: `env=prod,namespace=web`. */
export function targetText(target: ExecuteRequest['target']): string {
  return Object.entries(target)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(',');
}
