import { API_GROUP, API_VERSION, type ScopeLevel } from './api.ts';

/** An extra table column: a header and a dotted path into the effective object (`#` suffix counts a list). */
export interface PrinterColumn {
  header: string;
  path: string;
  /** Shown only with `-o wide`. */
  wide?: boolean;
}

/** Everything the CLI needs to know about a kind without loading its schema. */
export interface KindInfo {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  group: string;
  apiVersion: string;
  scope: ScopeLevel;
  category: string;
  description: string;
  columns: PrinterColumn[];
  builtin: boolean;
}

type BuiltinRow = [
  kind: string,
  plural: string,
  shortNames: string[],
  scope: ScopeLevel,
  category: string,
  description: string,
  columns: PrinterColumn[],
];

const DESCRIPTION_COLUMN: PrinterColumn = { header: 'DESCRIPTION', path: 'metadata.description' };

// The kinds of seed 000, "Object Scope Summary": scope is the container the object lives in.
const BUILTIN_ROWS: BuiltinRow[] = [
  [
    'Ecosystem',
    'ecosystems',
    ['eco'],
    'Global',
    'Hierarchy',
    'Top-level grouping of related domains: a platform or product area.',
    [DESCRIPTION_COLUMN],
  ],
  [
    'Domain',
    'domains',
    ['dom'],
    'Ecosystem',
    'Hierarchy',
    'A bounded context within an ecosystem that groups related apps.',
    [DESCRIPTION_COLUMN],
  ],
  [
    'App',
    'apps',
    [],
    'Domain',
    'Hierarchy',
    'A codebase with a path to its source; runs in dev mode (workspace) or live mode.',
    [
      { header: 'PATH', path: 'spec.path' },
      { header: 'LANGUAGE', path: 'spec.language' },
      { header: 'VERSION', path: 'spec.languageVersion', wide: true },
    ],
  ],
  [
    'Workspace',
    'workspaces',
    ['ws'],
    'App',
    'Hierarchy',
    'The development environment of an app.',
    [
      { header: 'THEME', path: 'spec.nvim.theme', wide: true },
      { header: 'PROMPT', path: 'spec.terminal.prompt', wide: true },
    ],
  ],
  [
    'Context',
    'contexts',
    ['ctx'],
    'Global',
    'Hierarchy',
    'The active selection of ecosystem, domain, app and workspace.',
    [
      { header: 'ECOSYSTEM', path: 'spec.ecosystem' },
      { header: 'DOMAIN', path: 'spec.domain' },
      { header: 'APP', path: 'spec.app' },
      { header: 'WORKSPACE', path: 'spec.workspace' },
    ],
  ],
  [
    'Task',
    'tasks',
    [],
    'Domain',
    'Execution',
    'A single action: the atomic unit of work.',
    [
      { header: 'ACTION', path: 'spec.action' },
      { header: 'COMMAND', path: 'spec.command', wide: true },
    ],
  ],
  [
    'Workflow',
    'workflows',
    ['wf'],
    'Domain',
    'Execution',
    'Tasks with dependencies, run as a DAG.',
    [{ header: 'TASKS', path: 'spec.tasks#' }],
  ],
  [
    'Pipeline',
    'pipelines',
    ['pl'],
    'Domain',
    'Execution',
    'A CI/CD cycle of stages, each running a workflow.',
    [{ header: 'STAGES', path: 'spec.stages#' }],
  ],
  [
    'Orchestration',
    'orchestrations',
    ['orch'],
    'Ecosystem',
    'Execution',
    'Several pipelines coordinated across domains.',
    [{ header: 'PIPELINES', path: 'spec.pipelines#' }],
  ],
  [
    'Job',
    'jobs',
    [],
    'Domain',
    'Execution',
    'When and how to run a pipeline, workflow or task: commit, schedule or manual.',
    [
      { header: 'RUNS', path: 'spec.runs' },
      { header: 'EVENT', path: 'spec.trigger.event' },
      { header: 'SCHEDULE', path: 'spec.trigger.schedule', wide: true },
    ],
  ],
  [
    'DataRecord',
    'datarecords',
    ['dr'],
    'Domain',
    'Data',
    'One row or entity of test data.',
    [{ header: 'DATASTORE', path: 'spec.dataStoreRef' }],
  ],
  [
    'DataStore',
    'datastores',
    ['ds'],
    'Domain',
    'Data',
    'A schema and its records: a table or collection of test data.',
    [
      { header: 'TARGET', path: 'spec.target.dependencyRef' },
      { header: 'TABLE', path: 'spec.target.table' },
      { header: 'RECORDS', path: 'spec.records#' },
    ],
  ],
  [
    'DataLake',
    'datalakes',
    ['dl'],
    'Ecosystem',
    'Data',
    'A set of data stores seeded in order.',
    [{ header: 'STORES', path: 'spec.dataStores#' }],
  ],
  [
    'Dependency',
    'dependencies',
    ['dep', 'deps'],
    'Global',
    'Infrastructure',
    'A service definition (postgres, redis, …) that scopes instantiate by reference.',
    [{ header: 'IMAGE', path: 'spec.image' }],
  ],
  [
    'Volume',
    'volumes',
    ['vol'],
    'Ecosystem',
    'Infrastructure',
    'Persistent storage for dependencies or workspaces.',
    [
      { header: 'SIZE', path: 'spec.size' },
      { header: 'HOSTPATH', path: 'spec.hostPath', wide: true },
    ],
  ],
  [
    'Action',
    'actions',
    ['act'],
    'Global',
    'Infrastructure',
    'A user-defined verb that tasks can run.',
    [{ header: 'DESCRIPTION', path: 'spec.description' }],
  ],
  [
    'Runtime',
    'runtimes',
    ['rt'],
    'Global',
    'Infrastructure',
    'A container platform and its settings.',
    [
      { header: 'PLATFORM', path: 'spec.platform' },
      { header: 'SOCKET', path: 'spec.socket', wide: true },
    ],
  ],
  [
    'Template',
    'templates',
    ['tpl'],
    'Global',
    'Reusability',
    'Reusable defaults for objects of one kind.',
    [{ header: 'TARGET-KIND', path: 'spec.targetKind' }],
  ],
  [
    'ResourceDefinition',
    'resourcedefinitions',
    ['rd', 'crd', 'crds'],
    'Global',
    'Reusability',
    'A user-defined kind with its JSON Schema.',
    [
      { header: 'KIND', path: 'spec.names.kind' },
      { header: 'GROUP', path: 'spec.group' },
      { header: 'SCOPE', path: 'spec.scope' },
    ],
  ],
  [
    'NvimPlugin',
    'nvimplugins',
    ['np'],
    'Global',
    'Dev Tools',
    'A Neovim plugin and its configuration.',
    [{ header: 'REPO', path: 'spec.repo' }],
  ],
  [
    'NvimTheme',
    'nvimthemes',
    ['nt'],
    'Global',
    'Dev Tools',
    'A Neovim colorscheme with its palette.',
    [{ header: 'COLORSCHEME', path: 'spec.colorscheme' }],
  ],
  [
    'TerminalPrompt',
    'terminalprompts',
    ['tprompt'],
    'Global',
    'Dev Tools',
    'A shell prompt configuration.',
    [{ header: 'TYPE', path: 'spec.type' }],
  ],
  [
    'TerminalPlugin',
    'terminalplugins',
    ['tplugin'],
    'Global',
    'Dev Tools',
    'A shell plugin configuration.',
    [
      { header: 'REPO', path: 'spec.repo' },
      { header: 'SHELL', path: 'spec.shell' },
    ],
  ],
  [
    'TerminalTheme',
    'terminalthemes',
    ['ttheme'],
    'Global',
    'Dev Tools',
    'Terminal colors.',
    [{ header: 'PALETTE', path: 'spec.paletteRef' }],
  ],
  [
    'Operator',
    'operators',
    ['op'],
    'Ecosystem',
    'Operations',
    'The live-mode operator: what it watches and which jobs it runs.',
    [{ header: 'WATCHES', path: 'spec.watches#' }],
  ],
];

/** The built-in kinds of seed 000, in the seed's order. */
export const BUILTIN_KINDS: readonly KindInfo[] = BUILTIN_ROWS.map(
  ([kind, plural, shortNames, scope, category, description, columns]) => ({
    kind,
    plural,
    singular: kind.toLowerCase(),
    shortNames,
    group: API_GROUP,
    apiVersion: API_VERSION,
    scope,
    category,
    description,
    columns,
    builtin: true,
  }),
);

/** Looks up a built-in kind by its exact kind name. */
export function builtinKind(kind: string): KindInfo | undefined {
  return BUILTIN_KINDS.find((k) => k.kind === kind);
}
