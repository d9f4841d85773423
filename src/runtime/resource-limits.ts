const BYTES: Record<string, number> = {
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
};

/** Limits a runtime can enforce: memory in bytes, CPU in billionths of a core (Docker's NanoCpus). */
export interface ResourceLimits {
  memoryBytes?: number;
  nanoCpus?: number;
}

/** Parses Kubernetes-style quantities: memory like 512Mi or 2G, CPU like 500m or 2. Unparsable ones are left out. */
export function resourceLimits(resources: { memory?: unknown; cpu?: unknown }): ResourceLimits {
  const out: ResourceLimits = {};
  const memory = /^([0-9.]+)(Ki|Mi|Gi|Ti|K|M|G|T)?$/.exec(String(resources.memory ?? ''));
  if (memory) out.memoryBytes = Math.round(Number(memory[1]) * (memory[2] ? (BYTES[memory[2]] ?? 1) : 1));
  const cpu = /^([0-9.]+)(m)?$/.exec(String(resources.cpu ?? ''));
  if (cpu) out.nanoCpus = Math.round(Number(cpu[1]) * (cpu[2] ? 1e6 : 1e9));
  return out;
}

/** The tighter of two limits per resource (a container never gets more than its runtime allows). */
export function tighter(
  own: ResourceLimits | undefined,
  ceiling: ResourceLimits | undefined,
): ResourceLimits | undefined {
  if (!ceiling) return own;
  const pick = (a?: number, b?: number) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
  const memoryBytes = pick(own?.memoryBytes, ceiling.memoryBytes);
  const nanoCpus = pick(own?.nanoCpus, ceiling.nanoCpus);
  return { ...(memoryBytes ? { memoryBytes } : {}), ...(nanoCpus ? { nanoCpus } : {}) };
}
