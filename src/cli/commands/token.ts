import { parseDuration } from '../../actions/builtin/duration.ts';
import { TokenStore } from '../../agent/auth/tokens.ts';
import { agentDbPath, openAgentDb } from '../../agent/store/agent-db.ts';
import { DvmError } from '../../errors/dvm-error.ts';
import type { Command } from '../command.ts';
import { formatAge, renderTable } from '../output/table.ts';

const USAGE = `Usage:
  dvm token create --name NAME --role viewer|operator|admin [--ttl 24h]
  dvm token list [-o table|json]
  dvm token revoke NAME

Bearer tokens of the agent API (dvm serve). create prints the token once, on stdout; only its SHA-256 hash is
stored. viewer runs read actions, operator also write actions, admin also destructive ones (the default
policy; see dvm policy test). A revoked or expired token is refused with 401.`;

function ttlOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDuration(value);
  } catch {
    throw new DvmError('DVM_TOKEN_INVALID', `--ttl "${value}" is not a duration`, {
      fix: 'Pass e.g. --ttl 30m, --ttl 24h or --ttl 30d.',
      path: 'ttl',
    });
  }
}

/** `dvm token create|list|revoke`: the agent API's bearer tokens. */
export const command: Command = {
  summary: 'Create, list and revoke agent API tokens',
  usage: USAGE,
  flags: ['name', 'role', 'ttl', 'output'],
  async run(ctx) {
    const [sub, arg] = ctx.positionals;
    const db = openAgentDb(agentDbPath(ctx.home));
    try {
      const tokens = new TokenStore(db);
      if (sub === 'create') {
        const name = ctx.flags.name ?? arg;
        if (!name || !ctx.flags.role) {
          throw new DvmError('DVM_USAGE', 'dvm token create needs --name and --role', {
            fix: 'Run e.g. dvm token create --name ci --role operator --ttl 24h',
          });
        }
        const { token, info } = tokens.create(name, ctx.flags.role, ttlOf(ctx.flags.ttl));
        ctx.io.stderr.write(
          `token ${info.name} created (role ${info.role}${info.expiresAt ? `, expires ${info.expiresAt}` : ', no expiry'}); it is shown only once:\n`,
        );
        ctx.io.stdout.write(`${token}\n`);
        return 0;
      }
      if (sub === 'list') {
        const list = tokens.list();
        if (ctx.flags.output === 'json') {
          ctx.io.stdout.write(`${JSON.stringify({ items: list }, null, 2)}\n`);
        } else if (ctx.flags.output === undefined || ctx.flags.output === 'table') {
          const rows = list.map((t) => [
            t.name,
            t.id,
            t.role,
            t.state,
            formatAge(t.createdAt),
            t.expiresAt ?? '<none>',
          ]);
          ctx.io.stdout.write(
            list.length
              ? renderTable(['NAME', 'ID', 'ROLE', 'STATE', 'AGE', 'EXPIRES'], rows)
              : 'No tokens.\n',
          );
        } else {
          throw new DvmError('DVM_USAGE', `-o ${ctx.flags.output} is not supported here`, {
            fix: 'Use -o table or -o json.',
          });
        }
        return 0;
      }
      if (sub === 'revoke') {
        const name = arg ?? ctx.flags.name;
        if (!name)
          throw new DvmError('DVM_USAGE', 'dvm token revoke needs a token name', {
            fix: 'Run dvm token list.',
          });
        const info = tokens.revoke(name);
        ctx.io.stdout.write(`token ${info.name} revoked\n`);
        return 0;
      }
      throw new DvmError(
        'DVM_USAGE',
        sub ? `unknown subcommand "token ${sub}"` : 'dvm token needs a subcommand',
        {
          fix: 'Use dvm token create, list or revoke.',
        },
      );
    } finally {
      db.close();
    }
  },
};
