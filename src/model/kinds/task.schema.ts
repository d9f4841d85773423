import { type Static, Type } from '@sinclair/typebox';
import { OptCallback } from './common.schema.ts';
import {
  Duration,
  EnvList,
  FreeObject,
  KindSchema,
  NameRef,
  Opt,
  Req,
  Spec,
  Strict,
} from './schema-helpers.ts';

/** Schema of the Task kind: a single action, the atomic unit of work (seed 000, "Task"). */
export const TaskSchema = KindSchema(
  'Task',
  Spec(
    {
      action: Opt(
        Type.String({ minLength: 1, default: 'exec' }),
        'The built-in action (exec, data.backup, service.deploy, …) or Action object to run; default exec.',
      ),
      command: Opt(
        Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String(), { minItems: 1 })]),
        'For exec: the command, as an argv list (preferred) or a string split on spaces without a shell.',
      ),
      shell: Opt(
        Type.String({ minLength: 1 }),
        'For exec: a script run with /bin/sh -c (instead of command).',
      ),
      workdir: Opt(
        Type.String({ minLength: 1 }),
        'Working directory of the command; a relative path is relative to the YAML file, like an App path.',
      ),
      timeout: Opt(Duration, 'Time the task may take before it is stopped and fails.'),
      env: Opt(EnvList, 'Environment variables for the command.'),
      retries: Opt(
        Type.Integer({ minimum: 0 }),
        'Extra attempts after a failure, with exponential backoff (default 0).',
      ),
      when: Opt(
        Type.String({ minLength: 1 }),
        "Condition for the task to run, else it is Skipped: quoted values, $(tasks.NAME.results.RESULT) and $(env.NAME) compared with == and !=, combined with &&, || and ! (parentheses group), like \"'$(tasks.check.results.changed)' == 'yes'\".",
      ),
      results: Opt(
        Type.Array(
          Strict({
            name: Req(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_-]*$' }), 'Result name.'),
            description: Opt(Type.String(), 'What the result holds.'),
          }),
        ),
        'Named results the task produces for later tasks.',
      ),
      params: Opt(FreeObject, 'Parameters (inputs) of the action.'),
      inputs: Opt(
        Type.Array(Type.String({ minLength: 1 })),
        'Globs (relative to workdir) of the files the task reads; with them, an unchanged task is Cached.',
      ),
      outputs: Opt(
        Type.Array(Type.String({ minLength: 1 })),
        'Globs (relative to workdir) of the files the task writes; restored when the task is Cached.',
      ),
      target: Opt(NameRef, 'What the action acts on: a dependency instance, app or data store.'),
      environment: Opt(
        Type.String({ pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' }),
        "The environment its action acts in, as the agent's policies see it (target.env: dev, stage, prod, …); stage and prod need `dvm run --yes`, or a second principal's approval under the two-person rule; default pipeline (no gate). Not for exec.",
      ),
      schedule: Opt(
        Type.String({ minLength: 1 }),
        'Cron expression (5 fields, or 6 with seconds first) on which `dvm serve` runs the task by itself, as a Job with trigger.schedule (concurrency queue).',
      ),
      onSuccess: OptCallback('Action to run when the task succeeds.'),
      onFailure: OptCallback('Action to run when the task fails.'),
    },
    'Desired state of the task.',
  ),
  'A single action: the atomic unit of work.',
);

/** A Task object. */
export type Task = Static<typeof TaskSchema>;
