import { type Static, Type } from '@sinclair/typebox';
import { AnyOfRequired, NameList, OptCallback } from './common.schema.ts';
import { KindSchema, NameRef, Opt, Req, Spec, Strict } from './schema-helpers.ts';

/** One stage of a Pipeline: a Workflow to run once the stages it depends on have succeeded. */
export const PipelineStage = AnyOfRequired(
  Strict(
    {
      name: Req(NameRef, 'Stage name, unique in the pipeline; dependsOn refers to it.'),
      workflowRef: Opt(NameRef, 'The Workflow this stage runs (may be qualified as DOMAIN/NAME).'),
      workflow: Opt(NameRef, 'Alias of workflowRef.'),
      dependsOn: Opt(NameList, 'Stages that must succeed before this one starts.'),
      manual: Opt(Type.Boolean(), 'When true, the stage runs only if explicitly requested (default false).'),
    },
    'A stage of the pipeline: workflowRef (or workflow) and its dependencies.',
  ),
  ['workflowRef', 'workflow'],
);

/** Schema of the Pipeline kind: a CI/CD cycle of stages (seed 000, "Pipeline"). */
export const PipelineSchema = KindSchema(
  'Pipeline',
  Spec(
    {
      stages: Req(Type.Array(PipelineStage, { minItems: 1 }), 'The stages, each running one workflow.'),
      onComplete: OptCallback('Action to run when the pipeline ends, whatever the outcome.'),
      onSuccess: OptCallback('Action to run when every stage succeeded.'),
      onFailure: OptCallback('Action to run when a stage failed.'),
    },
    'Desired state of the pipeline.',
  ),
  'A CI/CD cycle of stages, each running a workflow.',
);

/** A Pipeline object. */
export type Pipeline = Static<typeof PipelineSchema>;
