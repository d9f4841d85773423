export {
  type Deadlock,
  type HeapInfo,
  parseFlags,
  parseHeap,
  parseThreadDump,
  parseUptime,
  parseVersion,
  type ThreadDumpSummary,
} from './parse.ts';
export { type JvmStatus, jvmStatusAction } from './status.ts';
export { type JvmTarget, jcmd, jcmdPath, resolveJvm } from './target.ts';
export { jvmThreadDumpAction } from './thread-dump.ts';
