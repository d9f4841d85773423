import type { ActionDefinition, ReadOutput } from '../../action.ts';
import { artifactOf, READ_OUTPUT_SCHEMA } from '../../artifact.ts';
import { type HeapInfo, parseFlags, parseHeap, parseUptime, parseVersion } from './parse.ts';
import { JVM_TARGET_PROPERTIES, type JvmTarget, jcmd, resolveJvm } from './target.ts';

/** Summary of jvm.status. */
export type JvmStatus = {
  pid: number;
  mainClass: string;
  version?: string;
  vendor?: string;
  vm?: string;
  uptimeSeconds?: number;
  heap: HeapInfo & { maxBytes?: number };
  gc: { collector: string };
};

/** `jvm.status`: version, uptime, heap and collector of a running JVM, from jcmd. */
export const jvmStatusAction: ActionDefinition<JvmTarget, ReadOutput<JvmStatus>> = {
  name: 'jvm.status',
  version: '1.0.0',
  description: "A running JVM's version, uptime, heap use and garbage collector (jcmd).",
  risk: 'read',
  timeouts: { defaultMs: 30_000, maxMs: 120_000 },
  inputSchema: { type: 'object', additionalProperties: false, properties: JVM_TARGET_PROPERTIES },
  outputSchema: READ_OUTPUT_SCHEMA,
  async handler(input, context) {
    const { pid, mainClass } = await resolveJvm(input, context);
    const id = String(pid);
    const [version, uptime, heap, flags] = await Promise.all([
      jcmd([id, 'VM.version'], context),
      jcmd([id, 'VM.uptime'], context),
      jcmd([id, 'GC.heap_info'], context),
      jcmd([id, 'VM.flags'], context),
    ]);
    const { collector, maxHeapBytes } = parseFlags(flags);
    const summary: JvmStatus = {
      pid,
      mainClass,
      ...parseVersion(version),
      uptimeSeconds: parseUptime(uptime),
      heap: { ...parseHeap(heap), ...(maxHeapBytes ? { maxBytes: maxHeapBytes } : {}) },
      gc: { collector },
    };
    const raw = [version, uptime, heap, flags].map((o) => o.trim()).join('\n\n');
    return { summary, artifact: artifactOf(raw, context.maxOutputBytes, { keep: 'head' }) };
  },
};
