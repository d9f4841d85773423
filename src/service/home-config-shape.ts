import { webhookUrlProblem } from '../actions/builtin/notify.ts';
import { DvmError, type ErrorCause } from '../errors/dvm-error.ts';
import { didYouMean } from '../model/suggest.ts';

const SECTIONS = ['notify', 'redact', 'agent'];
const NOTIFY_TARGETS = ['slack', 'alert', 'team'];

const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks the sections of config.yaml other than `agent:` (whose settings are read and checked with the agent):
 * unknown sections and keys — a typo such as `redact: {pattern: …}` would silently leave secrets unredacted — and
 * unusable webhook URLs are DVM_SCHEMA_INVALID, every problem listed with its path.
 */
export function checkHomeConfigShape(data: Record<string, unknown>, file: string): void {
  const causes: ErrorCause[] = [];
  const unknown = (path: string, key: string, known: string[]) =>
    causes.push({
      code: 'DVM_SCHEMA_INVALID',
      path: path ? `${path}.${key}` : key,
      message: `"${key}" is not a setting here${didYouMean(key, known)}`,
      fix: `Use ${known.join(', ')}.`,
    });
  for (const key of Object.keys(data)) if (!SECTIONS.includes(key)) unknown('', key, SECTIONS);
  if (data.notify !== undefined && data.notify !== null) {
    if (!isMapping(data.notify)) {
      causes.push({
        code: 'DVM_SCHEMA_INVALID',
        path: 'notify',
        message: 'notify must be a mapping of webhooks',
      });
    } else {
      for (const [target, value] of Object.entries(data.notify)) {
        if (!NOTIFY_TARGETS.includes(target)) {
          unknown('notify', target, NOTIFY_TARGETS);
          continue;
        }
        if (!isMapping(value)) {
          causes.push({
            code: 'DVM_SCHEMA_INVALID',
            path: `notify.${target}`,
            message: `notify.${target} must be a mapping with url`,
          });
          continue;
        }
        for (const key of Object.keys(value)) if (key !== 'url') unknown(`notify.${target}`, key, ['url']);
        const problem = webhookUrlProblem(value.url);
        if (problem)
          causes.push({
            code: 'DVM_SCHEMA_INVALID',
            path: `notify.${target}.url`,
            message: `notify.${target}.url ${problem}`,
            fix: 'Write the webhook URL its service gave you (https://…); a secret it needs goes in its path or query.',
          });
      }
    }
  }
  if (data.redact !== undefined && data.redact !== null) {
    if (!isMapping(data.redact))
      causes.push({
        code: 'DVM_SCHEMA_INVALID',
        path: 'redact',
        message: 'redact must be a mapping with patterns',
      });
    else
      for (const key of Object.keys(data.redact))
        if (key !== 'patterns') unknown('redact', key, ['patterns']);
  }
  if (causes.length === 0) return;
  throw new DvmError(
    'DVM_SCHEMA_INVALID',
    `${file} is not valid: ${causes[0].path}: ${causes[0].message}${causes.length > 1 ? ` (and ${causes.length - 1} more)` : ''}`,
    { file, path: causes[0].path, fix: 'Fix the settings listed in causes.', causes },
  );
}
