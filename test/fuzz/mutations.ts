// Seeded mutations of dvm documents for the apply fuzzer: each takes a valid document and breaks it in one way
// a user (or a bad tool) might, at the data level or in the YAML text itself.
import { stringify } from 'yaml';

/** A seeded pseudo-random source. */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** One element of a non-empty list. */
  pick<T>(list: readonly T[]): T;
}

/** mulberry32, wrapped as an Rng: small, fast and reproducible from a 32-bit seed. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, chance: (p) => next() < p, pick: (list) => list[int(list.length)] };
}

type Json = unknown;
type Obj = Record<string, Json>;
type Path = (string | number)[];

/** One fuzz input: YAML text for one file, and the mutation that made it. */
export interface FuzzCase {
  mutation: string;
  text: string;
}

const isObj = (v: Json): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Every path below the root of a value (objects and lists), parents before children. */
export function pathsOf(value: Json, prefix: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push([...prefix, i]);
      pathsOf(v, [...prefix, i], out);
    });
  } else if (isObj(value)) {
    for (const [k, v] of Object.entries(value)) {
      out.push([...prefix, k]);
      pathsOf(v, [...prefix, k], out);
    }
  }
  return out;
}

function getAt(root: Json, path: Path): Json {
  let node = root;
  for (const seg of path) node = (node as Obj | undefined)?.[seg as string];
  return node;
}

function setAt(root: Json, path: Path, value: Json): void {
  const parent = getAt(root, path.slice(0, -1)) as Obj;
  parent[path[path.length - 1] as string] = value;
}

function deleteAt(root: Json, path: Path): void {
  const parent = getAt(root, path.slice(0, -1));
  const last = path[path.length - 1];
  if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
  else if (isObj(parent)) delete parent[last as string];
}

/** A near-miss of a name: one typo (swap, drop, double, change case, plural, replace). */
export function nearMiss(rng: Rng, name: string): string {
  if (name.length < 2) return `${name}x`;
  const i = rng.int(name.length - 1);
  switch (rng.int(6)) {
    case 0:
      return name.slice(0, i) + name[i + 1] + name[i] + name.slice(i + 2);
    case 1:
      return name.slice(0, i) + name.slice(i + 1);
    case 2:
      return name.slice(0, i) + name[i] + name.slice(i);
    case 3:
      return name === name.toLowerCase() ? name.toUpperCase() : name.toLowerCase();
    case 4:
      return `${name}s`;
    default:
      return `${name.slice(0, i)}${rng.pick(['q', '_', '-', '0', 'é'])}${name.slice(i + 1)}`;
  }
}

const UNICODE_RANGES: [number, number][] = [
  [0x20, 0x7e],
  [0xa0, 0x24f],
  [0x300, 0x36f], // combining marks
  [0x590, 0x6ff], // Hebrew, Arabic
  [0x200b, 0x200f], // zero-width, direction marks
  [0x202a, 0x202e], // bidi overrides
  [0x4e00, 0x4fff],
  [0xfff0, 0xffff], // specials, BOM-like
  [0x1f300, 0x1f64f], // emoji (astral)
  [0xd800, 0xdfff], // lone surrogates
  [0x0, 0x1f], // control characters
];

/** A random string of 1–`max` code points from awkward Unicode ranges. */
export function randomUnicode(rng: Rng, max = 24): string {
  let out = '';
  const n = 1 + rng.int(max);
  for (let i = 0; i < n; i++) {
    const [lo, hi] = rng.pick(UNICODE_RANGES);
    out += String.fromCodePoint(lo + rng.int(hi - lo + 1));
  }
  return out;
}

function hugeString(rng: Rng): string {
  const size = rng.pick([70_000, 150_000]);
  return rng.chance(0.5)
    ? 'x'.repeat(size)
    : randomUnicode(rng, 8)
        .repeat(Math.ceil(size / 8))
        .slice(0, size);
}

function deepValue(rng: Rng, depth: number): Json {
  let value: Json = rng.pick(['leaf', 1, null, true]);
  const asList = rng.chance(0.5);
  for (let i = 0; i < depth; i++)
    value = asList ? [value] : { [rng.pick(['a', 'spec', 'tasks', 'x'])]: value };
  return value;
}

/** A value of a different JSON type than `value`. */
function otherType(rng: Rng, value: Json): Json {
  const options: Json[] = [42, -1, 3.5, 1e308, true, false, 'text', '', [], ['a', 1], {}, { a: 1 }, null];
  const kind = (v: Json) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  const different = options.filter((o) => kind(o) !== kind(value));
  return structuredClone(rng.pick(different));
}

// Required fields (paths) of the kinds in base.yaml; a deletion picks one that exists in the document.
const REQUIRED: Path[] = [
  ['apiVersion'],
  ['kind'],
  ['metadata'],
  ['metadata', 'name'],
  ['spec'],
  ['spec', 'tasks'],
  ['spec', 'tasks', 0, 'taskRef'],
  ['spec', 'tasks', 2, 'ref'],
  ['spec', 'stages'],
  ['spec', 'stages', 0, 'name'],
  ['spec', 'stages', 1, 'workflow'],
  ['spec', 'targetKind'],
  ['spec', 'dataStoreRef'],
  ['spec', 'data'],
  ['spec', 'runs'],
  ['spec', 'group'],
  ['spec', 'names'],
  ['spec', 'names', 'kind'],
  ['spec', 'enabled'],
  ['spec', 'schema', 'fields', 0, 'type'],
  ['spec', 'target', 'dependencyRef'],
  ['spec', 'ports', 0, 'containerPort'],
  ['spec', 'mounts', 0, 'target'],
  ['spec', 'inputs', 0, 'type'],
  ['spec', 'env', 0, 'name'],
];

// Fields that name other objects; corrupting one must be a coded reference (or placement) error.
const REFERENCES: Path[] = [
  ['metadata', 'ecosystem'],
  ['metadata', 'domain'],
  ['metadata', 'app'],
  ['spec', 'template'],
  ['spec', 'dependencies', 0, 'ref'],
  ['spec', 'dependencies', 1, 'ref'],
  ['spec', 'dataLakes', 0, 'ref'],
  ['spec', 'dataStores', 0, 'ref'],
  ['spec', 'tasks', 0, 'taskRef'],
  ['spec', 'tasks', 0, 'ref'],
  ['spec', 'tasks', 2, 'ref'],
  ['spec', 'stages', 0, 'workflowRef'],
  ['spec', 'stages', 1, 'workflow'],
  ['spec', 'runs'],
  ['spec', 'action'],
  ['spec', 'onFailure', 'action'],
  ['spec', 'onComplete', 'action'],
  ['spec', 'dataStoreRef'],
  ['spec', 'target', 'dependencyRef'],
  ['spec', 'records', 0, 'ref'],
  ['spec', 'nvim', 'theme'],
  ['spec', 'nvim', 'plugins', 0],
  ['spec', 'seedOrder', 0],
];

const BAD_NAMES = [
  '',
  'UPPER',
  '-dash',
  'trailing-',
  'a/b',
  'a/b/c/d/e/f',
  '/',
  '..',
  ' space',
  'x'.repeat(254),
  '*',
  '名前',
];
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf'];
const BAD_SCHEMAS: Json[] = [
  { type: 'nonsense' },
  { type: 'object', properties: 5 },
  { type: 'object', properties: { enabled: { type: 'boolean', minimum: 'x' } } },
  { type: 'object', properties: { enabled: { pattern: '([' } } },
  { $ref: '#/definitions/missing' },
  { type: 'object', required: 'enabled' },
  { allOf: [{ $ref: '#' }] },
  { type: 'object', properties: { spec: { type: 'string' } } },
  { type: 'object', properties: { metadata: { type: 'string' } }, required: ['metadata'] },
  { type: 'object', additionalProperties: { $ref: 'http://example.com/schema.json' } },
];

/** Changes `doc` in place (it may copy another base document into it); returns extra documents for the batch. */
// biome-ignore lint/suspicious/noConfusingVoidType: most mutations return nothing.
type DataMutation = (rng: Rng, doc: Obj, all: Obj[]) => Obj[] | undefined | void;

function anyPath(rng: Rng, doc: Obj): Path {
  const paths = pathsOf(doc);
  return paths.length ? rng.pick(paths) : ['spec'];
}

function objectPaths(doc: Obj): Path[] {
  return [[], ...pathsOf(doc).filter((p) => isObj(getAt(doc, p)))];
}

function stringPaths(doc: Obj): Path[] {
  return pathsOf(doc).filter((p) => typeof getAt(doc, p) === 'string');
}

/** The object at `doc[key]`, replacing a missing or non-object value with `{}`. */
function ensureObject(doc: Obj, key: string): Obj {
  if (!isObj(doc[key])) doc[key] = {};
  return doc[key] as Obj;
}

function dagList(doc: Obj): Obj[] | undefined {
  const spec = doc.spec as Obj | undefined;
  const list = doc.kind === 'Workflow' ? spec?.tasks : doc.kind === 'Pipeline' ? spec?.stages : undefined;
  return Array.isArray(list) && list.every(isObj) && list.length > 0 ? (list as Obj[]) : undefined;
}

/** Data-level mutations by name; each changes `doc` in place (it may also reach for other documents). */
export const DATA_MUTATIONS: Record<string, DataMutation> = {
  'delete-required': (rng, doc) => {
    const present = REQUIRED.filter((p) => getAt(doc, p) !== undefined);
    deleteAt(doc, present.length ? rng.pick(present) : anyPath(rng, doc));
    // Workflow entries accept taskRef or ref: drop both so the alias cannot cover for the deleted one.
    for (const entry of dagList(doc) ?? []) if (rng.chance(0.3)) delete entry.ref;
  },
  'change-type': (rng, doc) => {
    const path = anyPath(rng, doc);
    setAt(doc, path, otherType(rng, getAt(doc, path)));
  },
  'unknown-field': (rng, doc) => {
    const path = rng.pick(objectPaths(doc));
    const target = getAt(doc, path) as Obj;
    const keys = Object.keys(target);
    const base = keys.length ? rng.pick(keys) : rng.pick(['spec', 'name', 'dependsOn', 'language']);
    target[nearMiss(rng, base)] = rng.chance(0.5)
      ? structuredClone(target[base] ?? 'value')
      : otherType(rng, 'x');
  },
  'corrupt-ref': (rng, doc) => {
    const present = REFERENCES.filter((p) => typeof getAt(doc, p) === 'string');
    if (present.length === 0) {
      doc.metadata = { ...(doc.metadata as Obj), domain: nearMiss(rng, 'payments') };
      return;
    }
    const path = rng.pick(present);
    const value = getAt(doc, path) as string;
    const choices = [
      nearMiss(rng, value),
      `missing-${rng.int(1000)}`,
      `nowhere/${value}`,
      `a/b/c/${value}`,
      rng.pick(BAD_NAMES),
    ];
    setAt(doc, path, rng.pick(choices));
  },
  'dag-cycle': (rng, doc, all) => {
    const target = dagList(doc) ? doc : all.find((d) => d.kind === rng.pick(['Workflow', 'Pipeline']));
    if (!target) return;
    if (target !== doc) Object.assign(doc, structuredClone(target));
    const list = dagList(doc) as Obj[];
    const names = list.map((e) => String(e.name));
    const first = list[0];
    const last = list[list.length - 1];
    switch (rng.int(4)) {
      case 0: // first waits for last, which (transitively) waits for first
        first.dependsOn = [String(last.name)];
        break;
      case 1: // self edge
        first.dependsOn = [String(first.name)];
        break;
      case 2: // a name that is no entry (near miss)
        last.dependsOn = [nearMiss(rng, rng.pick(names))];
        break;
      default: // duplicate entry names
        last.name = first.name;
    }
  },
  'stale-version': (rng, doc) => {
    const metadata = ensureObject(doc, 'metadata');
    metadata.resourceVersion = rng.pick<Json>(['1', '0', '2', '-1', 'abc', 999_999, 1.5, true, null, {}, []]);
  },
  'kind-near-miss': (rng, doc) => {
    const kind = typeof doc.kind === 'string' ? doc.kind : 'App';
    doc.kind = rng.pick([
      nearMiss(rng, kind),
      kind.toLowerCase(),
      `${kind}s`,
      ` ${kind}`,
      `${kind}\u200b`,
      rng.pick(['Apps', 'Project', 'List', 'ResourceDefiniton']),
    ]);
  },
  'api-version': (rng, doc) => {
    doc.apiVersion = rng.pick([
      'devopsmaestro.io/v2',
      'devopsmaestro.io/v1beta1',
      'v1',
      'acme.io/v1',
      'devopsmaestro.io/v1 ',
      nearMiss(rng, 'devopsmaestro.io/v1'),
    ]);
  },
  unicode: (rng, doc) => {
    const strings = stringPaths(doc);
    if (rng.chance(0.3)) {
      const target = getAt(doc, rng.pick(objectPaths(doc))) as Obj;
      target[randomUnicode(rng)] = randomUnicode(rng);
    } else if (strings.length) setAt(doc, rng.pick(strings), randomUnicode(rng));
  },
  'huge-string': (rng, doc) => {
    const paths: Path[] = [['metadata', 'name'], ['kind'], ['metadata', 'description'], ...stringPaths(doc)];
    if (rng.chance(0.2)) {
      const target = getAt(doc, rng.pick(objectPaths(doc))) as Obj;
      target[hugeString(rng).slice(0, 70_000)] = 1;
    } else {
      const path = rng.pick(paths);
      if (isObj(getAt(doc, path.slice(0, -1))) || path.length === 1) setAt(doc, path, hugeString(rng));
    }
  },
  nulls: (rng, doc) => {
    const path = rng.chance(0.3)
      ? rng.pick<Path>([['metadata'], ['spec'], ['kind'], ['metadata', 'name'], ['apiVersion']])
      : anyPath(rng, doc);
    setAt(doc, path, null);
  },
  'deep-nesting': (rng, doc) => {
    const path = rng.chance(0.5)
      ? ['spec', rng.pick(['tasks', 'defaults', 'data', 'params', 'dependencies', 'enabled'])]
      : anyPath(rng, doc);
    if (!isObj(getAt(doc, path.slice(0, -1)))) doc.spec = {};
    setAt(
      doc,
      isObj(getAt(doc, path.slice(0, -1))) ? path : ['spec', 'x'],
      deepValue(rng, rng.pick([30, 200, 500])),
    );
  },
  placement: (rng, doc) => {
    const metadata = ensureObject(doc, 'metadata');
    const field = rng.pick(['ecosystem', 'domain', 'app', 'workspace', 'project']);
    metadata[field] = rng.pick<Json>([
      undefined,
      nearMiss(rng, 'payments'),
      'identity',
      'acme',
      'api',
      7,
      '',
      ['payments'],
    ]);
    if (metadata[field] === undefined) delete metadata[field];
  },
  rename: (rng, doc) => {
    const metadata = ensureObject(doc, 'metadata');
    metadata.name = rng.chance(0.5) ? `fuzz-${rng.int(50)}` : rng.pick(BAD_NAMES);
  },
  'proto-keys': (rng, doc) => {
    const target = getAt(doc, rng.pick(objectPaths(doc))) as Obj;
    const value = rng.pick<Json>([{ polluted: true }, 'x', null, [1], { name: 'evil', kind: 'App' }]);
    Object.defineProperty(target, rng.pick(PROTO_KEYS), {
      value,
      enumerable: true,
      configurable: true,
      writable: true,
    });
  },
  'template-mismatch': (rng, doc) => {
    const spec = ensureObject(doc, 'spec');
    spec.template = rng.pick(['go-service', 'nvim', 'tokyonight', 'missing-template']);
  },
  'definition-schema': (rng, doc, all) => {
    const definition = all.find((d) => d.kind === 'ResourceDefinition') as Obj;
    Object.assign(doc, structuredClone(definition));
    const spec = doc.spec as Obj;
    if (rng.chance(0.5)) {
      spec.schema = structuredClone(rng.pick(BAD_SCHEMAS));
      return undefined;
    }
    // A kind name that clashes with a built-in, is not a valid name, or is a property of Object.prototype;
    // an object of that kind comes along so the batch uses it.
    const kind = rng.pick([
      ...PROTO_KEYS,
      'App',
      'Ecosystem',
      'Workflow',
      'featureFlag',
      'Feature Flag',
      '',
      'K'.repeat(300),
    ]);
    const names = spec.names as Obj;
    if (rng.chance(0.7)) names.kind = kind;
    else names[rng.pick(['plural', 'singular'])] = rng.pick(['apps', 'task', 'ff', 'ws', ...PROTO_KEYS]);
    const at = { ecosystem: 'acme', domain: 'payments' };
    return [
      {
        apiVersion: 'acme.io/v1',
        kind: String(names.kind),
        metadata: { name: 'fuzzed', ...at },
        spec: { enabled: true },
      },
    ];
  },
};

/** Text-level mutations: the input is the YAML text of one valid document. */
export const TEXT_MUTATIONS: Record<string, (rng: Rng, text: string) => string> = {
  'yaml-edit': (rng, text) => {
    let out = text;
    const edits = 1 + rng.int(3);
    for (let i = 0; i < edits; i++) {
      const at = rng.int(out.length + 1);
      const insert = rng.pick([
        '\t',
        ':',
        ': :',
        '[',
        ']',
        '{',
        '}',
        '"',
        "'",
        '- ',
        '\n  ',
        '\n-',
        '&a',
        '*a',
        '!!binary',
        '%',
        '@',
        '`',
        '#',
        '\n---\n',
        '\n...\n',
        '? ',
        '|',
        '>',
        '\\',
      ]);
      out = rng.chance(0.3)
        ? out.slice(0, at) + out.slice(at + 1 + rng.int(4))
        : out.slice(0, at) + insert + out.slice(at);
    }
    return out;
  },
  'yaml-duplicate-key': (rng, text) => {
    const lines = text.split('\n');
    const i = rng.int(Math.max(1, lines.length - 1));
    lines.splice(i, 0, lines[i]);
    return lines.join('\n');
  },
  'yaml-indent': (rng, text) => {
    const lines = text.split('\n');
    const i = 1 + rng.int(Math.max(1, lines.length - 2));
    lines[i] = rng.chance(0.5) ? ` ${lines[i]}` : lines[i].replace(/^ /, '');
    return lines.join('\n');
  },
  'yaml-deep-flow': (rng, text) => {
    const depth = rng.pick([100, 2000, 20_000]);
    const [open, close] = rng.chance(0.5) ? ['[', ']'] : ['{a: ', '}'];
    return `${text}\nextra: ${open.repeat(depth)}1${close.repeat(depth)}\n`;
  },
  'yaml-alias-bomb': (rng) => {
    const levels = 3 + rng.int(6);
    const lines = [
      'apiVersion: devopsmaestro.io/v1',
      'kind: Domain',
      'metadata: {name: bomb, ecosystem: acme}',
      'spec:',
      '  defaults:',
      '    l0: &l0 [x, x, x, x, x, x, x, x, x, x]',
    ];
    for (let i = 1; i <= levels; i++)
      lines.push(
        `    l${i}: &l${i} [${Array(10)
          .fill(`*l${i - 1}`)
          .join(', ')}]`,
      );
    return `${lines.join('\n')}\n`;
  },
  'yaml-not-a-mapping': (rng, text) =>
    `${text}---\n${rng.pick(['42', '"just a string"', '[a, b]', '~', '!!binary aGVsbG8=', '- - -', '? complex\n: key', '!custom-tag {a: 1}', '2001-12-14t21:59:43.10-05:00'])}\n`,
  'yaml-bytes': (rng, text) => {
    const at = rng.int(text.length);
    const junk = rng.pick(['\u0000', '\uFEFF', '\u0085', '\u2028', '\uD800', '\r', '\r\n', '\u001b[31m']);
    return text.slice(0, at) + junk + text.slice(at);
  },
};

/** Renders documents as one YAML text (the way a user's file would look). */
export function toYamlText(docs: readonly Json[]): string {
  return docs.map((d) => `---\n${stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })}`).join('');
}

/** Builds one fuzz case from the valid base documents: a mutated document, sometimes with valid companions. */
export function makeCase(rng: Rng, base: readonly Obj[]): FuzzCase {
  const docs = base.map((d) => structuredClone(d));
  const doc = rng.pick(docs);
  const companions = rng.chance(0.4)
    ? Array.from({ length: 1 + rng.int(3) }, () => rng.pick(docs)).filter((d) => d !== doc)
    : [];
  const textual = Object.keys(TEXT_MUTATIONS);
  const names = [...Object.keys(DATA_MUTATIONS), ...textual, 'duplicate', 'two-mutations'];
  const mutation = rng.pick(names);
  if (textual.includes(mutation)) {
    return { mutation, text: toYamlText(companions) + TEXT_MUTATIONS[mutation](rng, toYamlText([doc])) };
  }
  const batch = [...companions, doc];
  if (mutation === 'duplicate') {
    const twin = structuredClone(doc);
    if (isObj(twin.spec) && rng.chance(0.5)) twin.spec.fuzz = true;
    batch.push(twin);
  } else if (mutation === 'two-mutations') {
    const second = structuredClone(rng.pick(base)) as Obj;
    const [m1, m2] = [rng.pick(Object.keys(DATA_MUTATIONS)), rng.pick(Object.keys(DATA_MUTATIONS))];
    batch.push(...(DATA_MUTATIONS[m1](rng, doc, docs) ?? []), second);
    batch.push(...(DATA_MUTATIONS[m2](rng, second, docs) ?? []));
    return { mutation: `${m1}+${m2}`, text: toYamlText(shuffle(rng, batch)) };
  } else {
    batch.push(...(DATA_MUTATIONS[mutation](rng, doc, docs) ?? []));
  }
  return { mutation, text: toYamlText(shuffle(rng, batch)) };
}

function shuffle<T>(rng: Rng, list: T[]): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [list[i], list[j]] = [list[j], list[i]];
  }
  return list;
}
