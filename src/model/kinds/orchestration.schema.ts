import { type Static, Type } from '@sinclair/typebox';
import { NameList, OptCallback } from './common.schema.ts';
import { KindSchema, NameRef, Opt, Req, Spec, Strict } from './schema-helpers.ts';

/** Schema of the Orchestration kind: pipelines coordinated across domains (seed 000, "Orchestration"). */
export const OrchestrationSchema = KindSchema(
  'Orchestration',
  Spec(
    {
      pipelines: Req(
        Type.Array(
          Strict(
            {
              name: Req(NameRef, 'Entry name, unique in the orchestration; dependsOn refers to it.'),
              pipelineRef: Req(NameRef, 'The Pipeline to run, qualified as DOMAIN/NAME.'),
              dependsOn: Opt(NameList, 'Entries that must succeed before this one starts.'),
            },
            'A pipeline run of the orchestration.',
          ),
          { minItems: 1 },
        ),
        'The pipelines to run; entries without dependsOn run in parallel.',
      ),
      onComplete: OptCallback('Action to run when every pipeline has ended.'),
      onSuccess: OptCallback('Action to run when every pipeline succeeded.'),
      onFailure: OptCallback('Action to run when a pipeline failed.'),
    },
    'Desired state of the orchestration.',
  ),
  'Several pipelines coordinated across domains.',
);

/** An Orchestration object. */
export type Orchestration = Static<typeof OrchestrationSchema>;
