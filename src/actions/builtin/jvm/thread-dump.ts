import type { ActionDefinition, ReadOutput } from '../../action.ts';
import { artifactOf, READ_OUTPUT_SCHEMA } from '../../artifact.ts';
import { exitedError, incompleteError, watchJvm } from './exit.ts';
import { parseThreadDump, type ThreadDumpSummary, threadDumpComplete } from './parse.ts';
import { canonicalJvm, JVM_TARGET_PROPERTIES, type JvmTarget, jcmdOutput, resolveJvm } from './target.ts';

/** `jvm.thread_dump`: a thread dump (jcmd Thread.print -l) with thread states and the deadlocks it found. */
export const jvmThreadDumpAction: ActionDefinition<
  JvmTarget,
  ReadOutput<ThreadDumpSummary & { pid: number; mainClass: string }>
> = {
  name: 'jvm.thread_dump',
  version: '1.0.0',
  description:
    'A thread dump of a running JVM: counts by state, the deadlocks found (on monitors and java.util.concurrent locks), and the raw dump.',
  risk: 'read',
  timeouts: { defaultMs: 30_000, maxMs: 120_000 },
  inputSchema: { type: 'object', additionalProperties: false, properties: JVM_TARGET_PROPERTIES },
  outputSchema: READ_OUTPUT_SCHEMA,
  canonicalInput: canonicalJvm,
  async handler(input, context) {
    const { pid, mainClass } = await resolveJvm(input, context);
    const watch = watchJvm(pid);
    const { text: dump, capped } = await jcmdOutput([String(pid), 'Thread.print', '-l'], context);
    // A JVM that dies mid-dump leaves jcmd a dump cut short, which it prints and exits 0 on: not a dump to count.
    // (Output past dvm's own 64 MiB cap was dropped by dvm: the summary then counts what was kept.)
    if (!capped && !threadDumpComplete(dump)) {
      if (await watch.exited(context.signal)) throw exitedError(pid, 'the dump');
      throw incompleteError(
        pid,
        'the thread dump',
        'its closing lines ("JNI global refs: …", then any deadlocks found)',
        dump,
      );
    }
    // The top of a dump (and the deadlock report at its end) matter: keep the head when capped.
    return {
      summary: { pid, mainClass, ...parseThreadDump(dump) },
      artifact: artifactOf(dump, context.maxOutputBytes, { keep: 'head' }),
    };
  },
};
