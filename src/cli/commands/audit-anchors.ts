import { readFileSync } from 'node:fs';
import type { AuditAnchor } from '../../agent/audit/audit-log.ts';
import { DvmError } from '../../errors/dvm-error.ts';

const SEQ_HASH = /^([1-9][0-9]{0,15}):([0-9a-f]{64})$/;
const HEAD_LINE = /^head: entry ([1-9][0-9]{0,15}) ([0-9a-f]{64})$/;
// Lines of verify's own text output that carry no anchor.
const SKIPPED = /^(?:$|#|audit chain intact: )/;

/** The anchors of `--anchor SEQ:HASH` flags, each as `dvm audit verify` printed its head. */
export function anchorsOfFlags(values: readonly string[]): AuditAnchor[] {
  return values.map((value) => {
    const match = SEQ_HASH.exec(value.trim());
    if (!match)
      throw new DvmError('DVM_USAGE', `--anchor "${value}" is not SEQ:HASH`, {
        fix: 'Pass a head an earlier dvm audit verify printed, as entry number, colon, and its 64 hex digits: --anchor 1200:3f5a…',
      });
    return { seq: Number(match[1]), hash: match[2] };
  });
}

/**
 * The anchors of an `--anchor-file`: what earlier `dvm audit verify` runs printed, appended to a file kept
 * elsewhere (text `head: entry N HASH` lines, `-o json` reports, or `SEQ:HASH` lines); a line that is none of
 * these is an error naming its line, and a file without any anchor is one too.
 */
export function anchorsOfFile(file: string): AuditAnchor[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new DvmError('DVM_USAGE', `cannot read the anchor file ${file}: ${(error as Error).message}`, {
      fix: 'Pass the file where you keep the heads dvm audit verify printed (dvm audit verify >> FILE).',
    });
  }
  const anchors: AuditAnchor[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (SKIPPED.test(line)) return;
    const anchor = anchorOfLine(line);
    if (typeof anchor === 'string')
      throw new DvmError('DVM_USAGE', `${file}:${index + 1}: ${anchor}`, {
        fix: 'Keep only what a dvm audit verify that passed printed in the file: "head: entry N HASH" lines, its -o json reports, or SEQ:HASH lines.',
        details: { file, line: index + 1 },
      });
    anchors.push(anchor);
  });
  if (anchors.length === 0)
    throw new DvmError('DVM_USAGE', `the anchor file ${file} holds no anchor`, {
      fix: 'Append each verify to it (dvm audit verify >> FILE) and pass it once it holds a head.',
      details: { file },
    });
  return anchors;
}

// One line as an anchor (verify's text head line, its JSON report, or SEQ:HASH), or why it is none.
function anchorOfLine(line: string): AuditAnchor | string {
  const none = `"${line.slice(0, 80)}" is no audit anchor`;
  const text = HEAD_LINE.exec(line) ?? SEQ_HASH.exec(line);
  if (text) return { seq: Number(text[1]), hash: text[2] };
  if (!line.startsWith('{')) return none;
  let report: { ok?: unknown; head?: { seq?: unknown; hash?: unknown } };
  try {
    report = JSON.parse(line);
  } catch {
    return none;
  }
  // The head of a broken chain vouches for nothing.
  if (report.ok !== true) return 'a report of a verify that failed is no anchor';
  const match = SEQ_HASH.exec(`${report.head?.seq}:${report.head?.hash}`);
  return match ? { seq: Number(match[1]), hash: match[2] } : none;
}
