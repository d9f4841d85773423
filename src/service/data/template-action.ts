import type { ActionDefinition, Risk } from '../../actions/action.ts';
import { splitCommand } from '../../actions/builtin/argv.ts';
import { type ActionInputSpec, inputSchemaOf } from '../../actions/user-action.ts';
import { DvmError } from '../../errors/dvm-error.ts';
import type { StoredObject } from '../../store/store.ts';
import { openPlatform, type Platform } from '../platform.ts';
import { resolveTarget } from './connection.ts';
import { checkIdentifier, connect, type DataField } from './postgres-seeder.ts';
import { connectRedis, keyOf } from './redis-seeder.ts';

/** One handler of a user-defined Action: `sql` for PostgreSQL targets, `command` for Redis. */
interface HandlerSpec {
  type: string;
  template?: string;
}

const PLACEHOLDER = /\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*(\|\s*json\s*)?\}\}/g;

function templateError(action: string, message: string, fix: string): DvmError {
  return new DvmError('DVM_ACTION_INPUT_INVALID', `Action ${action}: ${message}`, {
    fix,
    details: { origin: 'user' },
  });
}

/**
 * Renders a `sql` handler template safely: `.table`, `.columns`, `.primaryKey`, `.updates` become validated,
 * quoted identifiers of the target DataStore; `.values` and every other `.NAME` become bound parameters ($1, $2, …).
 * Nothing from the input is ever written into the SQL text.
 */
export function renderSql(
  action: string,
  template: string,
  store: { table: string; fields: DataField[] },
  data: Record<string, unknown>,
  inputs: Record<string, unknown>,
  quote: (identifier: string) => string,
): { text: string; params: unknown[] } {
  const columns = Object.keys(data);
  for (const column of columns) checkIdentifier(column, `data.${column}`);
  checkIdentifier(store.table, 'spec.target.table');
  const known = new Set(store.fields.map((f) => f.name));
  const unknown = columns.filter((c) => !known.has(c));
  if (unknown.length) {
    throw templateError(
      action,
      `data has fields the DataStore schema does not: ${unknown.join(', ')}`,
      'Send only the schema fields.',
    );
  }
  const primary = store.fields.filter((f) => f.primary).map((f) => f.name);
  const params: unknown[] = [];
  const bind = (value: unknown) => {
    params.push(value !== null && typeof value === 'object' ? JSON.stringify(value) : value);
    return `$${params.length}`;
  };
  const text = template.replace(PLACEHOLDER, (_match, name: string) => {
    switch (name) {
      case 'table':
        return quote(store.table);
      case 'columns':
        return columns.map(quote).join(', ');
      case 'values':
        return columns.map((c) => bind(data[c])).join(', ');
      case 'primaryKey':
        return primary.map(quote).join(', ');
      case 'updates': {
        const set = columns
          .filter((c) => !primary.includes(c))
          .map((c) => `${quote(c)} = EXCLUDED.${quote(c)}`);
        return set.length
          ? set.join(', ')
          : `${quote(primary[0] ?? columns[0])} = EXCLUDED.${quote(primary[0] ?? columns[0])}`;
      }
      default:
        if (!(name in inputs))
          throw templateError(
            action,
            `the template names .${name}, which is no input`,
            'Declare it under spec.inputs.',
          );
        return bind(inputs[name]);
    }
  });
  return { text, params };
}

/**
 * Renders a `command` handler template (Redis) into argv: the template is split into words first (quotes group
 * words, nothing else is special), then each word's placeholders are filled, so a value can never become a second
 * argument or command.
 */
export function renderCommandTemplate(
  action: string,
  template: string,
  values: { key: string; value: Record<string, unknown>; inputs: Record<string, unknown> },
): string[] {
  // Placeholders become private-use sentinels first, so their inner spaces do not split words.
  const found: { name: string; json: boolean }[] = [];
  const masked = template.trim().replace(PLACEHOLDER, (_m, name: string, json?: string) => {
    found.push({ name, json: Boolean(json) });
    return `\uE000${found.length - 1}\uE001`;
  });
  return splitCommand(masked, { resultRefs: false, expansions: false }).map((word) =>
    word.replace(/\uE000(\d+)\uE001/g, (_m, index: string) => {
      const { name, json } = found[Number(index)];
      const value = name === 'key' ? values.key : name === 'value' ? values.value : values.inputs[name];
      if (value === undefined)
        throw templateError(
          action,
          `the template names .${name}, which has no value`,
          'Declare it under spec.inputs.',
        );
      return json || typeof value === 'object' ? JSON.stringify(value) : String(value);
    }),
  );
}

/**
 * The action of a user-defined Action object with `handlers:` (the seed's data.insert shape): inputs `target`
 * (a DataStore, NAME or DOMAIN/NAME) and `data`; the handler matching the store's target engine runs.
 */
export function templateActionFromObject(
  home: string,
  name: string,
  spec: Record<string, unknown>,
): ActionDefinition {
  const handlers = (spec.handlers ?? {}) as Record<string, HandlerSpec>;
  const inputs = (spec.inputs ?? []) as ActionInputSpec[];
  let platform: Promise<Platform> | undefined;
  return {
    name,
    version: '1.0.0',
    description: String(spec.description ?? `User-defined action ${name}.`),
    risk: (['read', 'write', 'destructive'].includes(String(spec.risk)) ? spec.risk : 'write') as Risk,
    inputSchema: inputSchemaOf(inputs),
    outputSchema: { type: 'object', additionalProperties: true },
    async handler(input) {
      const values = (input ?? {}) as Record<string, unknown>;
      const targetName = String(values.target ?? '');
      const data = (values.data ?? {}) as Record<string, unknown>;
      platform ??= openPlatform(home);
      const p = await platform;
      const [domain, storeName] = targetName.includes('/')
        ? targetName.split('/', 2)
        : [undefined, targetName];
      const found = await p.store.list({
        kinds: ['DataStore'],
        name: storeName,
        ...(domain ? { placement: { domain } } : {}),
      });
      if (found.length !== 1) {
        throw new DvmError(
          found.length ? 'DVM_AMBIGUOUS' : 'DVM_TARGET_NOT_FOUND',
          `Action ${name}: DataStore "${targetName}" ${found.length ? 'is ambiguous' : 'not found'}`,
          {
            fix: 'Pass target as NAME or DOMAIN/NAME of a DataStore.',
            details: { origin: 'user' },
          },
        );
      }
      const store: StoredObject = found[0];
      const sspec = store.effective.spec as Record<string, unknown>;
      const table = (sspec.target as { table?: string } | undefined)?.table ?? store.name.replace(/-/g, '_');
      const fields = ((sspec.schema as { fields?: DataField[] } | undefined)?.fields ?? []) as DataField[];
      const target = await resolveTarget(p.store, store);
      const handler = handlers[target.engine];
      if (!handler?.template) {
        throw templateError(
          name,
          `no handler for ${target.engine} (it has: ${Object.keys(handlers).join(', ') || 'none'})`,
          `Add handlers.${target.engine}.`,
        );
      }
      if (target.engine === 'redis') {
        const argv = renderCommandTemplate(name, handler.template, {
          key: keyOf(table, fields, data),
          value: data,
          inputs: values,
        });
        const client = await connectRedis(target);
        try {
          return { engine: 'redis', command: argv[0], reply: String(await client.sendCommand(argv)) };
        } finally {
          await client.quit().catch(() => {});
        }
      }
      const client = await connect(target);
      try {
        const { text, params } = renderSql(name, handler.template, { table, fields }, data, values, (id) =>
          client.escapeIdentifier(id),
        );
        const result = await client.query(text, params);
        return { engine: 'postgres', rowCount: result.rowCount ?? 0 };
      } finally {
        await client.end();
      }
    },
  };
}
