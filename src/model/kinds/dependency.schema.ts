import { type Static, Type } from '@sinclair/typebox';
import { StringEnum } from './common.schema.ts';
import { Duration, EnvList, KindSchema, Opt, Req, Spec, Strict } from './schema-helpers.ts';

/** Schema of the Dependency kind: a global service definition that scopes instantiate (seed 000, "Dependency"). */
export const DependencySchema = KindSchema(
  'Dependency',
  Spec(
    {
      image: Opt(Type.String({ minLength: 1 }), 'Container image, like postgres:16-alpine.'),
      ports: Opt(
        Type.Array(
          Strict({
            containerPort: Req(Type.Integer({ minimum: 1, maximum: 65535 }), 'Port the service listens on.'),
            hostPort: Opt(
              Type.Integer({ minimum: 1, maximum: 65535 }),
              'Port on the host (default: allocated).',
            ),
            protocol: Opt(StringEnum(['TCP', 'UDP']), 'TCP (default) or UDP.'),
          }),
        ),
        'Default ports.',
      ),
      env: Opt(EnvList, 'Default environment variables; instances may override them.'),
      healthCheck: Opt(
        Strict({
          command: Req(
            Type.Array(Type.String(), { minItems: 1 }),
            'Command (argv) whose exit status 0 means healthy.',
          ),
          interval: Opt(Duration, 'Time between probes.'),
          timeout: Opt(Duration, 'Time a probe may take.'),
          retries: Opt(Type.Integer({ minimum: 0 }), 'Failures before the service counts as unhealthy.'),
        }),
        'How to tell the service is ready.',
      ),
      volumes: Opt(
        Type.Array(
          Strict({
            name: Req(
              Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }),
              'Volume name, unique per instance.',
            ),
            mountPath: Req(Type.String({ minLength: 1 }), 'Path inside the container.'),
          }),
        ),
        'Volumes for data persistence, one per instance.',
      ),
    },
    'Desired state of the dependency definition.',
  ),
  'A service definition (postgres, redis, …) that ecosystems, domains and apps instantiate by reference.',
);

/** A Dependency object. */
export type Dependency = Static<typeof DependencySchema>;
