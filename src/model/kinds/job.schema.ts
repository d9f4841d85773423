import { type Static, Type } from '@sinclair/typebox';
import { OptCallback, StringEnum } from './common.schema.ts';
import { KindSchema, NameRef, Opt, Req, Spec, Strict } from './schema-helpers.ts';

/** Schema of the Job kind: when and how to run a pipeline, workflow or task (seed 000, "Job"). */
export const JobSchema = KindSchema(
  'Job',
  Spec(
    {
      trigger: Opt(
        Strict({
          watch: Opt(
            Type.String({ minLength: 1 }),
            "What to watch for the event, like app.path (the app's git repository).",
          ),
          event: Opt(
            Type.String({ minLength: 1 }),
            'The event that triggers the job, like commit or unhealthy.',
          ),
          schedule: Opt(
            Type.String({ minLength: 1 }),
            'Cron expression on which the job runs: 5 fields, or 6 with seconds first.',
          ),
          manual: Opt(Type.Boolean(), 'When true, the job runs only by hand (dvm run job).'),
        }),
        'What triggers the job: an event, a schedule or a manual run.',
      ),
      runs: Req(NameRef, 'The Pipeline, Workflow or Task of the domain to run (in that order of lookup).'),
      app: Opt(NameRef, 'The App whose repository a commit trigger watches and whose path tasks run in.'),
      concurrency: Opt(
        StringEnum(['skip', 'queue', 'cancel-previous'] as const),
        'When a trigger fires while a run is active: skip it, queue it (default), or cancel the active run.',
      ),
      onSuccess: OptCallback('Action to run when the run succeeds, like git.push.'),
      onFailure: OptCallback('Action to run when the run fails, like notify.alert.'),
    },
    'Desired state of the job.',
  ),
  'When and how to run a pipeline, workflow or task: commit, schedule or manual.',
);

/** A Job object. */
export type Job = Static<typeof JobSchema>;
