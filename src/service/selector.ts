import { DvmError } from '../errors/dvm-error.ts';

/** One requirement of a label selector. */
export type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'absent' };

/** Parses a kubectl-style label selector: `a=b,c!=d,e in (x,y),f notin (z),g,!h`. */
export function parseSelector(text: string): Requirement[] {
  const requirements: Requirement[] = [];
  const parts = text.match(/[^,(]+(\([^)]*\))?/g) ?? [];
  for (const raw of parts.map((p) => p.trim()).filter(Boolean)) {
    let m = raw.match(/^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/);
    if (m) {
      requirements.push({ key: m[1], op: m[2] === '!=' ? 'notin' : 'in', values: [m[3]] });
      continue;
    }
    m = raw.match(/^([\w./-]+)\s+(in|notin)\s*\(([^)]*)\)$/);
    if (m) {
      requirements.push({
        key: m[1],
        op: m[2] as 'in' | 'notin',
        values: m[3].split(',').map((v) => v.trim()),
      });
      continue;
    }
    m = raw.match(/^(!?)([\w./-]+)$/);
    if (m) {
      requirements.push({ key: m[2], op: m[1] ? 'absent' : 'exists' });
      continue;
    }
    throw new DvmError('DVM_USAGE', `cannot parse label selector "${raw}"`, {
      fix: 'Use key=value, key!=value, key in (a,b), key notin (a,b), key or !key, separated by commas.',
    });
  }
  return requirements;
}

/** True when labels satisfy every requirement. */
export function matchesSelector(requirements: Requirement[], labels: Record<string, string>): boolean {
  return requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case 'absent':
        return !has;
      case 'in':
        return has && r.values.includes(labels[r.key]);
      default:
        return !has || !r.values.includes(labels[r.key]);
    }
  });
}
