import type { ActionDefinition } from '../../actions/action.ts';
import { isRole, LOCAL_PRINCIPAL, type Principal, ROLES } from '../../agent/auth/principal.ts';
import { TokenStore } from '../../agent/auth/tokens.ts';
import { ENV } from '../../agent/execute/validate-request.ts';
import { PolicyEngine, policiesDir } from '../../agent/policy/policy-engine.ts';
import { loadRedactor } from '../../agent/redact.ts';
import { createAgentRegistry } from '../../agent/registry.ts';
import { agentDbPath, openAgentDb } from '../../agent/store/agent-db.ts';
import { DvmError, isDvmError } from '../../errors/dvm-error.ts';
import type { Command, CommandContext } from '../command.ts';
import { renderTable } from '../output/table.ts';
import { targetFromFlags } from '../target-flags.ts';
import { paramsOf } from './action-run.ts';

const USAGE = `Usage:
  dvm policy test --principal NAME|role:ROLE --action ACTION [--target env=prod] [--target k=v …] [--param k=v …] [-o json]
  dvm policy list
  dvm policy validate

Policies are Cedar (https://www.cedarpolicy.com): the shipped default (RBAC, allowlist, confirmation in stage
and prod) plus every *.cedar file in $DVM_HOME/policies/. A forbid anywhere overrides every permit; no permit
means deny. Annotate a forbid with @confirmation("required") to make it a confirmation gate (428 instead of 403),
with @approval("other-principal") to require a second principal's approval, and with @reason("…") for the text
callers see. A gate only applies to what some permit allows once it is satisfied; the rest is denied at once.

test shows the decision for a principal (a token's name, or role:viewer|operator|admin), an action (its risk
comes from the registry), a target and params, and the policies behind it; --target env=… (default dev). Policies
see the target's other keys as its tags (resource.getTag("namespace")), the params as text
(context.params.getTag("container")) and the integer params as numbers (context.numbers.getTag("replicas")).`;

/**
 * The params as execute shows them to the policy: checked against the action's input (defaults filled in; a value
 * of the wrong type is refused as execute would), then redacted with the home's patterns. Params left out are not
 * demanded: a policy test may be about roles and targets alone.
 */
async function policyParams(
  ctx: CommandContext,
  definition: ActionDefinition,
): Promise<Record<string, unknown>> {
  const params = paramsOf(ctx.flags.param ?? [], definition.inputSchema);
  try {
    createAgentRegistry(ctx.home).validateInput(definition, params);
  } catch (error) {
    const missingOnly =
      isDvmError(error) &&
      error.code === 'DVM_ACTION_INPUT_INVALID' &&
      error.causes.every((c) => c.message === 'is required');
    if (!missingOnly) throw error;
  }
  return (await loadRedactor(ctx.home)).redact(params, definition.inputSchema) as Record<string, unknown>;
}

function principalOf(ctx: CommandContext, given: string): Principal {
  if (given.startsWith('role:')) {
    const role = given.slice(5);
    if (!isRole(role))
      throw new DvmError('DVM_USAGE', `"${role}" is not a role`, { fix: `Use one of: ${ROLES.join(', ')}.` });
    return { id: `role:${role}`, name: `role:${role}`, role, via: 'token' };
  }
  if (given === LOCAL_PRINCIPAL.name) return LOCAL_PRINCIPAL;
  const db = openAgentDb(agentDbPath(ctx.home));
  try {
    const principal = new TokenStore(db).principalNamed(given);
    if (!principal) {
      throw new DvmError('DVM_NOT_FOUND', `no token is named "${given}"`, {
        fix: 'Pass a token name from `dvm token list`, `local`, or role:viewer|operator|admin.',
      });
    }
    return principal;
  } finally {
    db.close();
  }
}

/** `dvm policy test|list|validate`: the agent's Cedar policies and their decisions. */
export const command: Command = {
  summary: "Test, list or validate the agent's Cedar policies",
  usage: USAGE,
  flags: ['principal', 'action', 'target', 'param', 'output'],
  maxArgs: 1,
  async run(ctx) {
    const [sub] = ctx.positionals;
    const engine = await PolicyEngine.load(ctx.home);
    if (sub === 'validate') {
      ctx.io.stdout.write(
        `policies valid: ${engine.policies().length} policies from ${engine.sources().length} file(s) (${policiesDir(ctx.home)})\n`,
      );
      return 0;
    }
    if (sub === 'list') {
      ctx.io.stdout.write(
        renderTable(
          ['ID', 'EFFECT', 'GATE', 'SOURCE'],
          engine
            .policies()
            .map((p) => [
              p.id,
              p.effect,
              p.annotations.confirmation !== undefined
                ? 'confirmation'
                : p.annotations.approval !== undefined
                  ? 'approval'
                  : '',
              `${p.file}:${p.line}`,
            ]),
        ),
      );
      return 0;
    }
    if (sub !== 'test') {
      throw new DvmError(
        'DVM_USAGE',
        sub ? `unknown subcommand "policy ${sub}"` : 'dvm policy needs a subcommand',
        {
          fix: 'Use dvm policy test, list or validate.',
        },
      );
    }
    if (!ctx.flags.principal || !ctx.flags.action) {
      throw new DvmError('DVM_USAGE', 'dvm policy test needs --principal and --action', {
        fix: 'Run e.g. dvm policy test --principal role:operator --action docker.restart_container --target env=prod',
      });
    }
    const definition = createAgentRegistry(ctx.home).get(ctx.flags.action);
    const principal = principalOf(ctx, ctx.flags.principal);
    const target = targetFromFlags(undefined, ctx.flags.target);
    // The environment a real request could name: what execute refuses is not a decision to show.
    if (!ENV.test(target.env)) {
      throw new DvmError('DVM_USAGE', `--target env=${target.env.slice(0, 63)} is not an environment name`, {
        fix: 'Name it as requests do: lowercase letters, digits and inner dashes, like env=prod.',
      });
    }
    const params = await policyParams(ctx, definition);
    const answer = engine.decide({
      principal,
      action: { name: definition.name, version: definition.version, risk: definition.risk },
      target,
      confirmed: false,
      dryRun: false,
      params,
    });
    if (ctx.flags.output === 'json') {
      ctx.io.stdout.write(
        `${JSON.stringify({ principal, action: definition.name, risk: definition.risk, target, ...answer }, null, 2)}\n`,
      );
      return 0;
    }
    const verdict =
      answer.decision === 'confirm'
        ? `ALLOW after confirmation${answer.approval ? ' by a second principal' : ''}`
        : answer.decision.toUpperCase();
    ctx.io.stdout.write(
      `${verdict}: ${principal.name} (${principal.role}) → ${definition.name} (${definition.risk}) on ${Object.entries(
        target,
      )
        .map(([k, v]) => `${k}=${v}`)
        .join(',')}\n`,
    );
    for (let i = 0; i < answer.policyIds.length; i++) {
      ctx.io.stdout.write(`  ${answer.policyIds[i]}: ${answer.reasons[i] ?? ''}\n`);
    }
    return 0;
  },
};
