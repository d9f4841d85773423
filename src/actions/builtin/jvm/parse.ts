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

/**
 * One Java-level deadlock: each thread, the lock it waits for (a monitor of `synchronized`, or an ownable synchronizer
 * of java.util.concurrent such as a ReentrantLock), the lock's class, and the thread that holds it.
 */
export interface Deadlock {
  threads: {
    name: string;
    /** The address jcmd gives the lock (the monitor, or the synchronizer object). */
    waitingFor: string;
    heldBy: string;
    kind: 'monitor' | 'synchronizer';
    /** The class of the locked object, such as java.lang.Object or java.util.concurrent.locks.ReentrantLock$NonfairSync. */
    lockClass?: string;
  }[];
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
  return { threadCount, daemonCount, states, deadlocks: deadlockBlocks(output).map(parseDeadlock) };
}

// Each deadlock jcmd found opens with this header, whatever the kind of lock and however many it found (it then
// closes the dump with "Found 1 deadlock." or "Found N deadlocks.").
const DEADLOCK_HEADER = /^Found one Java-level deadlock:[ \t]*\n=+[ \t]*\n/m;
const DEADLOCK_COUNT = /^Found (\d+) deadlocks?\.[ \t]*$/m;

// The text of each deadlock report: its list of threads, up to its "Java stack information" part.
function deadlockBlocks(output: string): string[] {
  return output
    .split(DEADLOCK_HEADER)
    .slice(1)
    .map((block) => block.split(/^Java stack information/m)[0]);
}

// One deadlock report, a paragraph per thread:
//   "lock-A":
//     waiting for ownable synchronizer 0x…, (a java.util.concurrent.locks.ReentrantLock$NonfairSync),
//     which is held by "lock-B"
//   "mon-C":
//     waiting to lock monitor 0x… (object 0x…, a java.lang.Object),
//     which is held by "mon-D"
function parseDeadlock(block: string): Deadlock {
  const threads: Deadlock['threads'] = [];
  for (const paragraph of block.split(/^(?="[^\n]*":[ \t]*$)/m)) {
    const name = /^"(.*)":[ \t]*$/m.exec(paragraph);
    if (!name) continue;
    const text = paragraph.slice(name[0].length).replace(/\s+/g, ' ');
    const lock = /waiting (to lock (?:raw )?monitor|for ownable synchronizer) (0x[0-9a-fA-F]+)/.exec(text);
    const lockClass = /\((?:object 0x[0-9a-fA-F]+, )?a ([^)]+)\)/.exec(text);
    const held = /which is held by (?:"(.*)"|(\S+))/.exec(text);
    // name, waitingFor, heldBy first, as before the lock's kind and class were read (readers match on that order).
    threads.push({
      name: name[1],
      waitingFor: lock?.[2] ?? '',
      heldBy: held ? (held[1] ?? held[2]) : '',
      kind: lock?.[1].startsWith('for') ? 'synchronizer' : 'monitor',
      ...(lockClass ? { lockClass: lockClass[1].trim() } : {}),
    });
  }
  return { threads };
}

/**
 * True when `jcmd PID Thread.print` output is whole: it reaches the line jcmd closes the list of threads with
 * ("JNI global refs: N, weak refs: M"; "JNI global references: N" on JDK 8), and when deadlocks follow, it ends with
 * the count line ("Found N deadlocks.") and has as many deadlock reports. A JVM that dies mid-dump cuts it short.
 */
export function threadDumpComplete(output: string): boolean {
  const end = /^JNI global ref(?:erence)?s: \d+/m.exec(output);
  if (!end) return false;
  const rest = output.slice(end.index);
  const blocks = deadlockBlocks(rest).length;
  const count = DEADLOCK_COUNT.exec(rest);
  if (blocks === 0) return count === null;
  return count !== null && Number(count[1]) === blocks && rest.slice(count.index).trim() === count[0].trim();
}

// What a whole answer of each jcmd command jvm.status runs holds (HotSpot, JDK 8+); each also ends with a newline.
const ANSWER_HOLDS: Record<string, RegExp> = {
  'VM.version': /\bversion \S+/,
  'VM.uptime': /^[\d.]+ ?s$/m,
  'GC.heap_info': /^ Metaspace\s+used \d+K/m,
  'VM.flags': /-XX:\S+/,
  'PerfCounter.print': /^sun\.os\.hrt\.frequency=\d+$/m,
};

/**
 * True when a jcmd answer to `command` (VM.version, VM.uptime, GC.heap_info, VM.flags, PerfCounter.print) is whole:
 * it ends with a newline and holds what that command always prints. A JVM that dies mid-answer cuts it short, and
 * jcmd prints what it got and exits 0.
 */
export function jcmdAnswerComplete(command: string, output: string): boolean {
  const answer = body(output);
  return answer.endsWith('\n') && (ANSWER_HOLDS[command]?.test(answer) ?? true);
}
