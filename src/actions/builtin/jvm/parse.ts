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

const UNITS: Record<string, number> = { B: 1, K, M: K * K, G: K * K * K };

/**
 * Parses `GC.heap_info`: the heap's top-level lines (generations, the G1, ZGC or Shenandoah heap; indented like its
 * first line: one space up to JDK 24, none on JDK 25), Epsilon's space line, plus metaspace where the JDK prints it
 * there (JDK 8–24).
 */
export function parseHeap(output: string): HeapInfo {
  let used = 0;
  let committed = 0;
  const lines = body(output)
    .split('\n')
    .filter((line) => line.trim() !== '');
  const indent = (line: string) => line.length - line.trimStart().length;
  const top = indent(lines[0] ?? '');
  for (const line of lines) {
    // Nested spaces (eden, from, to, the space, G1's region line) are indented more than the heap's own lines.
    if (indent(line) !== top) continue;
    // "def new generation total NK, used NK" (JDK 8–24), "DefNew total NK, used NK" (25), and G1 on JDK 25:
    // "garbage-first heap total reserved NK, committed NK, used NK".
    const generation = /\btotal (?:reserved \d+K, committed )?(\d+)K, used (\d+)K/.exec(line);
    if (generation) {
      committed += Number(generation[1]) * K;
      used += Number(generation[2]) * K;
    }
    const z = /\bZHeap\s+used (\d+)M, capacity (\d+)M/.exec(line);
    if (z) {
      used += Number(z[1]) * K * K;
      committed += Number(z[2]) * K * K;
    }
  }
  // Shenandoah, under its "Shenandoah Heap" line: " 65536K max, 65536K soft max, 65536K committed, 1280K used".
  const shenandoah = /^\s*\d+ ?[BKMG] max, .*?(\d+) ?([BKMG]) committed, (\d+) ?([BKMG]) used/m.exec(
    body(output),
  );
  if (shenandoah) {
    committed += Number(shenandoah[1]) * UNITS[shenandoah[2]];
    used += Number(shenandoah[3]) * UNITS[shenandoah[4]];
  }
  // Epsilon, under its "Epsilon Heap" line: "space 65536K,   1% used [bottom, top, end)", used being top - bottom.
  const epsilon = /^Epsilon Heap[ \t]*$/m.test(output)
    ? /^\s*space (\d+)K,\s*(\d+)% used(?: \[(0x[0-9a-fA-F]+), ?(0x[0-9a-fA-F]+),)?/m.exec(body(output))
    : null;
  if (epsilon) {
    committed += Number(epsilon[1]) * K;
    used +=
      epsilon[3] !== undefined
        ? Number.parseInt(epsilon[4], 16) - Number.parseInt(epsilon[3], 16)
        : Math.round((Number(epsilon[1]) * K * Number(epsilon[2])) / 100);
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

// The end of a thread's header line, after its name: `" #N [os-tid] daemon prio=… tid=0x… nid=…` for a Java thread
// (`[os-tid]` from JDK 19), `" os_prio=… tid=0x… nid=…` for one of the JVM's own. jcmd prints a name as it is, newlines
// and quotes included: the header's end is at the LAST quote of its line (nothing after the name's closing quote holds
// a quote), so a name on one line may hold any text, `" tid=0x0 nid=1` too.
const HEADER_END =
  /" (#\d+ (?:\[\d+\] )?(daemon )?)?[^"]*\btid=0x[0-9a-fA-F]+ nid=(?:0x[0-9a-fA-F]+|\d+)\b[^"]*$/;
// The line jcmd closes the list of threads with ("JNI global references: N" on JDK 8).
const THREADS_END = /^JNI global ref(?:erence)?s: \d+/;
// How many Java threads the dump lists (JDK 10+: "Threads class SMR info: _java_thread_list=0x…, length=N, …").
const SMR_LENGTH = /^_java_thread_list=0x[0-9a-fA-F]+, length=(\d+),/m;

/** Where a thread dump's list of threads ends, and what that list holds. */
type DumpLayout = {
  threadCount: number;
  daemonCount: number;
  states: Record<string, number>;
  /** The offset of the line that closes the list of threads; undefined when the dump has none (cut short). */
  end?: number;
  /** True when a thread's name spans lines (see `nameSpansLines`): what the dump holds may be misread. */
  nameSpansLines: boolean;
};

// Reads the list of threads line by line. A line that starts with a quote opens a thread's name, which runs (over
// every line a name with newlines takes) up to the line with the header's end: the lines of a name are never read as
// the dump's own. The closing line is the last "JNI global refs" line outside a name: the deadlock reports after it
// open names (`"t1":`) that no header closes, so the names they print are never read as the dump's either.
// A name with newlines is told by: a line of the list of threads that opens a name its header does not close; a
// header whose name did not open on its line (the line does not start with the quote, or the name is empty); or more
// than one closing line. A name's first line can end like a header, and its next lines spell anything: such a dump
// cannot be read for sure (jcmd prints names raw), only told apart.
function layoutOf(output: string): DumpLayout {
  const states: Record<string, number> = {};
  let threadCount = 0;
  let daemonCount = 0;
  let end: number | undefined;
  let inName = false;
  let offset = 0;
  let spans = false;
  let closings = 0;
  let firstOpenName: number | undefined;
  const lines = output.split('\n');
  for (let i = 0; i < lines.length; offset += lines[i].length + 1, i++) {
    const line = lines[i];
    if (THREADS_END.test(line)) closings++;
    if (inName || line.startsWith('"')) {
      const header = HEADER_END.exec(line);
      if (header === null && !inName) firstOpenName ??= offset;
      if (header !== null && (header.index === 0 || !line.startsWith('"'))) spans = true;
      inName = header === null;
      if (!header?.[1]) continue; // a name's line, or a thread of the JVM's own (no #N)
      threadCount++;
      if (header[2]) daemonCount++;
      const state = /^\s+java\.lang\.Thread\.State: (\w+)/.exec(lines[i + 1] ?? '');
      if (state) states[state[1]] = (states[state[1]] ?? 0) + 1;
    } else if (THREADS_END.test(line)) end = offset;
    else if (HEADER_END.test(line)) spans = true; // the end of a header after a name's lines
  }
  if (closings > 1 || (firstOpenName !== undefined && end !== undefined && firstOpenName < end)) spans = true;
  return {
    threadCount,
    daemonCount,
    states,
    ...(end !== undefined ? { end } : {}),
    nameSpansLines: spans,
  };
}

/**
 * Why a thread dump may be misread though jcmd printed it whole, or undefined: a thread's name holds a newline (jcmd
 * prints names as they are, so its lines can imitate the dump's own), or the dump counts more or fewer Java threads
 * than its SMR line says it lists (a whole dump only). `capped`: `output` is part of a longer dump (no count to
 * compare).
 */
export function threadDumpDoubt(output: string, capped = false): string | undefined {
  const layout = layoutOf(output);
  if (layout.nameSpansLines) {
    return "a thread's name holds a newline (jcmd prints names as they are): threadCount, daemonCount, states and deadlocks may be misread";
  }
  const listed = SMR_LENGTH.exec(output);
  // Only of a whole dump: one cut short lists fewer threads than it says, and is told by threadDumpComplete.
  if (!capped && listed && Number(listed[1]) !== layout.threadCount && threadDumpComplete(output)) {
    return `the dump says it lists ${listed[1]} Java threads, ${layout.threadCount} were read: a thread's name may imitate the dump's lines (jcmd prints names as they are), so threadCount, daemonCount, states and deadlocks may be misread`;
  }
  return undefined;
}

/** Parses `jcmd PID Thread.print -l`: thread count, states, daemons, and the Java-level deadlocks it found. */
export function parseThreadDump(output: string): ThreadDumpSummary {
  const { threadCount, daemonCount, states, end } = layoutOf(output);
  return { threadCount, daemonCount, states, deadlocks: deadlocksAfter(output, end) };
}

/**
 * The Java-level deadlocks jcmd reported: read only after the line that closes the list of threads (a thread's name
 * that spells a deadlock report is no report). `output` may be the end of a dump alone, from any line of its threads.
 */
export function parseDeadlocks(output: string): Deadlock[] {
  return deadlocksAfter(output, layoutOf(output).end);
}

function deadlocksAfter(output: string, end: number | undefined): Deadlock[] {
  return end === undefined ? [] : deadlockBlocks(output.slice(end)).map(parseDeadlock);
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
// A paragraph opens at a line that starts with a quote (after the lines of the one before): its name runs up to its
// first indented line, and ends with `":` unless HotSpot cut it (a name of about 2,000 characters or more loses its
// closing `":`, and the `"` that closes it after "which is held by").
function parseDeadlock(block: string): Deadlock {
  const paragraphs: { name: string[]; body: string[] }[] = [];
  for (const line of block.split('\n')) {
    const current = paragraphs.at(-1);
    if (line.startsWith('"') && (current === undefined || current.body.length > 0)) {
      paragraphs.push({ name: [line], body: [] });
    } else if (current && current.body.length === 0 && line !== '' && !/^\s/.test(line)) {
      current.name.push(line); // a name with newlines
    } else current?.body.push(line);
  }
  const threads: Deadlock['threads'] = [];
  for (const paragraph of paragraphs) {
    const name = paragraph.name
      .join('\n')
      .slice(1)
      .replace(/":[ \t]*$/, '');
    const text = paragraph.body.join('\n').replace(/\s+/g, ' ');
    const lock = /waiting (to lock (?:raw )?monitor|for ownable synchronizer) (0x[0-9a-fA-F]+)/.exec(text);
    const lockClass = /\((?:object 0x[0-9a-fA-F]+, )?a ([^)]+)\)/.exec(text);
    // The holder, to the end of its line: "which is held by "name"", or UNKNOWN_owner_addr=0x… without quotes.
    const held = /^\s*which is held by (.*?)[ \t]*$/m.exec(paragraph.body.join('\n'));
    // name, waitingFor, heldBy first, as before the lock's kind and class were read (readers match on that order).
    threads.push({
      name,
      waitingFor: lock?.[2] ?? '',
      heldBy: held ? held[1].replace(/^"(.*)"$|^"(.*)$/, '$1$2') : '',
      kind: lock?.[1].startsWith('for') ? 'synchronizer' : 'monitor',
      ...(lockClass ? { lockClass: lockClass[1].trim() } : {}),
    });
  }
  return { threads };
}

/**
 * True when `jcmd PID Thread.print` output is whole: it reaches the line jcmd closes the list of threads with
 * ("JNI global refs: N, weak refs: M"; "JNI global references: N" on JDK 8; a line of a thread's name does not count),
 * and when deadlocks follow, it ends with the count line ("Found N deadlocks.") and has as many deadlock reports. A
 * JVM that dies mid-dump cuts it short. `output` may be the end of a dump alone, from any line of its threads.
 */
export function threadDumpComplete(output: string): boolean {
  const { end } = layoutOf(output);
  if (end === undefined) return false;
  const rest = output.slice(end);
  const blocks = deadlockBlocks(rest).length;
  const count = DEADLOCK_COUNT.exec(rest);
  if (blocks === 0) return count === null;
  return count !== null && Number(count[1]) === blocks && rest.slice(count.index).trim() === count[0].trim();
}

/**
 * The end of a dump over dvm's cap whose deadlock reports are longer than the end dvm kept (so it holds no closing
 * line of the list of threads): the count jcmd closed the dump with ("Found N deadlocks."), and the reports whole in
 * that end. Undefined when `tail` does not end that way (a dump cut short, or one to read with threadDumpComplete).
 */
export function deadlocksInTail(tail: string): { reported: number; deadlocks: Deadlock[] } | undefined {
  if (layoutOf(tail).end !== undefined) return undefined;
  const count = /^Found (\d+) deadlocks?\.[ \t]*\n?$/m.exec(tail);
  if (!count || tail.slice(count.index).trim() !== count[0].trim()) return undefined;
  return { reported: Number(count[1]), deadlocks: deadlockBlocks(tail).map(parseDeadlock) };
}

// What a whole answer of each jcmd command jvm.status runs holds on every HotSpot JDK 8–25 (each also ends with a
// newline). GC.heap_info: the heap's first line (a generation's or the G1/ZGC heap's "used NK", "Shenandoah Heap",
// "Epsilon Heap"), not its metaspace line, which JDK 25 no longer prints there.
const ANSWER_HOLDS: Record<string, RegExp> = {
  'VM.version': /\bversion \S+/,
  'VM.uptime': /^[\d.]+ ?s$/m,
  'GC.heap_info': /^ ?\S.*(?:\bused \d+[BKMG]\b|\bHeap[ \t]*$)/m,
  'VM.flags': /-XX:\S+/,
  'PerfCounter.print': /^sun\.os\.hrt\.frequency=\d+$/m,
};

/**
 * True when a jcmd answer to `command` (VM.version, VM.uptime, GC.heap_info, VM.flags, PerfCounter.print) is whole:
 * it ends with a newline and holds what that command prints on every JDK 8–25. A JVM that dies mid-answer cuts it
 * short, and jcmd prints what it got and exits 0.
 */
export function jcmdAnswerComplete(command: string, output: string): boolean {
  const answer = body(output);
  if (!answer.endsWith('\n') || !(ANSWER_HOLDS[command]?.test(answer) ?? true)) return false;
  return command !== 'GC.heap_info' || !heapLayoutUpTo24(answer) || /^ Metaspace\s+used \d+K/m.test(answer);
}

// JDK 8–24 lay GC.heap_info out with the heap's lines indented by one space (Epsilon: "Allocation space:" at the
// start of its line), and close it with the Metaspace lines; JDK 25 indents neither and prints no Metaspace there.
function heapLayoutUpTo24(answer: string): boolean {
  const first = answer.split('\n').find((line) => line.trim() !== '') ?? '';
  return /^ \S/.test(first) || /^Allocation space:/m.test(answer);
}
