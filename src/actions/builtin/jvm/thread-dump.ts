import type { ActionDefinition, ReadOutput } from '../../action.ts';
import { artifactOf, READ_OUTPUT_SCHEMA } from '../../artifact.ts';
import { parseThreadDump, type ThreadDumpSummary } from './parse.ts';
import { canonicalJvm, JVM_TARGET_PROPERTIES, type JvmTarget, jcmd, resolveJvm } from './target.ts';

/** `jvm.thread_dump`: a thread dump (jcmd Thread.print -l) with thread states and the deadlocks it found. */
export const jvmThreadDumpAction: ActionDefinition<
  JvmTarget,
  ReadOutput<ThreadDumpSummary & { pid: number; mainClass: string }>
> = {
  name: 'jvm.thread_dump',
  version: '1.0.0',
  description: 'A thread dump of a running JVM: counts by state, deadlocks found, and the raw dump.',
  risk: 'read',
  timeouts: { defaultMs: 30_000, maxMs: 120_000 },
  inputSchema: { type: 'object', additionalProperties: false, properties: JVM_TARGET_PROPERTIES },
  outputSchema: READ_OUTPUT_SCHEMA,
  canonicalInput: canonicalJvm,
  async handler(input, context) {
    const { pid, mainClass } = await resolveJvm(input, context);
    const dump = await jcmd([String(pid), 'Thread.print', '-l'], context);
    // The top of a dump (and the deadlock report at its end) matter: keep the head when capped.
    return {
      summary: { pid, mainClass, ...parseThreadDump(dump) },
      artifact: artifactOf(dump, context.maxOutputBytes, { keep: 'head' }),
    };
  },
};
