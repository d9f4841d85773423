import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DvmError } from '../errors/dvm-error.ts';
import { parsePath } from '../model/path.ts';
import { checkHomeConfigShape } from './home-config-shape.ts';

/** The settings file of a dvm home: `$DVM_HOME/config.yaml` (notify URLs, redaction patterns). */
export function homeConfigPath(home: string): string {
  return join(home, 'config.yaml');
}

// The last parse of each settings file, by its identity and change time: one open of the agent reads it for the
// redactor, the notify URLs and the environment binding, and parses it once.
const parsedConfigs = new Map<string, { stamp: string; data: Record<string, unknown> }>();

/**
 * Reads `$DVM_HOME/config.yaml` as an object ({} when it is missing or empty); a file that is not valid YAML, or
 * whose top level is not a mapping, is DVM_YAML_SYNTAX / DVM_SCHEMA_INVALID naming the file and line. Each caller
 * gets its own copy.
 */
export async function readHomeConfig(home: string): Promise<Record<string, unknown>> {
  const file = homeConfigPath(home);
  const stamp = homeConfigStamp(home);
  if (!stamp) return {};
  const known = parsedConfigs.get(file);
  if (known?.stamp === stamp) return structuredClone(known.data);
  const data = await parseHomeConfig(file);
  parsedConfigs.set(file, { stamp, data });
  return structuredClone(data);
}

/**
 * The identity, size and change times of `$DVM_HOME/config.yaml` ('' when there is none): it changes whenever the
 * file is edited, replaced or removed.
 */
export function homeConfigStamp(home: string): string {
  const stat = statSync(homeConfigPath(home), { throwIfNoEntry: false, bigint: true });
  return stat ? `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}` : '';
}

async function parseHomeConfig(file: string): Promise<Record<string, unknown>> {
  // Loaded only when there is a file: `dvm run` of applied objects never loads the YAML parser otherwise.
  const { parseYamlSource } = await import('../model/yaml-source.ts');
  const parsed = parseYamlSource(readFileSync(file, 'utf8'), file);
  if (parsed.errors.length > 0) {
    throw new DvmError('DVM_YAML_SYNTAX', 'the settings file of this dvm home is not valid YAML', {
      file,
      // Where the first problem is, as for every other problem of the file (file:line:column first).
      line: parsed.errors[0].line,
      column: parsed.errors[0].column,
      fix: 'Correct it where the causes point (or move it away to run with no settings).',
      causes: parsed.errors,
    });
  }
  if (parsed.documents.length > 1) {
    throw new DvmError('DVM_SCHEMA_INVALID', `${file} holds ${parsed.documents.length} documents, not one`, {
      file,
      fix: 'Keep one YAML document (no `---` separators) in config.yaml.',
    });
  }
  const data = parsed.documents[0]?.data;
  if (data === undefined || data === null) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new DvmError('DVM_SCHEMA_INVALID', `${file} must be a mapping of settings`, {
      file,
      fix: 'Write settings as keys, like\nnotify:\n  slack:\n    url: https://hooks.slack.com/…',
    });
  }
  checkHomeConfigShape(data as Record<string, unknown>, file);
  return data as Record<string, unknown>;
}

/**
 * An error about a setting of this home's config.yaml (its file and path, no line yet) with the line and column of
 * that path in the file added, so it points where an editor jumps; any other error as it is.
 */
export async function withConfigLine(error: unknown, home: string): Promise<unknown> {
  if (!(error instanceof DvmError)) return error;
  const { file, path, line } = error.location;
  if (file !== homeConfigPath(home) || !path || line !== undefined) return error;
  try {
    const { parseYamlSource } = await import('../model/yaml-source.ts');
    const [document] = parseYamlSource(readFileSync(file, 'utf8'), file).documents;
    if (!document) return error;
    const where = document.locate(parsePath(path));
    return new DvmError(error.code, error.message, {
      ...error.location,
      ...where,
      fix: error.fix,
      causes: error.causes,
      details: error.details,
    });
  } catch {
    return error; // the file changed or went away meanwhile: the path still says where
  }
}
