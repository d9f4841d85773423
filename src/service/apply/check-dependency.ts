import { REFERENCE, referenceProblem } from '../deps/argv-references.ts';
import { labelOf, type Pending, type ProblemList } from './pending.ts';

type Spec = Record<string, unknown>;

/**
 * Checks the `$(…)` references in a Dependency's argv lists at apply time: `$(port)`, `$(ports.N)` of a declared
 * container port, `$(env.NAME)`, `$(volumes.NAME)` of a declared volume, `$(secret.NAME)`.
 */
export function checkDependencyArgv(pending: Pending, problems: ProblemList): void {
  const spec = (pending.effective.spec ?? {}) as Spec;
  const ports = new Set(
    ((spec.ports ?? []) as { containerPort: number }[]).map((p) => String(p.containerPort)),
  );
  const volumes = new Set(((spec.volumes ?? []) as { name: string }[]).map((v) => v.name));
  const process = (spec.process ?? {}) as Spec;
  const health = (spec.healthCheck ?? {}) as Spec;
  const lists: [unknown, (string | number)[]][] = [
    [spec.command, ['spec', 'command']],
    [process.command, ['spec', 'process', 'command']],
    [health.command, ['spec', 'healthCheck', 'command']],
    ...((process.init ?? []) as unknown[]).map((argv, i): [unknown, (string | number)[]] => [
      argv,
      ['spec', 'process', 'init', i],
    ]),
    ...((process.setup ?? []) as unknown[]).map((argv, i): [unknown, (string | number)[]] => [
      argv,
      ['spec', 'process', 'setup', i],
    ]),
  ];
  for (const [argv, path] of lists) {
    if (!Array.isArray(argv)) continue;
    argv.forEach((arg, index) => {
      for (const [whole, kind, key] of String(arg).matchAll(REFERENCE)) {
        const problem = referenceProblem(kind ?? '', key, { ports, volumes });
        if (problem) {
          problems.add(pending.doc, labelOf(pending.object), [...path, index], {
            code: 'DVM_REF_NOT_FOUND',
            message: `${whole}: ${problem}`,
            fix: 'Use $(port), $(ports.CONTAINER_PORT), $(env.NAME), $(volumes.NAME) or $(secret.ENV_NAME) with names the definition declares.',
          });
        }
      }
    });
  }
}
