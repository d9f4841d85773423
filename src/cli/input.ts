import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { DvmError } from '../errors/dvm-error.ts';
import { assertParsed, parseYamlSource, type SourceDocument } from '../model/yaml-source.ts';
import { type CommandIo, inputTooLarge, MAX_INPUT_BYTES } from './io.ts';

const YAML_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

function filesIn(dir: string, recursive: boolean): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && recursive) files.push(...filesIn(path, recursive));
    else if (entry.isFile() && YAML_EXTENSIONS.has(extname(entry.name))) files.push(path);
  }
  return files;
}

/** The files named by -f: a file, every YAML/JSON file in a directory (-R: and below), or `-` for stdin. */
export function expandFileArgs(args: string[], cwd: string, recursive: boolean): string[] {
  const files: string[] = [];
  for (const arg of args) {
    if (arg === '-') {
      files.push('-');
      continue;
    }
    if (arg === '') {
      // An empty variable ($FILE unset) must not mean the current directory.
      throw new DvmError('DVM_USAGE', '-f got an empty path', {
        fix: 'Give a file, a directory (-f . for the current one) or - for stdin.',
      });
    }
    const path = resolve(cwd, arg);
    let stats: ReturnType<typeof statSync>;
    try {
      stats = statSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; // EACCES…: DVM_IO_ERROR with its path
      throw new DvmError('DVM_FILE_NOT_FOUND', `${arg} does not exist`, {
        file: arg,
        fix: 'Check the path given to -f.',
      });
    }
    if (!stats.isDirectory() && !stats.isFile()) {
      // A FIFO would block forever, /dev/zero never ends.
      throw new DvmError('DVM_USAGE', `${arg} is not a regular file or directory`, {
        file: arg,
        fix: 'Give a YAML file or a directory; to read from a pipe, use -f - and pipe into dvm.',
      });
    }
    if (stats.isFile() && stats.size > MAX_INPUT_BYTES) throw inputTooLarge(arg);
    files.push(...(stats.isDirectory() ? filesIn(path, recursive) : [path]));
  }
  return files;
}

/**
 * Reads and parses every document from -f arguments for `verb` (apply, diff, delete); a syntax error anywhere fails
 * with file:line:col, and input without objects is DVM_NO_OBJECTS, as in kubectl (an empty pipe, the wrong
 * directory), never a silent no-op.
 */
export async function readDocuments(
  io: CommandIo,
  args: string[] | undefined,
  recursive: boolean | undefined,
  verb: string,
): Promise<SourceDocument[]> {
  if (!args || args.length === 0) {
    throw new DvmError('DVM_USAGE', 'no input: -f FILE, -f DIR or -f - (stdin) is required', {
      fix: 'Pass -f with a file, a directory or -.',
    });
  }
  const parsed = [];
  for (const file of expandFileArgs(args, io.cwd, recursive === true)) {
    const text = file === '-' ? await io.readStdin() : readFileSync(file, 'utf8');
    const shown = file === '-' ? '<stdin>' : relative(io.cwd, file) || file;
    parsed.push(parseYamlSource(text, shown, file === '-' ? io.cwd : dirname(file)));
  }
  const documents = assertParsed(parsed);
  if (documents.length === 0)
    throw new DvmError('DVM_NO_OBJECTS', `no objects passed to ${verb} (${args.join(', ')})`, {
      fix: 'Check what -f names: YAML documents with apiVersion and kind (a directory is read one level deep unless -R).',
    });
  return documents;
}
