/** A `$(tasks.NAME.results.RESULT)` reference found in a string. */
export interface ResultRef {
  task: string;
  result: string;
  /** The whole `$(…)` text. */
  text: string;
}

const RESULT_REF = /\$\(tasks\.([A-Za-z0-9_.-]+?)\.results\.([A-Za-z0-9_-]+)\)/g;

/** Every result reference in a string. */
export function findResultRefs(text: string): ResultRef[] {
  return [...text.matchAll(RESULT_REF)].map((m) => ({ task: m[1], result: m[2], text: m[0] }));
}

/** Every result reference in a command (string or argv), `shell:` script, `when` and env values of a task spec. */
export function resultRefsOf(spec: Record<string, unknown>): ResultRef[] {
  const texts: string[] = [];
  const command = spec.command;
  if (typeof command === 'string') texts.push(command);
  if (Array.isArray(command)) texts.push(...command.map(String));
  if (typeof spec.shell === 'string') texts.push(spec.shell);
  if (typeof spec.when === 'string') texts.push(spec.when);
  if (Array.isArray(spec.env))
    for (const e of spec.env) if (e && typeof e.value === 'string') texts.push(e.value);
  collectStrings(spec.params, texts, 0);
  return texts.flatMap(findResultRefs);
}

// The strings inside an action's params (values, not keys), to find the references among them.
function collectStrings(value: unknown, into: string[], depth: number): void {
  if (typeof value === 'string') into.push(value);
  else if (value !== null && typeof value === 'object' && depth < 32)
    for (const item of Object.values(value)) collectStrings(item, into, depth + 1);
}

/** Replaces result references in every string of an action's params (a copy); other values are kept as they are. */
export function substituteResultsDeep<T>(value: T, replace: (text: string) => string): T {
  if (typeof value === 'string') return replace(value) as T;
  if (Array.isArray(value)) return value.map((item) => substituteResultsDeep(item, replace)) as T;
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = substituteResultsDeep(item, replace);
    return copy as T;
  }
  return value;
}

/**
 * Replaces result references with values. Substitution is textual inside one argv element (or one env value):
 * a value never becomes more than one argument and never passes through a shell.
 */
export function substituteResults(
  text: string,
  lookup: (task: string, result: string) => string | undefined,
): string {
  return text.replace(RESULT_REF, (whole, task: string, result: string) => lookup(task, result) ?? whole);
}
