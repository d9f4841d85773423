import { readFileSync, statSync } from 'node:fs';
import { type AuditAnchor, GENESIS_HASH } from '../../agent/audit/audit-log.ts';
import { DvmError } from '../../errors/dvm-error.ts';
import { inputTooLarge, MAX_INPUT_BYTES } from '../io.ts';

// Entry numbers up to 15 digits (exact as numbers); 0 is an empty log's head, whose hash is GENESIS_HASH.
const SEQ_HASH = /^(0|[1-9][0-9]{0,14}):([0-9a-f]{64})$/;
const HEAD_LINE = /^head: entry (0|[1-9][0-9]{0,14}) ([0-9a-f]{64})$/;
// Lines of verify's own text output that carry no anchor.
const SKIPPED = /^(?:$|#|audit chain intact: )/;

/** Anchors read from flags and files: the distinct ones, and how many failed verifies' reports were passed over. */
export interface ReadAnchors {
  anchors: AuditAnchor[];
  skippedFailed: number;
}

// An anchor of SEQ:HASH text, or undefined; entry 0 only with the hash before the first entry.
function anchorOf(seq: string, hash: string): AuditAnchor | undefined {
  if (seq === '0' && hash !== GENESIS_HASH) return undefined;
  return { seq: Number(seq), hash };
}

/** The anchors of `--anchor SEQ:HASH` flags, each as `dvm audit verify` printed its head. */
export function anchorsOfFlags(values: readonly string[]): AuditAnchor[] {
  return values.map((value) => {
    const match = SEQ_HASH.exec(value.trim());
    const anchor = match && anchorOf(match[1], match[2]);
    if (!anchor)
      throw new DvmError('DVM_USAGE', `--anchor "${value}" is not SEQ:HASH`, {
        fix: 'Pass a head an earlier dvm audit verify printed, as entry number, colon, and its 64 hex digits: --anchor 1200:3f5a…',
      });
    return anchor;
  });
}

/**
 * The anchors of an `--anchor-file`: what earlier `dvm audit verify` runs printed, appended to a file kept
 * elsewhere (text `head: entry N HASH` lines, `-o json` reports, or `SEQ:HASH` lines). The report of a verify that
 * failed vouches for nothing and is passed over (counted); any other line that is no anchor is an error naming its
 * line, and so is a file without any anchor. Only a regular file of at most 64 MiB is read.
 */
export function anchorsOfFile(file: string): ReadAnchors {
  let text: string;
  try {
    const stats = statSync(file);
    if (!stats.isFile())
      throw new DvmError('DVM_USAGE', `the anchor file ${file} is not a regular file`, {
        fix: 'Pass the file where you keep the heads dvm audit verify printed (dvm audit verify >> FILE).',
        details: { file },
      });
    if (stats.size > MAX_INPUT_BYTES) throw inputTooLarge(file);
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof DvmError) throw error;
    throw new DvmError('DVM_USAGE', `cannot read the anchor file ${file}: ${(error as Error).message}`, {
      fix: 'Pass the file where you keep the heads dvm audit verify printed (dvm audit verify >> FILE).',
      details: { file },
    });
  }
  const anchors: AuditAnchor[] = [];
  let skippedFailed = 0;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim().replace(/^\uFEFF/, '');
    if (SKIPPED.test(line)) return;
    const anchor = anchorOfLine(line);
    if (anchor === 'failed') {
      skippedFailed++;
      return;
    }
    if (anchor === undefined)
      throw new DvmError('DVM_USAGE', `${file}:${index + 1}: "${line.slice(0, 80)}" is no audit anchor`, {
        fix: 'Keep only what dvm audit verify prints in the file: "head: entry N HASH" lines, its -o json reports, or SEQ:HASH lines.',
        details: { file, line: index + 1 },
      });
    anchors.push(anchor);
  });
  if (anchors.length === 0)
    throw new DvmError('DVM_USAGE', `the anchor file ${file} holds no anchor`, {
      fix: 'Append each verify to it (dvm audit verify >> FILE) and pass it once it holds the head of one that passed.',
      details: { file, skippedFailed },
    });
  return { anchors, skippedFailed };
}

/** Anchors without repeats (the same head appended twice is one anchor): what verify is given and counts. */
export function distinctAnchors(anchors: readonly AuditAnchor[]): AuditAnchor[] {
  const seen = new Map<string, AuditAnchor>();
  for (const anchor of anchors) seen.set(`${anchor.seq}:${anchor.hash}`, anchor);
  return [...seen.values()];
}

// One line as an anchor (verify's text head line, its JSON report, or SEQ:HASH); 'failed' for the report of a verify
// that failed; undefined for anything else.
function anchorOfLine(line: string): AuditAnchor | 'failed' | undefined {
  const text = HEAD_LINE.exec(line) ?? SEQ_HASH.exec(line);
  if (text) return anchorOf(text[1], text[2]);
  if (!line.startsWith('{')) return undefined;
  let report: { ok?: unknown; head?: { seq?: unknown; hash?: unknown } };
  try {
    report = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (report.ok === false) return 'failed';
  if (report.ok !== true) return undefined;
  const match = SEQ_HASH.exec(`${report.head?.seq}:${report.head?.hash}`);
  return match ? anchorOf(match[1], match[2]) : undefined;
}
