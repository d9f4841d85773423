import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, type ErrorCode } from '../../errors/codes.ts';
import { openApiDocument } from './openapi.ts';
import { RUN_ERRORS } from './run-errors.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

// The code that runs as an action's handler: every built-in action, and the modules that define the agent's
// data.*, service.* and chaos.* actions (src/agent/registry.ts adds them; a test below keeps this list in step).
const ACTION_SOURCES = [
  'src/actions',
  'src/service/data/actions.ts',
  'src/service/live/actions.ts',
  'src/service/deps/backup-actions.ts',
];
// The code of POST /v1/actions/execute itself, and how it turns what a run threw into an answer (execute.ts's
// errorResponse: a machine error by system-errors.ts, anything else uncoded is DVM_INTERNAL).
const EXECUTE_SOURCES = [
  'src/agent/execute/execute.ts',
  'src/agent/execute/validate-request.ts',
  'src/agent/execute/request-causes.ts',
  'src/agent/execute/idempotency.ts',
  'src/agent/execute/follow-limits.ts',
  'src/errors/system-errors.ts',
];
// Codes written in those sources (or the modules they import) that no execute request can be answered with, each
// with why.
const NEVER_ANSWERED: Partial<Record<ErrorCode, string>> = {
  DVM_DUPLICATE: 'ActionRegistry.register: two definitions of one name and version, when the agent starts',
  DVM_NOT_FOUND: "execute.ts's runErrorResponse answers it as DVM_TARGET_NOT_FOUND",
};

// The files and every module they import (relative imports, transitively): what an action's run may execute.
function withImports(files: string[]): string[] {
  const seen = new Set<string>();
  const queue = [...files];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const m of text.matchAll(/(?:from|import\s*\()\s*'(\.[^']+\.ts)'/g)) {
      const imported = relative(ROOT, resolve(ROOT, dirname(file), m[1]));
      if (!imported.endsWith('.test.ts')) queue.push(imported);
    }
  }
  return [...seen];
}

// The non-test .ts files of a file or directory, relative to the repository.
function sources(path: string): string[] {
  const full = join(ROOT, path);
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('-suite.ts'))
    .map((f) => relative(ROOT, join(full, f)));
}

// Every DVM_ code a file names, except where it only compares (`code === 'DVM_…'`): the codes it may throw.
function codesIn(file: string): Map<ErrorCode, string> {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const found = new Map<ErrorCode, string>();
  for (const m of text.matchAll(/'(DVM_[A-Z0-9_]+)'/g)) {
    if (/[!=]==?\s*$/.test(text.slice(Math.max(0, m.index - 8), m.index))) continue;
    const line = text.slice(0, m.index).split('\n').length;
    if (!found.has(m[1] as ErrorCode)) found.set(m[1] as ErrorCode, `${file}:${line}`);
  }
  return found;
}

type Answer = { 'x-dvm-error-codes'?: string[] };
const execute = (
  openApiDocument('test').paths as Record<string, { post: { responses: Record<string, Answer> } }>
)['/v1/actions/execute'].post.responses;

test('the OpenAPI document lists, under its status, every code an action or execute itself can answer with', () => {
  const where = new Map<ErrorCode, string>();
  for (const file of [...withImports(ACTION_SOURCES.flatMap(sources)), ...EXECUTE_SOURCES])
    for (const [code, at] of codesIn(file)) if (!where.has(code)) where.set(code, at);
  assert.ok(where.has('DVM_TARGET_NOT_FOUND') && where.has('DVM_TIMEOUT'), 'the sources were read');
  const missing: string[] = [];
  for (const [code, at] of where) {
    assert.ok(ERROR_CODES[code], `${at} names ${code}, which the taxonomy does not know`);
    if (NEVER_ANSWERED[code]) continue;
    const status = String(ERROR_CODES[code].http);
    if (!execute[status]?.['x-dvm-error-codes']?.includes(code)) missing.push(`${status} ${code} (${at})`);
  }
  assert.deepEqual(
    missing,
    [],
    'POST /v1/actions/execute answers these, but its OpenAPI entry does not list them',
  );
  // Nor more than that: a run code listed that no source writes any longer goes from the list.
  for (const code of RUN_ERRORS)
    assert.ok(where.has(code), `RUN_ERRORS lists ${code}, which no source writes`);
  for (const code of Object.keys(NEVER_ANSWERED))
    assert.ok(
      where.has(code as ErrorCode),
      `${code} is no longer written in the sources: drop it from NEVER_ANSWERED`,
    );
});

test('the action sources are the modules the agent registry takes its actions from', () => {
  const registry = readFileSync(join(ROOT, 'src/agent/registry.ts'), 'utf8');
  const imported = [...registry.matchAll(/from '(\.[^']+)'/g)].map((m) =>
    relative(ROOT, resolve(ROOT, 'src/agent', m[1])),
  );
  assert.ok(imported.length > 0);
  for (const file of imported)
    assert.ok(
      ACTION_SOURCES.some((s) => file === s || file.startsWith(`${s}/`)),
      `src/agent/registry.ts takes actions from ${file}: add it to ACTION_SOURCES`,
    );
  const data = readFileSync(join(ROOT, 'src/service/data/actions.ts'), 'utf8');
  assert.match(data, /from '\.\.\/deps\/backup-actions\.ts'/, 'data.* actions include the backup actions');
});

test('every operation has its own operationId, and a 204 answer declares no body', () => {
  const doc = openApiDocument('test') as {
    paths: Record<
      string,
      Record<string, { operationId: string; responses: Record<string, { content?: unknown }> }>
    >;
  };
  const operations = Object.values(doc.paths).flatMap((methods) => Object.values(methods));
  const ids = operations.map((o) => o.operationId);
  assert.ok(
    ids.every((id) => /^(get|post)[A-Z][A-Za-z0-9]*$/.test(id)),
    ids.join(' '),
  );
  assert.equal(new Set(ids).size, operations.length, ids.join(' '));
  assert.equal(doc.paths['/v1/executions/{id}/events']?.get?.operationId, 'getExecutionsByIdEvents');
  const noContent = operations.flatMap((o) => (o.responses['204'] ? [o.responses['204']] : []));
  assert.ok(noContent.length > 0);
  assert.ok(noContent.every((r) => r.content === undefined));
});
