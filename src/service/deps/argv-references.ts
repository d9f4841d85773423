// The `$(…)` references a Dependency's argv may use: one grammar for apply-time checks and start-time substitution.

/** `$(kind)` or `$(kind.key)`, anywhere inside an argv element. */
export const REFERENCE = /\$\(([a-zA-Z]+)(?:\.([A-Za-z0-9_-]+))?\)/g;

/** The names a definition declares, that references must match. */
export interface Declared {
  ports: ReadonlySet<string>;
  volumes: ReadonlySet<string>;
}

/** What is wrong with one reference against what the definition declares, or undefined when it is valid. */
export function referenceProblem(
  kind: string,
  key: string | undefined,
  declared: Declared,
): string | undefined {
  switch (kind) {
    case 'port':
      if (key) return 'takes no name';
      return declared.ports.size === 0 ? 'the definition has no ports' : undefined;
    case 'ports':
      return key && declared.ports.has(key)
        ? undefined
        : `the definition has no container port ${key ?? ''}`.trim();
    case 'volumes':
      return key && declared.volumes.has(key) ? undefined : `the definition has no volume "${key ?? ''}"`;
    case 'env':
    case 'secret':
      return key ? undefined : 'needs a variable name';
    default:
      return `"${kind}" is not $(port), $(ports.N), $(env.NAME), $(volumes.NAME) or $(secret.NAME)`;
  }
}
