import { type Static, Type } from '@sinclair/typebox';
import { StringEnum } from './common.schema.ts';
import { KindSchema, Opt, Req, Spec, Strict } from './schema-helpers.ts';

/** The types an Action input may have. */
export const ACTION_INPUT_TYPES = ['string', 'integer', 'number', 'boolean', 'object', 'array'] as const;

/** Schema of the Action kind: a user-defined verb that tasks can run (seed 000, "Action"). */
export const ActionSchema = KindSchema(
  'Action',
  Spec(
    {
      description: Opt(Type.String(), 'What the action does.'),
      risk: Opt(
        StringEnum(['read', 'write', 'destructive'] as const),
        'What running it can change (default write); policies and confirmation in stage/prod key on it.',
      ),
      version: Opt(
        Type.String({ pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$' }),
        'Semantic version of the action (default 1.0.0).',
      ),
      command: Opt(
        Type.Array(Type.String(), { minItems: 1 }),
        'Command (argv) to run; arguments may contain {{ inputs.NAME }} placeholders.',
      ),
      handlers: Opt(
        Type.Record(
          Type.String(),
          Strict(
            {
              type: Req(Type.String({ minLength: 1 }), 'Handler type, like sql or command.'),
              template: Opt(
                Type.String(),
                'Text template of the statement or command, filled in from the inputs.',
              ),
              command: Opt(
                Type.Array(Type.String(), { minItems: 1 }),
                'Command (argv) that runs the rendered template.',
              ),
            },
            'How the action runs against one kind of dependency.',
          ),
        ),
        'Handlers keyed by dependency type (postgres, redis, mongodb, …).',
      ),
      inputs: Opt(
        Type.Array(
          Strict({
            name: Req(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), 'Input name.'),
            type: Req(StringEnum(ACTION_INPUT_TYPES), 'Input type.'),
            required: Opt(Type.Boolean(), 'The input must be given (default false).'),
            description: Opt(Type.String(), 'What the input is for.'),
            default: Opt(Type.Unknown(), 'Value used when the input is not given.'),
          }),
        ),
        'The inputs (parameters) the action accepts.',
      ),
    },
    'Desired state of the action.',
  ),
  'A user-defined verb that tasks can run.',
);

/** An Action object. */
export type Action = Static<typeof ActionSchema>;
