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
      command: Opt(
        Type.Array(Type.String(), { minItems: 1 }),
        'Container command (argv) on the docker runtime, instead of the image default; $(port), $(ports.N), $(env.X) and $(volumes.NAME) are substituted.',
      ),
      user: Opt(
        Type.String({ minLength: 1 }),
        'User (name or uid) the container runs as on the docker runtime.',
      ),
      process: Opt(
        Strict({
          command: Req(
            Type.Array(Type.String(), { minItems: 1 }),
            'Argv of the service on the process runtime; $(port), $(ports.N), $(env.X), $(volumes.NAME) are substituted.',
          ),
          init: Opt(
            Type.Array(Type.Array(Type.String(), { minItems: 1 })),
            'Commands (argv) run once, before the first start, while the first volume is empty (like initdb).',
          ),
          setup: Opt(
            Type.Array(Type.Array(Type.String(), { minItems: 1 })),
            'Commands (argv) run once, after the first healthy start (like createdb).',
          ),
          binPaths: Opt(
            Type.Array(Type.String({ minLength: 1 })),
            'Directories (globs allowed) searched for the binaries before PATH, like /usr/lib/postgresql/*/bin.',
          ),
          user: Opt(
            Type.String({ minLength: 1 }),
            'User to run as when dvm runs as root (postgres refuses root).',
          ),
        }),
        'How the process runtime runs the same service from host binaries.',
      ),
      restart: Opt(
        StringEnum(['no', 'on-failure', 'always']),
        'Restart policy after a crash (default always; restarts back off exponentially).',
      ),
      healthCheck: Opt(
        Strict({
          command: Opt(
            Type.Array(Type.String(), { minItems: 1 }),
            'Command (argv) whose exit status 0 means healthy; $(port) and $(env.X) are substituted.',
          ),
          tcp: Opt(
            Strict({
              port: Opt(Type.Integer({ minimum: 1, maximum: 65535 }), 'Container port (default the first).'),
            }),
            'Healthy when the port accepts a TCP connection.',
          ),
          http: Opt(
            Strict({
              path: Req(Type.String({ minLength: 1 }), 'Path to GET, like /health.'),
              port: Opt(Type.Integer({ minimum: 1, maximum: 65535 }), 'Container port (default the first).'),
            }),
            'Healthy when GET answers 2xx or 3xx.',
          ),
          interval: Opt(Duration, 'Time between probes.'),
          timeout: Opt(Duration, 'Time a probe may take.'),
          retries: Opt(Type.Integer({ minimum: 0 }), 'Failures before the service counts as unhealthy.'),
          startPeriod: Opt(Duration, 'Start-up time during which failures do not count (default 60s).'),
        }),
        'How to tell the service is ready (default: its first port accepts TCP).',
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
