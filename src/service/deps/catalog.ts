// The built-in Dependency catalog: `ref: postgres` and `ref: redis` work without applying a definition, on
// the process runtime (host binaries) and on docker (the official images).

type Spec = Record<string, unknown>;

const POSTGRES: Spec = {
  image: 'postgres:16-alpine',
  ports: [{ containerPort: 5432, protocol: 'TCP' }],
  env: [
    { name: 'POSTGRES_USER', value: 'postgres' },
    { name: 'POSTGRES_PASSWORD', value: 'postgres' },
    { name: 'POSTGRES_DB', value: 'postgres' },
  ],
  command: ['postgres', '-p', '$(port)'],
  healthCheck: {
    command: ['pg_isready', '-q', '-h', '127.0.0.1', '-p', '$(port)', '-U', '$(env.POSTGRES_USER)'],
    interval: '2s',
    timeout: '3s',
    retries: 5,
    startPeriod: '60s',
  },
  volumes: [{ name: 'data', mountPath: '/var/lib/postgresql/data' }],
  process: {
    binPaths: [
      '/usr/lib/postgresql/*/bin',
      '/usr/pgsql-*/bin',
      '/opt/homebrew/opt/postgresql@*/bin',
      '/usr/local/opt/postgresql@*/bin',
    ],
    user: 'postgres',
    // Local (socket) connections trust the OS user that owns the data directory; TCP needs the password.
    init: [
      [
        'initdb',
        '-D',
        '$(volumes.data)',
        '-U',
        '$(env.POSTGRES_USER)',
        '--pwfile=$(secret.POSTGRES_PASSWORD)',
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        '-E',
        'UTF8',
      ],
    ],
    command: [
      'postgres',
      '-D',
      '$(volumes.data)',
      '-p',
      '$(port)',
      '-c',
      'listen_addresses=127.0.0.1',
      '-k',
      '$(volumes.data)',
    ],
    setup: [
      [
        'createdb',
        '-h',
        '$(volumes.data)',
        '-p',
        '$(port)',
        '-U',
        '$(env.POSTGRES_USER)',
        '$(env.POSTGRES_DB)',
      ],
    ],
  },
};

const REDIS: Spec = {
  image: 'redis:7-alpine',
  ports: [{ containerPort: 6379, protocol: 'TCP' }],
  command: ['redis-server', '--port', '$(port)', '--appendonly', 'yes'],
  healthCheck: {
    command: ['redis-cli', '-p', '$(port)', '-e', 'ping'],
    interval: '2s',
    timeout: '3s',
    retries: 5,
    startPeriod: '30s',
  },
  volumes: [{ name: 'data', mountPath: '/data' }],
  process: {
    command: [
      'redis-server',
      '--port',
      '$(port)',
      '--bind',
      '127.0.0.1',
      '--dir',
      '$(volumes.data)',
      '--appendonly',
      'yes',
    ],
  },
};

const CATALOG: Record<string, Spec> = { postgres: POSTGRES, redis: REDIS };

/** The names of the built-in definitions. */
export const CATALOG_NAMES = Object.keys(CATALOG);

/** The spec of a built-in definition, or undefined. */
export function catalogDefinition(name: string): Spec | undefined {
  const spec = CATALOG[name];
  return spec ? structuredClone(spec) : undefined;
}

/** The data engine a definition runs, by its name (postgres, redis) or else its image, like bitnami/redis:7. */
export function engineOf(name: string, image: unknown): 'postgres' | 'redis' | undefined {
  if (name === 'postgres' || name === 'redis') return name;
  const match = typeof image === 'string' ? /(?:^|\/)(postgres|redis)(?::|$)/.exec(image) : null;
  return match?.[1] as 'postgres' | 'redis' | undefined;
}

/** The built-in definition a user's definition is a variant of (by name or image), for what it leaves out. */
export function catalogBase(name: string, image: unknown): Spec | undefined {
  const engine = engineOf(name, image);
  return engine ? catalogDefinition(engine) : undefined;
}
