import { type Static, Type } from '@sinclair/typebox';
import { AnyOfRequired, NameList, OptCallback } from './common.schema.ts';
import { KindSchema, NameRef, Opt, Req, Spec, Strict } from './schema-helpers.ts';

/** One entry of a Workflow: a Task to run once the entries it depends on have succeeded. */
export const WorkflowTask = AnyOfRequired(
  Strict(
    {
      name: Opt(
        NameRef,
        'Entry name, unique in the workflow; dependsOn refers to it (default: the taskRef or ref).',
      ),
      taskRef: Opt(NameRef, 'The Task to run (may be qualified as DOMAIN/NAME).'),
      ref: Opt(NameRef, 'Alias of taskRef.'),
      dependsOn: Opt(
        NameList,
        'Entries that must succeed before this one starts; none means it starts at once.',
      ),
      continueOnError: Opt(
        Type.Boolean(),
        'When true, a failure of this entry does not fail the workflow or stop the others.',
      ),
    },
    'A task of the workflow: taskRef (or ref) and its dependencies.',
  ),
  ['taskRef', 'ref'],
);

/** Schema of the Workflow kind: tasks run as a DAG (seed 000, "Workflow"). */
export const WorkflowSchema = KindSchema(
  'Workflow',
  Spec(
    {
      tasks: Req(
        Type.Array(WorkflowTask, { minItems: 1 }),
        'The tasks; entries without dependsOn run in parallel.',
      ),
      finally: Opt(
        Type.Array(WorkflowTask),
        'Tasks that always run after the others, whatever their outcome (cleanup, reports).',
      ),
      onComplete: OptCallback('Action to run when the workflow ends, whatever the outcome.'),
      onSuccess: OptCallback('Action to run when every task succeeded.'),
      onFailure: OptCallback('Action to run when a task failed.'),
    },
    'Desired state of the workflow.',
  ),
  'Tasks with dependencies, run as a DAG.',
);

/** A Workflow object. */
export type Workflow = Static<typeof WorkflowSchema>;
