import { type Static, Type } from '@sinclair/typebox';
import { StringEnum } from './common.schema.ts';
import { KindSchema, Opt, Quantity, Spec, Strict } from './schema-helpers.ts';

/** The platforms a Runtime may use. */
export const RUNTIME_PLATFORMS = ['docker', 'orbstack', 'colima', 'podman', 'process', 'kubernetes'] as const;

/** Schema of the Runtime kind: a container platform and its settings (seed 000, "Runtime"). */
export const RuntimeSchema = KindSchema(
  'Runtime',
  Spec(
    {
      platform: Opt(
        StringEnum(RUNTIME_PLATFORMS),
        'Platform type; process runs services as local processes.',
      ),
      socket: Opt(Type.String({ minLength: 1 }), 'Socket path of the platform (auto-detected if not set).'),
      resources: Opt(
        Strict({
          maxMemory: Opt(Quantity, 'Memory limit of the runtime, like 8Gi.'),
          maxCPU: Opt(Quantity, 'CPU limit of the runtime, like 4.'),
        }),
        'Resource limits for the runtime.',
      ),
      mounts: Opt(
        Type.Array(
          Strict({
            hostPath: Type.String({ minLength: 1, description: 'Directory on the host.' }),
            containerPath: Type.String({ minLength: 1, description: 'Where containers see it.' }),
            readOnly: Opt(Type.Boolean(), 'Read-only (default true).'),
          }),
        ),
        'Host paths bound into every container, for images that run host binaries.',
      ),
      network: Opt(
        Strict({
          name: Opt(Type.String({ minLength: 1 }), 'Network name, like dvm-network.'),
          driver: Opt(Type.String({ minLength: 1 }), 'Network driver, like bridge.'),
        }),
        'Network settings.',
      ),
    },
    'Desired state of the runtime.',
  ),
  'A container platform and its settings.',
);

/** A Runtime object. */
export type Runtime = Static<typeof RuntimeSchema>;
