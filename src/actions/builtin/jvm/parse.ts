/** What `jcmd PID VM.version` says. */
export interface JvmVersion {
  vm?: string;
  version?: string;
  vendor?: string;
}

/** Heap figures from `GC.heap_info`, summed over the generations or regions it lists. */
export interface HeapInfo {
  usedBytes: number;
  committedBytes: number;
  metaspaceUsedBytes?: number;
}

/** One Java-level deadlock: each thread, the monitor it waits for, and who holds it. */
export interface Deadlock {
  threads: { name: string; waitingFor: string; heldBy: string }[];
}

/** What a thread dump says. */
export interface ThreadDumpSummary {
  threadCount: number;
  daemonCount: number;
  states: Record<string, number>;
  deadlocks: Deadlock[];
}

const K = 1024;

// jcmd prefixes its answer with "PID:".
function body(output: string): string {
  return output.replace(/^\d+:\n/, '');
}

/** Parses `jcmd PID VM.version`. */
export function parseVersion(output: string): JvmVersion {
  const text = body(output);
  const vm = /^(.*?) version (\S+)/m.exec(text);
  const jdk = /^JDK (\S+)/m.exec(text);
  return {
    ...(vm ? { vm: vm[1].trim() } : {}),
    ...(jdk ? { version: jdk[1] } : vm ? { version: vm[2] } : {}),
    ...(vm ? { vendor: /openjdk/i.test(vm[1]) ? 'OpenJDK' : vm[1].split(' ')[0] } : {}),
  };
}

/** Parses `jcmd PID VM.uptime` into seconds. */
export function parseUptime(output: string): number | undefined {
  const match = /([\d.]+)\s*s/.exec(body(output));
  return match ? Number(match[1]) : undefined;
}

/** Parses `GC.heap_info`: the top-level `total NK, used NK` lines (generations or the G1/ZGC heap), plus metaspace. */
export function parseHeap(output: string): HeapInfo {
  let used = 0;
  let committed = 0;
  for (const line of body(output).split('\n')) {
    // Top-level lines start with one space; nested spaces (eden, from, to, the space) are indented more.
    const top = /^ \S.*?\btotal (\d+)K, used (\d+)K/.exec(line);
    if (top) {
      committed += Number(top[1]) * K;
      used += Number(top[2]) * K;
    }
    const z = /^ ZHeap\s+used (\d+)M, capacity (\d+)M/.exec(line);
    if (z) {
      used += Number(z[1]) * K * K;
      committed += Number(z[2]) * K * K;
    }
  }
  const meta = /Metaspace\s+used (\d+)K/.exec(output);
  return {
    usedBytes: used,
    committedBytes: committed,
    ...(meta ? { metaspaceUsedBytes: Number(meta[1]) * K } : {}),
  };
}

/** The collector and max heap from `VM.flags`. */
export function parseFlags(output: string): { collector: string; maxHeapBytes?: number } {
  const collectors: [RegExp, string][] = [
    [/\+UseG1GC/, 'G1'],
    [/\+UseZGC/, 'ZGC'],
    [/\+UseShenandoahGC/, 'Shenandoah'],
    [/\+UseParallelGC/, 'Parallel'],
    [/\+UseSerialGC/, 'Serial'],
    [/\+UseEpsilonGC/, 'Epsilon'],
  ];
  const collector = collectors.find(([pattern]) => pattern.test(output))?.[1] ?? 'unknown';
  const max = /-XX:MaxHeapSize=(\d+)/.exec(output);
  return { collector, ...(max ? { maxHeapBytes: Number(max[1]) } : {}) };
}

/** One garbage collector's pauses so far, from the JVM's performance counters. */
export type GcCollectorCounts = { name: string; count: number; timeMs: number };

/**
 * The collectors' counts and pause times from `jcmd PID PerfCounter.print` (`sun.gc.collector.N.*`, times in ticks of
 * `sun.os.hrt.frequency`), with the `sun.gc.collector` lines for the raw output; none without performance counters.
 */
export function parseGcCounters(output: string): { collectors: GcCollectorCounts[]; lines: string[] } {
  const lines = output.split('\n').filter((line) => line.startsWith('sun.gc.collector.'));
  const hz = Number(/^sun\.os\.hrt\.frequency=(\d+)/m.exec(output)?.[1] ?? 0);
  const byIndex = new Map<string, Partial<GcCollectorCounts> & { ticks?: number }>();
  for (const line of lines) {
    const m = /^sun\.gc\.collector\.(\d+)\.(name|invocations|time)=(.*)$/.exec(line.trim());
    if (!m) continue;
    const entry = byIndex.get(m[1]) ?? {};
    if (m[2] === 'name') entry.name = m[3].replace(/^"|"$/g, '');
    else if (m[2] === 'invocations') entry.count = Number(m[3]);
    else entry.ticks = Number(m[3]);
    byIndex.set(m[1], entry);
  }
  const collectors = [...byIndex.entries()]
    .sort(([a], [b]) => Number(a) - Number(b))
    .filter(([, e]) => e.name !== undefined && Number.isFinite(e.count))
    .map(([, e]) => ({
      name: e.name as string,
      count: e.count as number,
      timeMs: hz > 0 && Number.isFinite(e.ticks) ? Math.round(((e.ticks as number) / hz) * 1e6) / 1e3 : 0,
    }));
  return { collectors, lines };
}

/** Parses `jcmd PID Thread.print -l`: thread count, states, daemons, and the Java-level deadlocks it found. */
export function parseThreadDump(output: string): ThreadDumpSummary {
  const states: Record<string, number> = {};
  let threadCount = 0;
  let daemonCount = 0;
  const lines = output.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const header = /^"(.+)" #\d+ (daemon )?/.exec(lines[i]);
    if (!header) continue;
    threadCount++;
    if (header[2]) daemonCount++;
    const state = /^\s+java\.lang\.Thread\.State: (\w+)/.exec(lines[i + 1] ?? '');
    if (state) states[state[1]] = (states[state[1]] ?? 0) + 1;
  }
  const deadlocks: Deadlock[] = [];
  const sections = output.split(/^Found one Java-level deadlock:\n=+\n/m).slice(1);
  for (const section of sections) {
    const list = section.split(/^Java stack information/m)[0];
    const threads = [
      ...list.matchAll(/^"(.+)":\n\s+waiting to lock (?:monitor )?(\S+)[^\n]*\n\s+which is held by "(.+)"/gm),
    ].map((m) => ({
      name: m[1],
      waitingFor: m[2].replace(/,$/, ''),
      heldBy: m[3],
    }));
    if (threads.length > 0) deadlocks.push({ threads });
  }
  return { threadCount, daemonCount, states, deadlocks };
}
