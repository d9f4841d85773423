// Deterministic generator of a large, valid, cross-referencing batch of dvm objects for the benchmarks.
// Usage: node bench/generate.ts [TOTAL=10000] [SEED=20240601] > objects.yaml
import { stringify } from 'yaml';

const API = 'devopsmaestro.io/v1';

/** A plain dvm object as written in YAML. */
export type BenchObject = {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown>;
  spec?: Record<string, unknown>;
};

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DEPENDENCIES: [string, string, number][] = [
  ['postgres', 'postgres:16-alpine', 5432],
  ['redis', 'redis:7-alpine', 6379],
  ['kafka', 'bitnami/kafka:3.7', 9092],
  ['mysql', 'mysql:8.4', 3306],
  ['mongodb', 'mongo:7', 27017],
  ['rabbitmq', 'rabbitmq:3-management', 5672],
  ['elasticsearch', 'elasticsearch:8.14.0', 9200],
  ['minio', 'minio/minio:latest', 9000],
];
const TEMPLATES: [string, Record<string, unknown>][] = [
  ['go-api', { language: 'go', languageVersion: '1.23', resources: { memory: '512Mi', cpu: '500m' } }],
  ['ts-web', { language: 'typescript', languageVersion: '22', ports: [{ containerPort: 3000 }] }],
  [
    'py-worker',
    { language: 'python', languageVersion: '3.12', healthCheck: { command: ['true'], interval: '10s' } },
  ],
  ['rust-svc', { language: 'rust', languageVersion: '1.80', resources: { memory: '256Mi' } }],
];
const DOMAIN_WORDS = [
  'auth',
  'billing',
  'catalog',
  'search',
  'orders',
  'shipping',
  'identity',
  'analytics',
  'payments',
  'support',
];
const APP_WORDS = [
  'api',
  'web',
  'worker',
  'gateway',
  'scheduler',
  'indexer',
  'admin',
  'notifier',
  'importer',
  'exporter',
];
const TASK_WORDS = ['lint', 'test', 'build', 'package', 'migrate', 'seed', 'deploy', 'smoke', 'scan', 'docs'];
const LANGUAGES = ['go', 'typescript', 'python', 'rust', 'java'];

const APPS_PER_DOMAIN = 20;
const TASKS_PER_DOMAIN = 20;
const WORKFLOWS_PER_DOMAIN = 8;
const PIPELINES_PER_DOMAIN = 4;
const STORES_PER_DOMAIN = 5;
const RECORDS_PER_DOMAIN = 20;
const DOMAINS_PER_ECOSYSTEM = 10;
// Domain + apps + workspaces + tasks + workflows + pipelines + stores + records.
const PER_DOMAIN =
  1 +
  2 * APPS_PER_DOMAIN +
  TASKS_PER_DOMAIN +
  WORKFLOWS_PER_DOMAIN +
  PIPELINES_PER_DOMAIN +
  STORES_PER_DOMAIN +
  RECORDS_PER_DOMAIN;

function obj(kind: string, metadata: Record<string, unknown>, spec?: Record<string, unknown>): BenchObject {
  return spec === undefined ? { apiVersion: API, kind, metadata } : { apiVersion: API, kind, metadata, spec };
}

function baseCount(domains: number): number {
  return (
    DEPENDENCIES.length + TEMPLATES.length + Math.ceil(domains / DOMAINS_PER_ECOSYSTEM) + domains * PER_DOMAIN
  );
}

/** Generates exactly `total` valid objects (at least one full domain) with references between them; same seed, same output. */
export function generateObjects(total = 10_000, seed = 20240601): BenchObject[] {
  const random = mulberry32(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const chance = (p: number) => random() < p;
  let domainCount = 1;
  while (baseCount(domainCount + 1) <= total) domainCount++;
  const out: BenchObject[] = [];

  for (const [name, image, port] of DEPENDENCIES) {
    out.push(
      obj(
        'Dependency',
        { name },
        { image, ports: [{ containerPort: port }], env: [{ name: 'TZ', value: 'UTC' }] },
      ),
    );
  }
  for (const [name, defaults] of TEMPLATES)
    out.push(obj('Template', { name }, { targetKind: 'App', defaults }));

  const ecosystemCount = Math.ceil(domainCount / DOMAINS_PER_ECOSYSTEM);
  for (let e = 0; e < ecosystemCount; e++) {
    out.push(
      obj(
        'Ecosystem',
        { name: `eco-${e}`, description: `Ecosystem ${e}` },
        { dependencies: [{ name: 'events', ref: 'kafka' }] },
      ),
    );
  }

  const firstStores: [string, string, string][] = [];
  for (let d = 0; d < domainCount; d++) {
    const ecosystem = `eco-${Math.floor(d / DOMAINS_PER_ECOSYSTEM)}`;
    // Domain names repeat across ecosystems, app and task names across domains: lookups must use the scope.
    const domain = `${DOMAIN_WORDS[d % DOMAINS_PER_ECOSYSTEM]}-domain`;
    const at = { ecosystem, domain };
    const storeNames = Array.from({ length: STORES_PER_DOMAIN }, (_, i) => `store-${i}`);
    const recordNames = Array.from({ length: RECORDS_PER_DOMAIN }, (_, i) => `record-${i}`);
    out.push(
      obj(
        'Domain',
        { name: domain, ecosystem, labels: { team: pick(DOMAIN_WORDS) } },
        {
          dependencies: [
            { name: 'db', ref: pick(['postgres', 'mysql']) },
            { name: 'cache', ref: 'redis' },
            { ref: 'events' },
          ],
          // Qualified: an unqualified name would be looked up in every domain of the ecosystem (see report).
          dataStores: storeNames.map((store) => ({ ref: `${domain}/${store}` })),
          ...(chance(0.5) ? { defaults: { language: pick(LANGUAGES), languageVersion: '1' } } : {}),
        },
      ),
    );
    const taskNames = Array.from(
      { length: TASKS_PER_DOMAIN },
      (_, i) => `${TASK_WORDS[i % TASK_WORDS.length]}-${i}`,
    );
    for (let a = 0; a < APPS_PER_DOMAIN; a++) {
      const app = `${APP_WORDS[a % APP_WORDS.length]}-${a}`;
      const spec: Record<string, unknown> = { path: `/srv/src/${ecosystem}/${domain}/${app}` };
      if (chance(0.3)) spec.template = pick(TEMPLATES)[0];
      else spec.language = pick(LANGUAGES);
      if (chance(0.5)) spec.ports = [{ containerPort: 8000 + a, hostPort: 18000 + a, protocol: 'TCP' }];
      spec.dependencies = chance(0.3)
        ? [{ ref: 'db' }, { name: 'own-cache', ref: 'redis' }]
        : [{ ref: 'db' }];
      if (chance(0.4)) spec.env = [{ name: 'LOG_LEVEL', value: pick(['debug', 'info', 'warn']) }];
      out.push(
        obj('App', { name: app, ...at, labels: { tier: pick(['frontend', 'backend', 'batch']) } }, spec),
      );
      out.push(
        obj(
          'Workspace',
          { name: 'dev', ...at, app },
          {
            image: `ghcr.io/example/${app}-dev:latest`,
            mounts: [{ source: `~/src/${app}`, target: '/workspace' }],
            tasks: [{ ref: taskNames[a % TASKS_PER_DOMAIN] }, { ref: taskNames[(a + 1) % TASKS_PER_DOMAIN] }],
          },
        ),
      );
    }
    taskNames.forEach((name, i) => {
      out.push(
        obj(
          'Task',
          { name, ...at },
          {
            action: 'exec',
            command: ['make', TASK_WORDS[i % TASK_WORDS.length]],
            timeout: `${1 + Math.floor(random() * 30)}m`,
            retries: Math.floor(random() * 3),
            env: [{ name: 'CI', value: 'true' }],
            ...(chance(0.2) ? { onFailure: { action: 'notify.slack', channel: '#ci' } } : {}),
          },
        ),
      );
    });
    for (let w = 0; w < WORKFLOWS_PER_DOMAIN; w++) {
      const size = 3 + Math.floor(random() * 4);
      const entries = Array.from({ length: size }, (_, i) => {
        // Edges only point at earlier entries, so the graph is acyclic.
        const dependsOn = i === 0 ? [] : [`step-${Math.floor(random() * i)}`];
        if (i > 1 && chance(0.3)) dependsOn.push(`step-${i - 1}`);
        return {
          name: `step-${i}`,
          taskRef: pick(taskNames),
          ...(dependsOn.length ? { dependsOn: [...new Set(dependsOn)] } : {}),
        };
      });
      out.push(
        obj(
          'Workflow',
          { name: `wf-${w}`, ...at },
          { tasks: entries, onComplete: { action: 'notify.team', message: 'done' } },
        ),
      );
    }
    for (let p = 0; p < PIPELINES_PER_DOMAIN; p++) {
      const stages = ['build', 'test', 'release'].map((name, i) => ({
        name,
        workflowRef: `wf-${(p + i) % WORKFLOWS_PER_DOMAIN}`,
        ...(i > 0 ? { dependsOn: ['build', 'test'].slice(0, i) } : {}),
      }));
      out.push(
        obj(
          'Pipeline',
          { name: `pipeline-${p}`, ...at },
          { stages, onSuccess: { action: 'git.push', remote: 'origin' } },
        ),
      );
    }
    storeNames.forEach((name, s) => {
      const records = recordNames.filter((_, r) => r % STORES_PER_DOMAIN === s).map((ref) => ({ ref }));
      out.push(
        obj(
          'DataStore',
          { name, ...at },
          {
            target: { dependencyRef: 'db', database: domain.replace('-', '_'), table: `table_${s}` },
            schema: {
              fields: [
                { name: 'id', type: 'integer', primary: true },
                { name: 'label', type: 'string' },
              ],
            },
            records: [...records, { inline: { id: 1000 + s, label: 'inline' } }],
          },
        ),
      );
    });
    recordNames.forEach((name, r) => {
      out.push(
        obj(
          'DataRecord',
          { name, ...at },
          { dataStoreRef: storeNames[r % STORES_PER_DOMAIN], data: { id: r, label: `row ${r}` } },
        ),
      );
    });
    firstStores.push([ecosystem, domain, storeNames[0]]);
  }
  // Pad to the exact total with extra records spread over the domains.
  for (let i = 0; out.length < total; i++) {
    const [ecosystem, domain, store] = firstStores[i % firstStores.length];
    out.push(
      obj(
        'DataRecord',
        { name: `extra-${i}`, ecosystem, domain },
        { dataStoreRef: store, data: { id: 10_000 + i } },
      ),
    );
  }
  return out;
}

/** Renders objects as one multi-document YAML text. */
export function toYaml(objects: readonly BenchObject[]): string {
  return objects.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join('');
}

if (import.meta.main) {
  const [total = '10000', seed = '20240601'] = process.argv.slice(2);
  process.stdout.write(toYaml(generateObjects(Number(total), Number(seed))));
}
