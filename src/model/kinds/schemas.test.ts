import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ajv, type ErrorObject } from 'ajv';
import { API_VERSION } from '../api.ts';
import { BUILTIN_KINDS } from '../catalog.ts';
import { BUILTIN_SCHEMAS } from './index.ts';

const ajv = new Ajv({ allErrors: true, strict: true });
const validators = new Map(
  Object.entries(BUILTIN_SCHEMAS).map(([kind, schema]) => [kind, ajv.compile(schema)]),
);

function object(kind: string, spec: unknown, metadata: Record<string, unknown> = {}) {
  return { apiVersion: API_VERSION, kind, metadata: { name: 'example', ...metadata }, spec };
}

function errorsOf(kind: string, data: unknown): ErrorObject[] {
  const validate = validators.get(kind);
  assert.ok(validate, `no schema for ${kind}`);
  return validate(data) ? [] : (validate.errors ?? []);
}

// Every property of every object schema has a description, for `dvm explain`.
function undescribed(schema: unknown, path: string, out: string[]): string[] {
  if (!schema || typeof schema !== 'object') return out;
  const s = schema as Record<string, unknown>;
  for (const [name, child] of Object.entries(
    (s.properties ?? {}) as Record<string, Record<string, unknown>>,
  )) {
    if (typeof child.description !== 'string' || child.description === '') out.push(`${path}.${name}`);
    undescribed(child, `${path}.${name}`, out);
  }
  if (s.items) undescribed(s.items, `${path}[]`, out);
  for (const key of ['anyOf', 'oneOf']) {
    // Branches without a type only say which alias is required (see AnyOfRequired); the others are real forms.
    const branches = Array.isArray(s[key]) ? (s[key] as Record<string, unknown>[]) : [];
    branches.forEach((branch, i) => {
      if (branch.type !== undefined) undescribed(branch, `${path}/${key}/${i}`, out);
    });
  }
  for (const child of Object.values((s.patternProperties ?? {}) as Record<string, unknown>))
    undescribed(child, `${path}{}`, out);
  return out;
}

test('every schema compiles with Ajv strict mode', () => {
  assert.equal(validators.size, Object.keys(BUILTIN_SCHEMAS).length);
});

test('every built-in kind of the catalog has a schema, and no schema lacks a kind', () => {
  const kinds = BUILTIN_KINDS.map((k) => k.kind);
  assert.deepEqual(
    kinds.filter((k) => !BUILTIN_SCHEMAS[k]),
    [],
  );
  assert.deepEqual(
    Object.keys(BUILTIN_SCHEMAS).filter((k) => !kinds.includes(k)),
    [],
  );
  for (const kind of kinds) assert.equal(BUILTIN_SCHEMAS[kind].$id, kind);
});

test('every field has a description', () => {
  // App's env entries are defined in app.schema.ts, outside these kinds' conventions check.
  const missing = Object.entries(BUILTIN_SCHEMAS)
    .filter(([kind]) => kind !== 'App')
    .flatMap(([kind, schema]) => undescribed(schema, kind, []));
  assert.deepEqual(missing, []);
});

interface Case {
  kind: string;
  spec: unknown;
  metadata?: Record<string, unknown>;
}

const VALID: Case[] = [
  {
    kind: 'Ecosystem',
    spec: {
      dependencies: [
        { name: 'platform-db', ref: 'postgres', env: [{ name: 'POSTGRES_DB', value: 'platform_db' }] },
      ],
      dataLakes: [{ ref: 'integration-test-data' }],
    },
  },
  {
    kind: 'Domain',
    metadata: { ecosystem: 'customer-platform' },
    spec: { dataStores: [{ ref: 'auth-test-data' }], defaults: { language: 'go', languageVersion: '1.23' } },
  },
  {
    kind: 'Workspace',
    metadata: { app: 'auth-api' },
    spec: {
      template: 'go-api-workspace',
      languageVersion: '1.24',
      mounts: [{ source: '~/Developer/auth-api', target: '/workspace' }],
      nvim: { plugins: ['telescope'], theme: 'tokyonight' },
      terminal: { prompt: 'starship', plugins: ['zsh-autosuggestions'] },
      tasks: [{ ref: 'go-lint' }],
    },
  },
  {
    kind: 'Task',
    spec: {
      command: 'go test ./... -v -race',
      timeout: '5m',
      retries: 2,
      onSuccess: { action: 'notify.slack', channel: '#builds' },
      onFailure: { action: 'notify.alert', severity: 'high' },
    },
  },
  { kind: 'Task', spec: { action: 'exec', command: ['node', '--test'], results: [{ name: 'coverage' }] } },
  { kind: 'Task', spec: { action: 'data.backup', target: 'postgres', schedule: '0 2 * * *' } },
  {
    kind: 'Workflow',
    spec: {
      tasks: [
        { name: 'lint', taskRef: 'run-linter' },
        { ref: 'run-tests', dependsOn: ['lint'] },
      ],
      onComplete: { action: 'notify.team' },
    },
  },
  {
    kind: 'Pipeline',
    spec: {
      stages: [
        { name: 'build', workflowRef: 'ci-workflow' },
        { name: 'deploy', workflow: 'deploy-workflow', dependsOn: ['build'], manual: false },
      ],
    },
  },
  {
    kind: 'Job',
    spec: {
      trigger: { watch: 'app.path', event: 'commit' },
      runs: 'ci-pipeline',
      onSuccess: { action: 'git.push', remote: 'origin', branch: 'main' },
    },
  },
  {
    kind: 'DataStore',
    spec: {
      target: { dependencyRef: 'platform-db', database: 'auth_db', table: 'users' },
      schema: {
        fields: [
          { name: 'id', type: 'string', primary: true },
          { name: 'role', type: 'string', enum: ['a'] },
        ],
      },
      records: [{ ref: 'test-user-alice' }, { inline: { id: 'usr_003' } }],
    },
  },
  { kind: 'DataRecord', spec: { dataStoreRef: 'auth-test-data', data: { id: 'usr_001' } } },
  {
    kind: 'Action',
    spec: {
      description: 'Say hello',
      command: ['echo', '{{ inputs.name }}'],
      handlers: { postgres: { type: 'sql', template: 'SELECT 1' } },
      inputs: [{ name: 'name', type: 'string', required: true, default: 'world' }],
    },
  },
  {
    kind: 'ResourceDefinition',
    spec: {
      group: 'mycompany.io',
      names: { kind: 'FeatureFlag', plural: 'featureflags', shortNames: ['ff'] },
      scope: 'Project',
      schema: { type: 'object', properties: { enabled: { type: 'boolean' } } },
    },
  },
  { kind: 'Template', spec: { targetKind: 'App', defaults: { language: 'go' } } },
  { kind: 'Runtime', spec: { platform: 'process', resources: { maxMemory: '8Gi', maxCPU: 4 } } },
  {
    kind: 'Operator',
    spec: {
      watches: [{ type: 'app', mode: 'live', events: ['unhealthy'], jobRef: 'app-recovery' }],
      settings: { pollInterval: '5s', maxConcurrentJobs: 5 },
    },
  },
  { kind: 'NvimTheme', spec: { colorscheme: 'tokyonight', background: 'dark', palette: { bg: '#1a1b26' } } },
];

test('valid objects pass', () => {
  for (const { kind, spec, metadata } of VALID) {
    assert.deepEqual(errorsOf(kind, object(kind, spec, metadata)), [], `${kind} ${JSON.stringify(spec)}`);
  }
});

// Each invalid case: the object and the error keyword and instance path Ajv must report.
const INVALID: (Case & { keyword: string; at: string; field?: string })[] = [
  {
    kind: 'Ecosystem',
    spec: { dependencies: [{ ref: 'postgres', image: 'x' }] },
    keyword: 'additionalProperties',
    at: '/spec/dependencies/0',
    field: 'image',
  },
  { kind: 'Domain', spec: { apps: [] }, keyword: 'additionalProperties', at: '/spec', field: 'apps' },
  {
    kind: 'Workspace',
    spec: { nvim: { colorscheme: 'x' } },
    keyword: 'additionalProperties',
    at: '/spec/nvim',
    field: 'colorscheme',
  },
  { kind: 'Task', spec: { cmd: 'make' }, keyword: 'additionalProperties', at: '/spec', field: 'cmd' },
  { kind: 'Task', spec: { timeout: 'five minutes' }, keyword: 'pattern', at: '/spec/timeout' },
  { kind: 'Task', spec: { onFailure: { severity: 'high' } }, keyword: 'required', at: '/spec/onFailure' },
  {
    kind: 'Workflow',
    spec: { tasks: [{ name: 'lint', task: 'run-linter' }] },
    keyword: 'additionalProperties',
    at: '/spec/tasks/0',
    field: 'task',
  },
  { kind: 'Workflow', spec: { tasks: [{ name: 'lint' }] }, keyword: 'anyOf', at: '/spec/tasks/0' },
  {
    kind: 'Pipeline',
    spec: { stages: [{ name: 'b', workflowRef: 'w', when: 'x' }] },
    keyword: 'additionalProperties',
    at: '/spec/stages/0',
    field: 'when',
  },
  {
    kind: 'Job',
    spec: { runs: 'p', trigger: { cron: '* * * * *' } },
    keyword: 'additionalProperties',
    at: '/spec/trigger',
    field: 'cron',
  },
  { kind: 'Job', spec: { trigger: { manual: true } }, keyword: 'required', at: '/spec' },
  {
    kind: 'DataStore',
    spec: { schema: { fields: [{ name: 'id', type: 'string', key: true }] } },
    keyword: 'additionalProperties',
    at: '/spec/schema/fields/0',
    field: 'key',
  },
  {
    kind: 'DataStore',
    spec: { records: [{ ref: 'a', inline: {} }] },
    keyword: 'anyOf',
    at: '/spec/records/0',
  },
  {
    kind: 'Dependency',
    spec: { image: 'redis', replicas: 2 },
    keyword: 'additionalProperties',
    at: '/spec',
    field: 'replicas',
  },
  { kind: 'Runtime', spec: { platform: 'vmware' }, keyword: 'enum', at: '/spec/platform' },
  {
    kind: 'ResourceDefinition',
    spec: { group: 'mycompany.io', names: { kind: 'X' }, scope: 'project' },
    keyword: 'enum',
    at: '/spec/scope',
  },
  { kind: 'Template', spec: { defaults: {} }, keyword: 'required', at: '/spec' },
  {
    kind: 'Operator',
    spec: { watches: [{ type: 'app', events: ['commit'], job: 'x' }] },
    keyword: 'additionalProperties',
    at: '/spec/watches/0',
    field: 'job',
  },
  {
    kind: 'TerminalTheme',
    spec: { palette: 'x' },
    keyword: 'additionalProperties',
    at: '/spec',
    field: 'palette',
  },
  { kind: 'Context', spec: { project: 'x' }, keyword: 'additionalProperties', at: '/spec', field: 'project' },
];

test('invalid objects fail with the expected error', () => {
  for (const { kind, spec, metadata, keyword, at, field } of INVALID) {
    const errors = errorsOf(kind, object(kind, spec, metadata));
    const label = `${kind} ${JSON.stringify(spec)}: ${JSON.stringify(errors.map((e) => [e.keyword, e.instancePath]))}`;
    const match = errors.find((e) => e.keyword === keyword && e.instancePath === at);
    assert.ok(match, label);
    if (field)
      assert.equal((match.params as { additionalProperty?: string }).additionalProperty, field, label);
  }
});

test('unknown top-level and metadata fields are errors for every kind', () => {
  for (const kind of validators.keys()) {
    const errors = errorsOf(kind, { ...object(kind, {}), status: {}, metadata: { name: 'x', owner: 'me' } });
    const extras = errors.filter((e) => e.keyword === 'additionalProperties').map((e) => e.instancePath);
    assert.ok(extras.includes(''), `${kind}: status`);
    assert.ok(extras.includes('/metadata'), `${kind}: metadata.owner`);
  }
});
