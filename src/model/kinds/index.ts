import type { TObject } from '@sinclair/typebox';
import { ActionSchema } from './action.schema.ts';
import { AppSchema } from './app.schema.ts';
import { ContextSchema } from './context.schema.ts';
import { DataLakeSchema } from './data-lake.schema.ts';
import { DataRecordSchema } from './data-record.schema.ts';
import { DataStoreSchema } from './data-store.schema.ts';
import { DependencySchema } from './dependency.schema.ts';
import { DomainSchema } from './domain.schema.ts';
import { EcosystemSchema } from './ecosystem.schema.ts';
import { JobSchema } from './job.schema.ts';
import { NvimPluginSchema } from './nvim-plugin.schema.ts';
import { NvimThemeSchema } from './nvim-theme.schema.ts';
import { OperatorSchema } from './operator.schema.ts';
import { OrchestrationSchema } from './orchestration.schema.ts';
import { PipelineSchema } from './pipeline.schema.ts';
import { ResourceDefinitionSchema } from './resource-definition.schema.ts';
import { RuntimeSchema } from './runtime.schema.ts';
import { TaskSchema } from './task.schema.ts';
import { TemplateSchema } from './template.schema.ts';
import { TerminalPluginSchema } from './terminal-plugin.schema.ts';
import { TerminalPromptSchema } from './terminal-prompt.schema.ts';
import { TerminalThemeSchema } from './terminal-theme.schema.ts';
import { VolumeSchema } from './volume.schema.ts';
import { WorkflowSchema } from './workflow.schema.ts';
import { WorkspaceSchema } from './workspace.schema.ts';

/** The JSON Schema of every built-in kind, keyed by kind name (in the order of catalog.ts). */
export const BUILTIN_SCHEMAS: Record<string, TObject> = {
  Ecosystem: EcosystemSchema,
  Domain: DomainSchema,
  App: AppSchema,
  Workspace: WorkspaceSchema,
  Context: ContextSchema,
  Task: TaskSchema,
  Workflow: WorkflowSchema,
  Pipeline: PipelineSchema,
  Orchestration: OrchestrationSchema,
  Job: JobSchema,
  DataRecord: DataRecordSchema,
  DataStore: DataStoreSchema,
  DataLake: DataLakeSchema,
  Dependency: DependencySchema,
  Volume: VolumeSchema,
  Action: ActionSchema,
  Runtime: RuntimeSchema,
  Template: TemplateSchema,
  ResourceDefinition: ResourceDefinitionSchema,
  NvimPlugin: NvimPluginSchema,
  NvimTheme: NvimThemeSchema,
  TerminalPrompt: TerminalPromptSchema,
  TerminalPlugin: TerminalPluginSchema,
  TerminalTheme: TerminalThemeSchema,
  Operator: OperatorSchema,
};
