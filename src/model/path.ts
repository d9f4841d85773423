/** One step of a path into an object: a key or a list index. */
export type PathSegment = string | number;

/** A path as users read it: `spec.tasks[2].dependsOn`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${segment}` : segment;
  }
  return out;
}

/** The segments of a path as formatPath writes it: `agent.alerts[0].notify` is agent, alerts, 0, notify. */
export function parsePath(path: string): PathSegment[] {
  return path
    .split(/\.|\[(\d+)\]/)
    .filter((part) => part !== undefined && part !== '')
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}
