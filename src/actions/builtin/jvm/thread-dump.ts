import type { ActionDefinition, ReadOutput } from '../../action.ts';
import { artifactOf, READ_OUTPUT_SCHEMA } from '../../artifact.ts';
import { exitedError, incompleteError, watchJvm } from './exit.ts';
import { parseDeadlocks, parseThreadDump, type ThreadDumpSummary, threadDumpComplete } from './parse.ts';
import { canonicalJvm, JVM_TARGET_PROPERTIES, type JvmTarget, jcmdOutput, resolveJvm } from './target.ts';

/** Summary of jvm.thread_dump: what the dump says, and whether all of it was read. */
export type ThreadDumpResult = ThreadDumpSummary & {
  pid: number;
  mainClass: string;
  /** False when the dump was over dvm's 64 MiB cap on jcmd output: `reason` says what was read of it. */
  complete: boolean;
  reason?: string;
};

/** `jvm.thread_dump`: a thread dump (jcmd Thread.print -l) with thread states and the deadlocks it found. */
export const jvmThreadDumpAction: ActionDefinition<JvmTarget, ReadOutput<ThreadDumpResult>> = {
  name: 'jvm.thread_dump',
  version: '1.0.0',
  description:
    'A thread dump of a running JVM: counts by state, the deadlocks found (on monitors and java.util.concurrent locks), and the raw dump.',
  risk: 'read',
  timeouts: { defaultMs: 30_000, maxMs: 120_000 },
  inputSchema: { type: 'object', additionalProperties: false, properties: JVM_TARGET_PROPERTIES },
  outputSchema: {
    ...READ_OUTPUT_SCHEMA,
    properties: {
      ...READ_OUTPUT_SCHEMA.properties,
      summary: {
        type: 'object',
        required: ['pid', 'mainClass', 'threadCount', 'daemonCount', 'states', 'deadlocks', 'complete'],
        properties: {
          pid: { type: 'integer' },
          mainClass: { type: 'string' },
          threadCount: { type: 'integer', description: 'Java threads in the dump.' },
          daemonCount: { type: 'integer' },
          states: {
            type: 'object',
            additionalProperties: { type: 'integer' },
            description: 'Java threads by java.lang.Thread.State.',
          },
          deadlocks: {
            type: 'array',
            items: { type: 'object' },
            description:
              'Each Java-level deadlock jcmd reported: its threads, with the lock each waits for (kind monitor or synchronizer, lockClass, address) and its holder.',
          },
          complete: {
            type: 'boolean',
            description:
              "false when the dump was over dvm's 64 MiB cap on jcmd output: the counts are of the threads in its first 64 MiB; deadlocks (and the check that the dump is whole) come from its last 1 MiB.",
          },
          reason: { type: 'string', description: 'When complete is false, what was read of the dump.' },
        },
      },
    },
  },
  canonicalInput: canonicalJvm,
  async handler(input, context) {
    const { pid, mainClass } = await resolveJvm(input, context);
    const watch = watchJvm(pid);
    const {
      text: dump,
      capped,
      tail,
      totalBytes,
    } = await jcmdOutput([String(pid), 'Thread.print', '-l'], context);
    // The end of the dump says whether it is whole and which deadlocks jcmd found. Past dvm's own 64 MiB cap on jcmd
    // output, that end is the last 1 MiB jcmd printed (kept apart from the head).
    const ending = capped ? (tail ?? '') : dump;
    // A JVM that dies mid-dump leaves jcmd a dump cut short, which it prints and exits 0 on: not a dump to count.
    if (!threadDumpComplete(ending)) {
      if (await watch.exited(context.signal)) throw exitedError(pid, 'the dump');
      throw incompleteError(
        pid,
        'the thread dump',
        'its closing lines ("JNI global refs: …", then any deadlocks found)',
        ending,
      );
    }
    const summary = parseThreadDump(dump);
    return {
      summary: {
        pid,
        mainClass,
        ...summary,
        ...(capped
          ? {
              deadlocks: parseDeadlocks(ending),
              complete: false,
              reason: `the dump (${totalBytes} bytes) is over dvm's 64 MiB cap on jcmd output: threadCount, daemonCount and states count the threads in its first 64 MiB; deadlocks are read from its last 1 MiB`,
            }
          : { complete: true }),
      },
      // The top of a dump matters (the summary has the deadlocks at its end): keep the head when capped.
      artifact: artifactOf(dump, context.maxOutputBytes, { keep: 'head' }),
    };
  },
};
