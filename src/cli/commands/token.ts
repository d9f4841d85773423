import { parseDuration } from '../../actions/builtin/duration.ts';
import { TokenStore } from '../../agent/auth/tokens.ts';
import { agentDbPath, openAgentDb } from '../../agent/store/agent-db.ts';
import { DvmError } from '../../errors/dvm-error.ts';
import type { Command } from '../command.ts';
import { outputChoice } from '../output/output-choice.ts';
import { formatAge, renderTable } from '../output/table.ts';

const USAGE = `Usage:
  dvm token create --name NAME --role viewer|operator|admin [--owner PERSON] [--ttl DURATION]
  dvm token list [--owner PERSON] [--role ROLE] [-o table|json]
  dvm token revoke ID|NAME | --id ID | --name NAME

Bearer tokens of the agent API (dvm serve). create prints the token once, on stdout; only its SHA-256 hash is
stored. viewer runs read actions, operator also write actions, admin also destructive ones (the default
policy; see dvm policy test). A revoked or expired token is refused with 401. Names are never reused, not even
after a revocation; they cannot look like an id (8 hex digits) or be a built-in principal's (local). --ttl (e.g.
24h, 90d; at most 3650d) limits a token's life: without --ttl the token never expires (create warns so on stderr).
--owner names the person or team the token is for (written like a name; default: the token's own name; local:
the user of this machine; not anonymous): under the two-person rule an approver must have another owner than the
requester, so one person's two tokens cannot approve each other. list shows each token's OWNER; --owner and
--role filter it. A flag another subcommand takes is refused (DVM_USAGE), not ignored.
revoke takes an exact id first, else a name.`;

function ttlOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDuration(value);
  } catch (error) {
    // A duration past what dvm takes at all is past the token maximum too: the store says so, with the maximum.
    if ((error as Error).message.includes('longer than')) return Number.POSITIVE_INFINITY;
    throw new DvmError('DVM_TOKEN_INVALID', `--ttl "${value}" is not a duration`, {
      fix: 'Pass e.g. --ttl 30m, --ttl 24h or --ttl 30d.',
      path: 'ttl',
    });
  }
}

// The flags each subcommand reads: any other of the command's flags is refused there rather than ignored (a
// `revoke bob --owner alice` that revoked bob's token whoever owns it).
const SUBCOMMAND_FLAGS: Record<string, readonly string[]> = {
  create: ['name', 'role', 'owner', 'ttl'],
  list: ['owner', 'role', 'output'],
  revoke: ['id', 'name'],
};
const FLAGS = ['name', 'id', 'role', 'owner', 'ttl', 'output'] as const;

/** `dvm token create|list|revoke`: the agent API's bearer tokens. */
export const command: Command = {
  summary: 'Create, list and revoke agent API tokens',
  usage: USAGE,
  flags: [...FLAGS],
  maxArgs: (args) => (args[0] === 'revoke' ? 2 : 1),
  async run(ctx) {
    const [sub, arg] = ctx.positionals;
    const allowed = SUBCOMMAND_FLAGS[sub ?? ''];
    const stray = allowed && FLAGS.find((flag) => ctx.flags[flag] !== undefined && !allowed.includes(flag));
    if (stray)
      throw new DvmError('DVM_USAGE', `dvm token ${sub} does not take --${stray}`, {
        fix: `dvm token ${sub} takes ${allowed.map((flag) => `--${flag}`).join(', ')}: see dvm token ${sub} --help.`,
      });
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
        const { token, info } = tokens.create(name, ctx.flags.role, ttlOf(ctx.flags.ttl), ctx.flags.owner);
        // No expiry stays possible (CI tokens rely on it), but never unnoticed; stdout carries the token alone.
        if (!info.expiresAt) {
          ctx.io.stderr.write(
            `warning: token ${info.name} never expires: pass --ttl (e.g. --ttl 90d) to limit it\n`,
          );
        }
        ctx.io.stderr.write(
          `token ${info.name} created (role ${info.role}, owner ${info.owner}${info.expiresAt ? `, expires ${info.expiresAt}` : ', no expiry'}); it is shown only once:\n`,
        );
        ctx.io.stdout.write(`${token}\n`);
        return 0;
      }
      if (sub === 'list') {
        const output = outputChoice(ctx, ['table', 'json'], 'dvm token list');
        // --owner and --role filter the list, as kubectl's selectors do.
        const list = tokens
          .list()
          .filter(
            (t) =>
              (ctx.flags.owner === undefined || t.owner === ctx.flags.owner) &&
              (ctx.flags.role === undefined || t.role === ctx.flags.role),
          );
        if (output === 'json') {
          ctx.io.stdout.write(`${JSON.stringify({ items: list }, null, 2)}\n`);
        } else {
          const rows = list.map((t) => [
            t.name,
            t.id,
            t.owner,
            t.role,
            t.state,
            formatAge(t.createdAt),
            t.expiresAt ?? '<none>',
          ]);
          ctx.io.stdout.write(
            list.length
              ? renderTable(['NAME', 'ID', 'OWNER', 'ROLE', 'STATE', 'AGE', 'EXPIRES'], rows)
              : 'No tokens.\n',
          );
        }
        return 0;
      }
      if (sub === 'revoke') {
        const given = [arg, ctx.flags.id, ctx.flags.name].filter((v) => v !== undefined);
        if (given.length !== 1)
          throw new DvmError('DVM_USAGE', 'dvm token revoke needs one token: an id or name, --id or --name', {
            fix: 'Run dvm token list, then e.g. dvm token revoke --id 6f1c2a9b.',
          });
        const by = ctx.flags.id !== undefined ? 'id' : ctx.flags.name !== undefined ? 'name' : 'either';
        const info = tokens.revoke(given[0] as string, by);
        ctx.io.stdout.write(
          info.alreadyRevoked
            ? `token ${info.name} (${info.id}) was already revoked at ${info.revokedAt}: nothing changed\n`
            : `token ${info.name} (${info.id}) revoked\n`,
        );
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
