// `dvm GROUP SUB --help`: the subcommand's own usage, cut out of the group's usage text (one mechanism for every
// verb, nothing written per subcommand). A usage block lists one `dvm VERB SUB …` line per form, each possibly
// continued on indented lines; the text after it is the group's description.

const LABEL = 'Usage: ';

// The word after `dvm VERB` that names subcommands (`create`, `task|workflow|job`), not a placeholder (KIND), a
// flag (--resume) or an optional part ([--actor …]).
const SUBCOMMAND = /^[a-z][a-z0-9-]*(\|[a-z][a-z0-9-]*)*$/;

/** One form of a verb in its usage block: the subcommands it names (none for `dvm audit [--actor …]`) and its lines. */
export interface UsageForm {
  subcommands: string[];
  /** Its `dvm VERB …` line and the lines that continue it, as written (the `Usage:` label blanked out). */
  lines: string[];
  /** The column where its `dvm` starts. */
  indent: number;
}

/** The forms of a verb's usage block and the description after it; undefined when the text has no usage block. */
export function usageForms(
  verb: string,
  usage: string,
): { forms: UsageForm[]; description: string } | undefined {
  if (!usage.startsWith('Usage:')) return undefined;
  const blank = usage.search(/\n[ \t]*\n/);
  const block = blank === -1 ? usage : usage.slice(0, blank);
  const description = blank === -1 ? '' : usage.slice(blank).replace(/^\s*\n/, '');
  const forms: UsageForm[] = [];
  for (const line of block.replace(/^Usage:/, ' '.repeat('Usage:'.length)).split('\n')) {
    if (line.trim() === '') continue;
    const head = /^(\s*)dvm (\S+)(?:\s+(\S+))?/.exec(line);
    if (head && head[2] === verb) {
      const word = head[3] ?? '';
      forms.push({
        subcommands: SUBCOMMAND.test(word) ? word.split('|') : [],
        lines: [line],
        indent: head[1].length,
      });
    } else if (forms.length > 0) forms[forms.length - 1].lines.push(line);
    else return undefined;
  }
  return { forms, description };
}

// Moves a line right (or left, over its leading blanks only) by `shift` columns.
function reindent(line: string, shift: number): string {
  if (shift >= 0) return ' '.repeat(shift) + line;
  const blanks = line.length - line.trimStart().length;
  return line.slice(Math.min(-shift, blanks));
}

// A paragraph that is a table of subcommands (`list    executions newest first …`, continued on indented
// lines) keeps only the entry of `sub`; any other paragraph is kept whole.
function onlyEntryOf(paragraph: string, names: ReadonlySet<string>, sub: string): string {
  const lines = paragraph.split('\n');
  const entryName = (line: string) => {
    const name = /^([a-z][\w-]*) {2,}\S/.exec(line)?.[1];
    return name !== undefined && names.has(name) ? name : undefined;
  };
  const entries = lines.filter((line) => entryName(line) !== undefined).length;
  const table = entries >= 2 && lines.every((line) => entryName(line) !== undefined || /^\s/.test(line));
  if (!table || !lines.some((line) => entryName(line) === sub)) return paragraph;
  const kept: string[] = [];
  let current: string | undefined;
  for (const line of lines) {
    current = entryName(line) ?? current;
    if (current === sub) kept.push(line);
  }
  return kept.join('\n');
}

/**
 * The help of `dvm VERB SUB`: its usage line(s), the verb's description, and a pointer to the verb's help when the
 * verb has other forms; undefined when SUB names none of the verb's subcommands (the caller shows the verb's usage).
 */
export function subcommandHelp(verb: string, usage: string, sub: string | undefined): string | undefined {
  if (sub === undefined) return undefined;
  const parsed = usageForms(verb, usage);
  if (!parsed) return undefined;
  const { forms, description } = parsed;
  const chosen = forms.filter((form) => form.subcommands.includes(sub));
  if (chosen.length === 0) return undefined;
  const shift = LABEL.length - chosen[0].indent;
  const lines = chosen.flatMap((form) => form.lines.map((line) => reindent(line, shift)));
  lines[0] = LABEL + lines[0].slice(LABEL.length);
  const names = new Set(forms.flatMap((form) => form.subcommands));
  const paragraphs = description
    .split(/\n[ \t]*\n/)
    .filter((paragraph) => paragraph.trim() !== '')
    .map((paragraph) => onlyEntryOf(paragraph, names, sub));
  const seeAlso =
    chosen.length < forms.length ? [`See also: dvm ${verb} --help (every form of dvm ${verb})`] : [];
  return [lines.join('\n'), ...paragraphs, ...seeAlso].join('\n\n');
}
