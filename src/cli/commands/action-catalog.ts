import type { CatalogEntry } from '../../agent/catalog.ts';
import { type AgentClient, errorFromBody } from '../../agent/client/agent-client.ts';
import { catalogEntry } from '../action-ref.ts';
import type { CommandContext } from '../command.ts';
import { renderTable } from '../output/table.ts';

/** The action catalog: the agent's (`GET /v1/actions`) with a server, else this home's registry. */
export async function actionCatalog(
  ctx: CommandContext,
  remote: AgentClient | undefined,
): Promise<CatalogEntry[]> {
  if (remote) {
    const response = await remote.request('GET', '/v1/actions');
    if (response.status !== 200) throw errorFromBody(response.status, response.body);
    return response.body.actions as CatalogEntry[];
  }
  const { createAgentRegistry } = await import('../../agent/registry.ts');
  const { catalogEntry } = await import('../../agent/catalog.ts');
  return createAgentRegistry(ctx.home).list().map(catalogEntry);
}

/** `dvm action list`: name, version, risk and description of every action; `-o json` the catalog entries. */
export async function listActions(ctx: CommandContext, remote: AgentClient | undefined): Promise<number> {
  const actions = await actionCatalog(ctx, remote);
  if (ctx.flags.output === 'json') {
    ctx.io.stdout.write(`${JSON.stringify({ actions }, null, 2)}\n`);
    return 0;
  }
  ctx.io.stdout.write(
    renderTable(
      ['NAME', 'VERSION', 'RISK', 'DESCRIPTION'],
      actions.map((a) => [a.name, a.version, a.risk, a.description.split('\n')[0]]),
    ),
  );
  return 0;
}

// A duration in ms as the shortest of 250ms, 30s, 5m, 1h.
function shortDuration(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const)
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

interface ParamSchema {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  'x-secret'?: boolean;
}

// The type column of a parameter: its JSON type, or its allowed values.
function typeOf(schema: ParamSchema): string {
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join('|');
  return [schema.type ?? 'any'].flat().join('|');
}

// The description column: the schema's description, with its bounds and whether dvm redacts it.
function describeParam(schema: ParamSchema): string {
  const bounds =
    schema.minimum !== undefined || schema.maximum !== undefined
      ? ` (${schema.minimum ?? ''}–${schema.maximum ?? ''})`
      : '';
  return `${schema.description ?? ''}${bounds}${schema['x-secret'] ? ' [secret: redacted]' : ''}`.trim();
}

/**
 * `dvm action describe NAME`: an action's version, risk, timeouts and parameters (type, required, default,
 * description) — what `--param` takes; `-o json` its catalog entry with both schemas.
 */
export async function describeAction(
  ctx: CommandContext,
  remote: AgentClient | undefined,
  name: string,
): Promise<number> {
  const catalog = await actionCatalog(ctx, remote);
  const entry = catalogEntry(catalog, name);
  if (ctx.flags.output === 'json') {
    ctx.io.stdout.write(`${JSON.stringify(entry, null, 2)}\n`);
    return 0;
  }
  const schema = entry.input_schema as { properties?: Record<string, ParamSchema>; required?: string[] };
  const required = new Set(schema.required ?? []);
  const params = Object.entries(schema.properties ?? {});
  ctx.io.stdout.write(
    `${entry.name} ${entry.version} (${entry.risk})\n${entry.description}\n` +
      `timeout: ${shortDuration(entry.timeouts.defaultMs)} by default, at most ${shortDuration(entry.timeouts.maxMs)} (--timeout)\n`,
  );
  if (params.length === 0) {
    ctx.io.stdout.write('parameters: none\n');
    return 0;
  }
  ctx.io.stdout.write(
    `\n${renderTable(
      ['PARAMETER', 'TYPE', 'REQUIRED', 'DEFAULT', 'DESCRIPTION'],
      params.map(([key, p]) => [
        key,
        typeOf(p),
        required.has(key) ? 'yes' : 'no',
        p.default === undefined ? '' : JSON.stringify(p.default),
        describeParam(p),
      ]),
    )}`,
  );
  return 0;
}
