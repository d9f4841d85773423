import { type Static, Type } from '@sinclair/typebox';
import { StringEnum } from './common.schema.ts';
import { Duration, KindSchema, NameRef, Opt, Req, Spec, Strict } from './schema-helpers.ts';

/** Schema of the Operator kind: what the live-mode operator watches and runs (seed 000, "Operator"). */
export const OperatorSchema = KindSchema(
  'Operator',
  Spec(
    {
      watches: Opt(
        Type.Array(
          Strict({
            type: Req(Type.String({ minLength: 1 }), 'Kind of object to watch, like app.'),
            mode: Opt(StringEnum(['dev', 'live']), 'Watch only objects in this mode (dev or live).'),
            events: Req(
              Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
              'Events to react to, like commit or unhealthy.',
            ),
            jobRef: Req(NameRef, 'The Job to run when an event occurs (may be qualified as DOMAIN/NAME).'),
          }),
        ),
        'What to watch and which job each event runs.',
      ),
      settings: Opt(
        Strict({
          pollInterval: Opt(Duration, 'How often to check for events.'),
          maxConcurrentJobs: Opt(Type.Integer({ minimum: 1 }), 'Most jobs running at once.'),
        }),
        'Global settings.',
      ),
      autoPush: Opt(
        Strict({
          enabled: Opt(Type.Boolean(), 'Push after a successful pipeline.'),
          remote: Opt(Type.String({ minLength: 1 }), 'Git remote, like origin.'),
          branch: Opt(Type.String({ minLength: 1 }), 'Git branch, like main.'),
        }),
        'Git push after a successful pipeline.',
      ),
      logging: Opt(
        Strict({
          level: Opt(StringEnum(['debug', 'info', 'warn', 'error']), 'Least severe level logged.'),
          output: Opt(Type.String({ minLength: 1 }), 'Log file path (~ expands to home), or stdout.'),
        }),
        'Operator logging.',
      ),
    },
    'Desired state of the operator.',
  ),
  'The live-mode operator: what it watches and which jobs it runs.',
);

/** An Operator object. */
export type Operator = Static<typeof OperatorSchema>;
