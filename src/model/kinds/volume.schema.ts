import { type Static, Type } from '@sinclair/typebox';
import { Duration, KindSchema, Opt, Quantity, Spec, Strict } from './schema-helpers.ts';

/** Schema of the Volume kind: persistent storage (seed 000, "Volume"). */
export const VolumeSchema = KindSchema(
  'Volume',
  Spec(
    {
      size: Opt(Quantity, 'Capacity, like 10Gi.'),
      storageClass: Opt(
        Type.String({ minLength: 1 }),
        'Storage class, like standard or fast (mapped to local paths).',
      ),
      hostPath: Opt(Type.String({ minLength: 1 }), 'Where the data lives on the host (~ expands to home).'),
      backup: Opt(
        Strict({
          enabled: Opt(Type.Boolean(), 'Back the volume up on the schedule.'),
          schedule: Opt(Type.String({ minLength: 1 }), 'Cron expression (5 fields) of the backups.'),
          retention: Opt(Duration, 'How long backups are kept, like 7d.'),
        }),
        'Backup settings.',
      ),
    },
    'Desired state of the volume.',
  ),
  'Persistent storage for dependencies or workspaces.',
);

/** A Volume object. */
export type Volume = Static<typeof VolumeSchema>;
