import { type Static, Type } from '@sinclair/typebox';
import { DependencyInstanceList } from './dependency-instance.schema.ts';
import { Duration, KindSchema, Opt, Quantity, Spec, Strict } from './schema-helpers.ts';

/** Schema of the App kind: a codebase with a path to its source (seed 000, "App"). */
export const AppSchema = KindSchema(
  'App',
  Spec(
    {
      path: Opt(
        Type.String({ minLength: 1 }),
        'Path to the source code on the host machine (~ expands to home).',
      ),
      language: Opt(Type.String(), 'Main language, like go, python or typescript.'),
      languageVersion: Opt(Type.String(), 'Language version, like "1.23".'),
      resources: Opt(
        Strict({
          memory: Opt(Quantity, 'Memory limit in live mode, like 512Mi.'),
          cpu: Opt(Quantity, 'CPU limit in live mode, like 500m.'),
        }),
        'Resource limits for live mode.',
      ),
      ports: Opt(
        Type.Array(
          Strict({
            containerPort: Opt(Type.Integer({ minimum: 1, maximum: 65535 }), 'Port the app listens on.'),
            hostPort: Opt(Type.Integer({ minimum: 1, maximum: 65535 }), 'Port on the host.'),
            protocol: Opt(Type.Union([Type.Literal('TCP'), Type.Literal('UDP')]), 'TCP (default) or UDP.'),
          }),
        ),
        'Port mappings.',
      ),
      healthCheck: Opt(
        Strict({
          path: Opt(Type.String(), 'HTTP path to probe, like /health.'),
          port: Opt(Type.Integer({ minimum: 1, maximum: 65535 }), 'Port to probe.'),
          command: Opt(Type.Array(Type.String()), 'Command (argv) whose exit status 0 means healthy.'),
          interval: Opt(Duration, 'Time between probes.'),
          timeout: Opt(Duration, 'Time a probe may take.'),
          retries: Opt(Type.Integer({ minimum: 0 }), 'Failures before the app counts as unhealthy.'),
        }),
        'Health check used in live mode.',
      ),
      dependencies: Opt(DependencyInstanceList, 'Dependencies this app needs.'),
      live: Opt(
        Strict({
          command: Opt(
            Type.Array(Type.String(), { minItems: 1 }),
            'Argv that runs the app in live mode (process runtime; docker: the container command); $(port) is its first host port.',
          ),
          image: Opt(Type.String({ minLength: 1 }), 'Container image on the docker runtime.'),
          restart: Opt(
            Type.Union([Type.Literal('no'), Type.Literal('on-failure'), Type.Literal('always')]),
            'Restart policy after a crash (default always, with exponential backoff).',
          ),
        }),
        'How to run the app in live mode (dvm deploy app).',
      ),
      env: Opt(
        Type.Array(Strict({ name: Type.String(), value: Opt(Type.String(), 'Value.') })),
        'Environment variables for the app.',
      ),
    },
    'Desired state of the app.',
  ),
  'A codebase that lives for years; runs in dev mode (Workspace) or live mode.',
);

/** An App object. */
export type App = Static<typeof AppSchema>;
