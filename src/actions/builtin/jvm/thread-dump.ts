import type { ActionDefinition, ReadOutput } from '../../action.ts';
import { artifactOf, readOutputSchema } from '../../artifact.ts';
import { exitedError, incompleteError, watchJvm } from './exit.ts';
import {
  deadlocksInTail,
  parseDeadlocks,
  parseThreadDump,
  type ThreadDumpSummary,
  threadDumpComplete,
  threadDumpDoubt,
} from './parse.ts';
import { canonicalJvm, JVM_TARGET_PROPERTIES, type JvmTarget, jcmdOutput, resolveJvm } from './target.ts';

/** Summary of jvm.thread_dump: what the dump says, and whether all of it was read. */
export type ThreadDumpResult = ThreadDumpSummary & {
  pid: number;
  mainClass: string;
  /**
   * False when the dump was over dvm's 64 MiB cap on jcmd output, or a thread's name holds a newline (jcmd prints
   * names raw, so counts and deadlocks may be misread): `reason` says what was read of it.
   */
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
  outputSchema: readOutputSchema({
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
          "false when the dump was over dvm's 64 MiB cap on jcmd output (the counts are of the threads in its first 64 MiB; deadlocks, and the check that the dump is whole, come from its last 1 MiB), or when a thread's name holds a newline (jcmd prints names raw: counts and deadlocks may be misread). reason says which.",
      },
      reason: {
        type: 'string',
        description: 'When complete is false, what was read of the dump and what may be wrong.',
      },
    },
  }),
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
    // output, that end is the last 1 MiB jcmd printed on stdout (kept apart from the head).
    const ending = capped ? (tail ?? '') : dump;
    // A thread's name with newlines can imitate the dump's own lines (jcmd prints names raw): such a dump is read as
    // well as can be and said to be doubtful, never failed on its structure alone.
    const doubt = threadDumpDoubt(dump, capped) ?? (capped ? threadDumpDoubt(ending, true) : undefined);
    const whole = threadDumpComplete(ending);
    // Over the cap, deadlock reports longer than the end kept: that end holds no closing line of the threads.
    const longReports = capped && !whole ? deadlocksInTail(ending) : undefined;
    // A JVM that dies mid-dump leaves jcmd a dump cut short, which it prints and exits 0 on: not a dump to count.
    if (!whole && (await watch.exited(context.signal))) throw exitedError(pid, 'the dump');
    if (!whole && longReports === undefined && doubt === undefined) {
      throw incompleteError(
        pid,
        'the thread dump',
        'its closing lines ("JNI global refs: …", then any deadlocks found)',
        ending,
        capped ? totalBytes : undefined,
      );
    }
    const summary = parseThreadDump(dump);
    const reasons = [
      ...(capped
        ? [
            `the dump (${totalBytes} bytes) is over dvm's 64 MiB cap on jcmd output: threadCount, daemonCount and states count the threads in its first 64 MiB; deadlocks are read from its last 1 MiB`,
          ]
        : []),
      ...(longReports
        ? [
            `jcmd found ${longReports.reported} deadlock(s), and its reports are longer than that last 1 MiB: not all deadlocks were read (the list holds the ${longReports.deadlocks.length} whose report is whole in it)`,
          ]
        : []),
      ...(doubt ? [doubt] : []),
      ...(!whole && longReports === undefined
        ? ['the dump does not end as a whole dump does (its closing lines were not found where expected)']
        : []),
    ];
    return {
      summary: {
        pid,
        mainClass,
        ...summary,
        ...(longReports
          ? { deadlocks: longReports.deadlocks }
          : capped
            ? { deadlocks: parseDeadlocks(ending) }
            : {}),
        ...(reasons.length > 0 ? { complete: false, reason: reasons.join('; ') } : { complete: true }),
      },
      // The top of a dump matters (the summary has the deadlocks at its end): keep the head when capped.
      artifact: artifactOf(dump, context.maxOutputBytes, { keep: 'head' }),
    };
  },
};
