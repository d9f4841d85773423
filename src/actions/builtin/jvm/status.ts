import type { ActionDefinition, ReadOutput } from '../../action.ts';
import { artifactOf, READ_OUTPUT_SCHEMA } from '../../artifact.ts';
import { exitedError, incompleteError, watchJvm } from './exit.ts';
import {
  type GcCollectorCounts,
  type HeapInfo,
  jcmdAnswerComplete,
  parseFlags,
  parseGcCounters,
  parseHeap,
  parseUptime,
  parseVersion,
} from './parse.ts';
import { canonicalJvm, JVM_TARGET_PROPERTIES, type JvmTarget, jcmd, resolveJvm } from './target.ts';

/** Summary of jvm.status. */
export type JvmStatus = {
  pid: number;
  mainClass: string;
  version?: string;
  vendor?: string;
  vm?: string;
  uptimeSeconds?: number;
  heap: HeapInfo & { maxBytes?: number };
  /** The collector, and (with the JVM's performance counters, on by default) each one's collections and pause time. */
  gc: { collector: string; collections?: number; pauseMs?: number; collectors?: GcCollectorCounts[] };
};

/** `jvm.status`: version, uptime, heap and collector of a running JVM, from jcmd. */
export const jvmStatusAction: ActionDefinition<JvmTarget, ReadOutput<JvmStatus>> = {
  name: 'jvm.status',
  version: '1.0.0',
  description:
    "A running JVM's version, uptime, heap use and garbage collector, with its collections and pause time (jcmd).",
  risk: 'read',
  timeouts: { defaultMs: 30_000, maxMs: 120_000 },
  inputSchema: { type: 'object', additionalProperties: false, properties: JVM_TARGET_PROPERTIES },
  outputSchema: READ_OUTPUT_SCHEMA,
  canonicalInput: canonicalJvm,
  async handler(input, context) {
    const { pid, mainClass } = await resolveJvm(input, context);
    const id = String(pid);
    const watch = watchJvm(pid);
    const [version, uptime, heap, flags, counters] = await Promise.all([
      jcmd([id, 'VM.version'], context),
      jcmd([id, 'VM.uptime'], context),
      jcmd([id, 'GC.heap_info'], context),
      jcmd([id, 'VM.flags'], context),
      // A JVM run with -XX:-UsePerfData has no counters: its status goes without collection counts.
      jcmd([id, 'PerfCounter.print'], context).catch((error: unknown) => {
        if (context.signal.aborted) throw error;
        return '';
      }),
    ]);
    // A JVM that dies mid-answer leaves jcmd an answer cut short, which it prints and exits 0 on: not a status.
    const answers: [string, string][] = [
      ['VM.version', version],
      ['VM.uptime', uptime],
      ['GC.heap_info', heap],
      ['VM.flags', flags],
      ...(counters === '' ? [] : ([['PerfCounter.print', counters]] as [string, string][])),
    ];
    const cut = answers.find(([command, output]) => !jcmdAnswerComplete(command, output));
    if (cut) {
      if (await watch.exited(context.signal)) throw exitedError(pid, 'jvm.status');
      throw incompleteError(pid, `jcmd ${cut[0]}`, 'what it always prints', cut[1]);
    }
    const { collector, maxHeapBytes } = parseFlags(flags);
    const gc = parseGcCounters(counters);
    const summary: JvmStatus = {
      pid,
      mainClass,
      ...parseVersion(version),
      uptimeSeconds: parseUptime(uptime),
      heap: { ...parseHeap(heap), ...(maxHeapBytes ? { maxBytes: maxHeapBytes } : {}) },
      gc: {
        collector,
        ...(gc.collectors.length > 0
          ? {
              collections: gc.collectors.reduce((sum, c) => sum + c.count, 0),
              pauseMs: Math.round(gc.collectors.reduce((sum, c) => sum + c.timeMs, 0) * 1e3) / 1e3,
              collectors: gc.collectors,
            }
          : {}),
      },
    };
    const raw = [version, uptime, heap, flags, gc.lines.join('\n')]
      .map((o) => o.trim())
      .filter((o) => o !== '')
      .join('\n\n');
    return { summary, artifact: artifactOf(raw, context.maxOutputBytes, { keep: 'head' }) };
  },
};
