import type { ActionDefinition } from '../../actions/action.ts';
import type { ActionRegistry } from '../../actions/registry.ts';
import {
  isRole,
  LOCAL_PRINCIPAL,
  type Principal,
  RESERVED_PRINCIPAL_NAMES,
  ROLES,
} from '../../agent/auth/principal.ts';
import { TokenStore } from '../../agent/auth/tokens.ts';
import { canonicalInput } from '../../agent/execute/canonical-input.ts';
import type { PolicyAnswer } from '../../agent/execute/types.ts';
import { ENV } from '../../agent/execute/validate-request.ts';
import { PolicyEngine, policiesDir } from '../../agent/policy/policy-engine.ts';
import { maskSecretFields } from '../../agent/redact.ts';
import { createAgentRegistry } from '../../agent/registry.ts';
import { agentDbPath, openAgentDb } from '../../agent/store/agent-db.ts';
import { DvmError, isDvmError } from '../../errors/dvm-error.ts';
import { forbiddenKeyError, forbiddenKeyPath } from '../../model/forbidden-keys.ts';
import type { Command, CommandContext } from '../command.ts';
import { outputChoice } from '../output/output-choice.ts';
import { renderTable } from '../output/table.ts';
import { targetFromFlags } from '../target-flags.ts';
import { terminalText } from '../terminal-text.ts';
import { paramsOf } from './action-run.ts';

const USAGE = `Usage:
  dvm policy test --principal NAME|role:ROLE [--owner PERSON] --action ACTION [--target env=prod] [--target k=v …] [--param k=v …] [-o json]
  dvm policy list
  dvm policy validate

Policies are Cedar (https://www.cedarpolicy.com): the shipped default (RBAC, allowlist, confirmation in stage
and prod) plus every *.cedar file in $DVM_HOME/policies/. A forbid anywhere overrides every permit; no permit
means deny. Annotate a forbid with @confirmation("required") to make it a confirmation gate (428 instead of 403),
with @approval("other-principal") to require a second principal's approval, and with @reason("…") for the text
callers see. A gate only applies to what some permit allows once it is satisfied; the rest is denied at once.

test shows the decision for a principal (a token's name, local, or role:viewer|operator|admin), an action (its risk
comes from the registry), a target and params, and the policies behind it; --target env=… (default dev). Policies
see the principal's role and owner (principal.owner: a token's --owner, local for local; --owner gives a role:ROLE
principal one, else its owner is its name), the target's other keys as its tags (resource.getTag("namespace")), the
params as text (context.params.getTag("container")) and the integer params as numbers
(context.numbers.getTag("replicas")). A container given by its id or an id prefix is decided on as its name, a JVM
by pid or class suffix as its pid and whole main class, as the agent does (a note says so).
Params given are checked as execute checks them; params left out are not demanded, required ones or one of
alternatives (exec's command or shell) alike. A revoked or expired token is DENY: the server refuses it 401 before
any policy. test exits 1 on DENY (as kubectl auth can-i on "no"; the decision is still printed), 0 on ALLOW, also
on ALLOW after confirmation.`;

type Schema = Record<string, unknown>;

// What each branch of a union requires, when requiring params is all the branches say (exec's
// `oneOf: [{required: [command]}, {required: [shell]}]`).
function requiredBranches(branches: unknown): string[][] | undefined {
  if (!Array.isArray(branches)) return undefined;
  const lists = branches.map((b: Schema | null) =>
    b && Object.keys(b).length === 1 && Array.isArray(b.required) ? b.required.map(String) : undefined,
  );
  return lists.every((l) => l !== undefined) ? (lists as string[][]) : undefined;
}

// True when adding params can satisfy the union: an anyOf always; a oneOf when some branch, completed, leaves every
// other branch unsatisfied (not when two of exec's alternatives are both given).
function completable(union: 'anyOf' | 'oneOf', branches: string[][], given: ReadonlySet<string>): boolean {
  if (union === 'anyOf') return true;
  return branches.some((branch, i) => {
    const completed = new Set([...given, ...branch]);
    return branches.every((other, j) => j === i || !other.every((k) => completed.has(k)));
  });
}

/**
 * An input schema without its rules about params left out: `required`, `dependentRequired`, `minProperties`, and
 * unions of branches that only require params (unless no param added could satisfy them). Everything about the
 * params given (type, enum, pattern, unknown names, their own required parts) still applies.
 */
function rulesOfGiven(schema: Schema, given: ReadonlySet<string>): Schema {
  const { required: _required, dependentRequired: _dependent, minProperties: _min, ...rules } = schema;
  for (const union of ['anyOf', 'oneOf'] as const) {
    const branches = requiredBranches(rules[union]);
    if (branches && completable(union, branches, given)) delete rules[union];
  }
  if (Array.isArray(rules.allOf)) rules.allOf = rules.allOf.map((s: Schema) => rulesOfGiven(s, given));
  return rules;
}

/**
 * The params as execute shows them to the policy: checked against the action's input (defaults filled in; a value
 * of the wrong type is refused as execute would), then secret fields masked (never pattern-redacted). Params left
 * out are not demanded: a policy test may be about roles and targets alone.
 */
async function policyParams(
  ctx: CommandContext,
  registry: ActionRegistry,
  definition: ActionDefinition,
  readsParams: boolean,
): Promise<{ params: Record<string, unknown>; unresolved?: string }> {
  const params = paramsOf(ctx.flags.param ?? [], definition.inputSchema);
  // As the agent refuses them, before any decision.
  const forbidden = forbiddenKeyPath(params);
  if (forbidden !== undefined) throw forbiddenKeyError(`params.${forbidden}`, 'the request');
  const inputSchema = rulesOfGiven(definition.inputSchema, new Set(Object.keys(params)));
  registry.validateInput({ ...definition, inputSchema }, params);
  // As the agent does: while a policy reads params, they decide on what the params name in its one form (a
  // container's id → its name). Where that cannot be had here, the params as given are shown decided on, with a note.
  let resolved = params;
  let unresolved: string | undefined;
  if (readsParams && definition.canonicalInput) {
    try {
      resolved = await canonicalInput(definition, params, { env: ctx.io.env as Record<string, string> });
    } catch (error) {
      // What the agent refuses outright (several things by that alias, a param that names nothing) is the answer.
      if (isDvmError(error) && ['DVM_AMBIGUOUS', 'DVM_USAGE'].includes(error.code)) throw error;
      unresolved = (error as Error).message;
      ctx.io.stderr.write(
        `note: ${terminalText((error as Error).message)}: decided on the params as given; the agent refuses such a request until it can tell (exit 1)\n`,
      );
    }
  }
  const changed = Object.keys(resolved).filter((key) => resolved[key] !== params[key]);
  if (changed.length > 0)
    ctx.io.stderr.write(
      `note: decided on what the params name, as the agent does: ${changed.map((key) => terminalText(`${key}=${JSON.stringify(resolved[key])}`)).join(' ')}\n`,
    );
  return {
    params: maskSecretFields(resolved, definition.inputSchema) as Record<string, unknown>,
    unresolved,
  };
}

/** Why the server refuses every request of a token with 401 (`details.reason`), before any policy. */
type Refusal = { reason: 'revoked' | 'expired' | 'reserved'; message: string };

// The token's principal, and why it cannot authenticate at all, if it cannot (as TokenStore.authenticate says).
function tokenOf(ctx: CommandContext, name: string): { principal: Principal; refusal?: Refusal } {
  const db = openAgentDb(agentDbPath(ctx.home));
  try {
    const tokens = new TokenStore(db);
    const principal = tokens.principalNamed(name);
    const info = tokens.list().find((t) => t.name === name);
    if (!principal || !info) {
      throw new DvmError('DVM_NOT_FOUND', `no token is named "${name}"`, {
        fix: 'Pass a token name from `dvm token list`, `local`, or role:viewer|operator|admin.',
      });
    }
    const refused = (reason: Refusal['reason'], why: string) => ({
      principal,
      refusal: {
        reason,
        message: `token ${name} ${why}: every request with it is refused 401 before any policy`,
      },
    });
    if (info.state === 'revoked') return refused('revoked', `is revoked (since ${info.revokedAt})`);
    if (RESERVED_PRINCIPAL_NAMES.includes(name))
      return refused('reserved', 'has the name of a built-in principal');
    if (info.state === 'expired') return refused('expired', `expired at ${info.expiresAt}`);
    return { principal };
  } finally {
    db.close();
  }
}

function principalOf(ctx: CommandContext, given: string): { principal: Principal; refusal?: Refusal } {
  const owner = ctx.flags.owner;
  if (given.startsWith('role:')) {
    const role = given.slice(5);
    if (!isRole(role))
      throw new DvmError('DVM_USAGE', `"${role}" is not a role`, { fix: `Use one of: ${ROLES.join(', ')}.` });
    const name = `role:${role}`;
    return { principal: { id: name, name, role, owner: owner || name, via: 'token' } };
  }
  // A token's owner is the one it was created with, and local's is local: --owner would test another principal.
  if (owner !== undefined)
    throw new DvmError('DVM_USAGE', `--owner is for a role:ROLE principal, not for ${given}`, {
      fix: `Leave --owner out (${given} has its own owner: see dvm token list), or test --principal role:ROLE --owner ${owner}.`,
    });
  if (given === LOCAL_PRINCIPAL.name) return { principal: LOCAL_PRINCIPAL };
  return tokenOf(ctx, given);
}

// The gate a policy puts on what it forbids: a confirmation, a second principal's approval, or none.
function gateOf(annotations: Record<string, string | undefined>): 'confirmation' | 'approval' | null {
  if (annotations.confirmation !== undefined) return 'confirmation';
  return annotations.approval !== undefined ? 'approval' : null;
}

// A CI gate's answer, as `kubectl auth can-i` gives it: 1 on DENY, 0 on ALLOW, also on one after a confirmation.
function exitCodeOf(decision: PolicyAnswer['decision']): number {
  return decision === 'deny' ? 1 : 0;
}

/** `dvm policy test|list|validate`: the agent's Cedar policies and their decisions. */
export const command: Command = {
  summary: "Test, list or validate the agent's Cedar policies",
  usage: USAGE,
  flags: ['principal', 'owner', 'action', 'target', 'param', 'output'],
  maxArgs: 1,
  async run(ctx) {
    const [sub] = ctx.positionals;
    // test's flags say nothing to list or validate: refused there rather than ignored.
    const testFlag = (['principal', 'owner', 'action', 'target', 'param'] as const).find(
      (f) => ctx.flags[f] !== undefined,
    );
    if ((sub === 'list' || sub === 'validate') && testFlag)
      throw new DvmError('DVM_USAGE', `--${testFlag} is a flag of dvm policy test, not of policy ${sub}`, {
        fix: `Run dvm policy ${sub} alone (-o json for JSON), or dvm policy test with it.`,
      });
    const output = outputChoice(ctx, ['table', 'json'], `dvm policy ${sub ?? ''}`.trim());
    const engine = await PolicyEngine.load(ctx.home);
    if (sub === 'validate') {
      const dir = policiesDir(ctx.home);
      ctx.io.stdout.write(
        output === 'json'
          ? `${JSON.stringify({ valid: true, policies: engine.policies().length, files: engine.sources(), dir }, null, 2)}\n`
          : `policies valid: ${engine.policies().length} policies from ${engine.sources().length} file(s) (${dir})\n`,
      );
      return 0;
    }
    if (sub === 'list' && output === 'json') {
      const items = engine.policies().map((p) => ({
        id: p.id,
        effect: p.effect,
        gate: gateOf(p.annotations),
        reason: p.annotations.reason ?? null,
        file: p.file,
        line: p.line,
      }));
      ctx.io.stdout.write(`${JSON.stringify({ items }, null, 2)}\n`);
      return 0;
    }
    if (sub === 'list') {
      ctx.io.stdout.write(
        renderTable(
          ['ID', 'EFFECT', 'GATE', 'SOURCE'],
          engine
            .policies()
            .map((p) => [
              terminalText(p.id),
              p.effect,
              gateOf(p.annotations) ?? '',
              terminalText(`${p.file}:${p.line}`),
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
    const registry = createAgentRegistry(ctx.home);
    const definition = registry.get(ctx.flags.action);
    const { principal, refusal } = principalOf(ctx, ctx.flags.principal);
    const target = targetFromFlags(undefined, ctx.flags.target);
    // The environment a real request could name: what execute refuses is not a decision to show.
    if (!ENV.test(target.env)) {
      throw new DvmError('DVM_USAGE', `--target env=${target.env.slice(0, 63)} is not an environment name`, {
        fix: 'Name it as requests do: lowercase letters, digits and inner dashes, like env=prod.',
      });
    }
    // Params whose aliases cannot be resolved now: the agent would refuse the request (503), so the answer is no.
    const { params, unresolved } = await policyParams(ctx, registry, definition, engine.readsParams);
    const exitOf = (decision: PolicyAnswer['decision']) =>
      unresolved !== undefined ? 1 : exitCodeOf(decision);
    if (refusal) {
      const answer = {
        decision: 'deny',
        policyIds: [],
        reasons: [refusal.message],
        unauthenticated: refusal.reason,
      };
      ctx.io.stdout.write(
        ctx.flags.output === 'json'
          ? `${JSON.stringify({ principal, action: definition.name, risk: definition.risk, target, ...answer }, null, 2)}\n`
          : `DENY: ${refusal.message}\n`,
      );
      return 1;
    }
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
        `${JSON.stringify({ principal, action: definition.name, risk: definition.risk, target, ...answer, ...(unresolved !== undefined ? { unresolved } : {}) }, null, 2)}\n`,
      );
      return exitOf(answer.decision);
    }
    const verdict =
      answer.decision === 'confirm'
        ? `ALLOW after confirmation${answer.approval ? ' by a second principal' : ''}`
        : answer.decision.toUpperCase();
    // Policy text (ids, @reason) and the flags' values are shown with control characters escaped: an escape
    // sequence in a reason could otherwise rewrite the verdict line on a terminal.
    ctx.io.stdout.write(
      `${verdict}: ${terminalText(
        `${principal.name} (${principal.role}${principal.owner === principal.name ? '' : `, owner ${principal.owner}`}) → ${definition.name} (${definition.risk}) on ${Object.entries(
          target,
        )
          .map(([k, v]) => `${k}=${v}`)
          .join(',')}`,
      )}\n`,
    );
    for (let i = 0; i < answer.policyIds.length; i++) {
      ctx.io.stdout.write(`  ${terminalText(`${answer.policyIds[i]}: ${answer.reasons[i] ?? ''}`)}\n`);
    }
    if (answer.decision === 'deny' && answer.fix) ctx.io.stdout.write(`  fix: ${terminalText(answer.fix)}\n`);
    return exitOf(answer.decision);
  },
};
