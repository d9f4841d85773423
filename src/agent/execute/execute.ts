import { tmpdir } from 'node:os';
import type { ActionContext, ActionDefinition, NotifyConfig } from '../../actions/action.ts';
import { DEFAULT_ACTION_TIMEOUTS, DEFAULT_ARTIFACT_MAX_BYTES } from '../../actions/artifact.ts';
import { parseDuration } from '../../actions/builtin/duration.ts';
import { createMemoryLog } from '../../actions/log-file.ts';
import type { ActionRegistry } from '../../actions/registry.ts';
import { DvmError, isDvmError } from '../../errors/dvm-error.ts';
import { systemError } from '../../errors/system-errors.ts';
import { refusedParams } from '../audit/refused-params.ts';
import type { Confirmations, ConfirmedRequest } from '../auth/confirmations.ts';
import type { Principal } from '../auth/principal.ts';
import { ENVIRONMENT_BINDING_ID } from '../policy/environment-binding.ts';
import { maskSecretFields } from '../redact.ts';
import { canonicalInput } from './canonical-input.ts';
import type { ExecutionRecord, Executions } from './executions.ts';
import { newExecutionId, unrecordedError } from './executions.ts';
import { type FollowLimits, FollowSlots } from './follow-limits.ts';
import type { Claim, IdempotencyKeys, StoredResponse } from './idempotency.ts';
import { cappedLogEvents, lineSplitter } from './log-events.ts';
import { withParamCauses } from './request-causes.ts';
import { canonicalHash } from './request-hash.ts';
import { targetText } from './target-text.ts';
import type {
  AuditRecord,
  AuditSink,
  ExecuteRequest,
  ExecuteResponse,
  PolicyAnswer,
  PolicyDecider,
  PolicyQuery,
  Redact,
} from './types.ts';
import { validateExecuteRequest } from './validate-request.ts';

/** Everything execute() works with; the server and the in-process CLI build it the same way. */
export interface ExecuteDeps {
  registry: ActionRegistry;
  policy: PolicyDecider;
  confirmations: Confirmations;
  idempotency: IdempotencyKeys;
  executions: Executions;
  audit: AuditSink;
  redact: Redact;
  notify?: NotifyConfig;
  /** Cap of an action's artifact and log (default 1 MiB). */
  maxOutputBytes?: number;
  /** Confirmation challenge lifetime (default 5 minutes). */
  confirmationTtlMs?: number;
  /** Environment handed to actions (default: this process's). */
  env?: Record<string, string>;
  /** Called once per finished decision, for metrics. */
  observe?: (event: { action: string; outcome: string; durationMs: number }) => void;
  /** How many follows (long-running executions) run at once (default DEFAULT_FOLLOW_LIMITS). */
  followLimits?: FollowLimits;
}

/** Options of one execute() call. */
export interface ExecuteOptions {
  /** Aborts a request that waits (idempotent repeat) or runs synchronously. */
  signal?: AbortSignal;
  /** Run long-running actions to the end instead of answering 202 (the in-process CLI does). */
  wait?: boolean;
  /** Called with the execution id as soon as the action starts (before it finishes). */
  onStart?: (executionId: string) => void;
  /**
   * What a pipeline task gives the action: its working directory, environment, log file (output goes there too)
   * and cancel signal.
   */
  context?: Pick<ActionContext, 'workdir' | 'env' | 'log' | 'signal' | 'resultsDir'>;
}

/** How long a closing server lets the actions of requests in flight finish before it stops them. */
export const DRAIN_MS = 5000;

// How long a long-running action may take to return after its timeout fired.
const FOLLOW_GRACE_MS = 1000;

// Actions run by the agent have no task results; this is where a handler that writes some would put them.
const RESULTS_DIR = tmpdir();

function errorResponse(error: unknown): ExecuteResponse {
  const e = isDvmError(error)
    ? error
    : (systemError(error) ??
      new DvmError('DVM_INTERNAL', `unexpected error: ${(error as Error)?.message ?? String(error)}`));
  return { status: e.httpStatus, body: e.toJSON() };
}

// What a run that threw answers: as errorResponse, except that an object the action looked up and did not find
// (a dependency instance, an app, a backup: the CLI's DVM_NOT_FOUND) is the action's target not found, as with
// every other action.
function runErrorResponse(error: unknown): ExecuteResponse {
  if (!isDvmError(error) || error.code !== 'DVM_NOT_FOUND') return errorResponse(error);
  const { file, line, column, path, object } = error.location;
  const target = new DvmError('DVM_TARGET_NOT_FOUND', error.message, {
    fix: error.fix,
    ...{ file, line, column, path, object },
    causes: error.causes,
    details: error.details,
  });
  return errorResponse(target);
}

/**
 * The one enforcement path of every caller (REST, CLI, pipeline tasks): validate → (authenticated principal) →
 * policy → confirmation → idempotency → run (timeout, output cap) → audit → respond. The action's risk comes from
 * the registry, never from the caller; every decision is durably audited before the answer is returned.
 */
export class ActionExecutor {
  readonly #deps: ExecuteDeps;
  // The handlers running now (their aborts) and the runs' ends, by execution id: stop() ends them all instead of
  // letting a follow outlive the agent by up to an hour, cancel() one. Both entries go when the run ends.
  readonly #controllers = new Map<string, AbortController>();
  readonly #running = new Map<string, Promise<unknown>>();
  // Executions a pipeline task runs (with its context): stopRequests() leaves them to their run.
  readonly #taskRuns = new Set<string>();
  #stopped = false;
  readonly #follows: FollowSlots;

  constructor(deps: ExecuteDeps) {
    this.#deps = { ...deps };
    this.#follows = new FollowSlots(deps.followLimits);
  }

  /**
   * Applies a reloaded config.yaml to the requests that start from now on: the notify webhooks handed to actions and
   * the follow limits (unset: the defaults). Running actions keep what they started with.
   */
  reconfigure(settings: { notify: NotifyConfig; followLimits?: FollowLimits }): void {
    this.#deps.notify = settings.notify;
    this.#follows.useLimits(settings.followLimits);
  }

  /**
   * Stops every running action (their executions end failed with DVM_CANCELLED, recorded and audited), and those
   * that start later at once; waits up to `graceMs` for the running ones to be recorded.
   */
  async stop(graceMs = 5000): Promise<void> {
    this.#stopped = true;
    for (const controller of this.#controllers.values()) controller.abort(stoppingError());
    // Those whose handler already returned are still recording their end: they are waited for too.
    await this.#settled([...this.#running.keys()], graceMs);
  }

  /**
   * Stops what requests (API, CLI) run, for a server that is closing: follows at once; other actions get up to
   * `drainMs` to finish, then are stopped as stop() does. Pipeline tasks' actions are left to their runs (whose
   * finally tasks may still run actions); new requests are not refused here.
   */
  async stopRequests(drainMs = DRAIN_MS): Promise<void> {
    const requests = [...this.#controllers.keys()].filter((id) => !this.#taskRuns.has(id));
    const follows = requests.filter((id) => this.#follows.holds(id));
    const stoppingFollows = this.#abort(follows);
    const others = requests.filter((id) => !this.#follows.holds(id));
    await this.#settled(others, drainMs);
    await Promise.all([stoppingFollows, this.#abort(others.filter((id) => this.#controllers.has(id)))]);
  }

  // Aborts these executions as the agent stopping, and waits up to `graceMs` for their ends to be recorded.
  async #abort(ids: string[], graceMs = 5000): Promise<void> {
    for (const id of ids) this.#controllers.get(id)?.abort(stoppingError());
    await this.#settled(ids, graceMs);
  }

  // Waits up to `ms` for these executions to end (recorded).
  async #settled(ids: string[], ms: number): Promise<void> {
    const ends = ids.map((id) => this.#running.get(id)).filter((p) => p !== undefined);
    if (ends.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(ends),
      new Promise((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Ids of the executions this executor runs for requests now (a pipeline task's belong to its run). */
  runningIds(): string[] {
    return [...this.#running.keys()].filter((id) => !this.#taskRuns.has(id));
  }

  /** True while this executor runs the execution (its handler, or the recording of its end). */
  runs(executionId: string): boolean {
    return this.#running.has(executionId);
  }

  /**
   * Cancels an execution this executor runs: aborts its handler with DVM_CANCELLED (it ends `failed`, recorded and
   * audited like any end) and resolves with its record once that end is committed; undefined when it does not run
   * it. An execution that was ending anyway (timed out, already cancelled) keeps its own end.
   */
  async cancel(executionId: string, by: Principal): Promise<ExecutionRecord | undefined> {
    const running = this.#running.get(executionId);
    if (!running) return undefined;
    this.#controllers.get(executionId)?.abort(
      new DvmError('DVM_CANCELLED', `cancelled by ${by.name}`, {
        fix: 'Run the action again if it is still needed (with a new request_id).',
        details: { cancelled_by: by.name },
      }),
    );
    await running;
    return this.#deps.executions.get(executionId);
  }

  /** The registry this executor runs actions from. */
  get registry(): ActionRegistry {
    return this.#deps.registry;
  }

  /**
   * What the policy answers `principal` running `request` itself, its gates aside (`confirm`: permitted once they
   * are met): an approver must be one who may run what it approves. An action no longer registered is a deny.
   */
  permits(
    principal: Principal,
    request: { action?: string; version?: string; target?: Record<string, unknown>; params?: unknown },
  ): PolicyAnswer {
    let definition: ReturnType<ActionRegistry['get']>;
    try {
      definition = this.#deps.registry.get(request.action ?? '', request.version);
    } catch (error) {
      return { decision: 'deny', policyIds: [], reasons: [(error as Error).message] };
    }
    return this.#deps.policy.decide({
      principal,
      action: { name: definition.name, version: definition.version, risk: definition.risk },
      target: (request.target ?? { env: '' }) as PolicyQuery['target'],
      // Unconfirmed: what its gates ask for comes back as `confirm`, only what no gate could open as `deny`.
      confirmed: false,
      dryRun: false,
      params: (request.params ?? {}) as Record<string, unknown>,
    });
  }

  /** Runs one request for an authenticated principal and returns the HTTP-shaped answer (never throws). */
  async execute(body: unknown, principal: Principal, options: ExecuteOptions = {}): Promise<ExecuteResponse> {
    const started = performance.now();
    let response: ExecuteResponse;
    let actionName =
      typeof (body as ExecuteRequest)?.action === 'string' ? (body as ExecuteRequest).action : '?';
    try {
      const request = validateExecuteRequest(body);
      actionName = request.action;
      response = await this.#execute(request, principal, options);
    } catch (error) {
      // A refusal may quote what was sent (a schema violation names the value): secrets in it are redacted too.
      const refused = errorResponse(withParamCauses(error, body, this.#deps.registry));
      response = { status: refused.status, body: this.#deps.redact(refused.body) as Record<string, unknown> };
    }
    this.#deps.observe?.({
      action: actionName,
      outcome: String(response.status),
      durationMs: performance.now() - started,
    });
    return response;
  }

  async #execute(
    request: ExecuteRequest,
    principal: Principal,
    options: ExecuteOptions,
  ): Promise<ExecuteResponse> {
    const { registry, policy, redact } = this.#deps;
    const definition = registry.get(request.action, request.version);
    const sent = registry.validateInput(
      definition,
      request.params && Object.keys(request.params).length > 0 ? structuredClone(request.params) : {},
    ) as Record<string, unknown>;
    // Decided, run and audited on what the params name in its one form (a container's name for its id), so a policy
    // on a name holds whichever alias is sent; resolved only when some policy reads params (else it cannot change a
    // decision). The request_id stays bound to what was sent, a confirmation to that and to what it named.
    const resolving = definition.canonicalInput !== undefined && policy.readsParams !== false;
    const params = resolving
      ? await canonicalInput(definition, sent, {
          env: options.context?.env ?? this.#deps.env ?? (process.env as Record<string, string>),
          workdir: options.context?.workdir,
          signal: options.context?.signal ?? options.signal,
          // A pipeline task's run bounds its tasks' parallelism; the per-principal share is for requests.
          ...(options.context ? {} : { principal: principal.id }),
          choiceSeed: `${principal.id}\n${request.request_id}`,
        })
      : sent;
    const payloadHash = payloadHashOf(definition, sent, request);
    const needs = definition.minTimeoutMs?.(params);
    if (needs !== undefined && request.timeout !== undefined && parseDuration(request.timeout) < needs) {
      throw new DvmError(
        'DVM_REQUEST_INVALID',
        `timeout ${request.timeout} is shorter than the ${needs / 1000} s ${definition.name} needs with these params`,
        {
          path: 'timeout',
          fix: `Pass a timeout of at least ${Math.ceil(needs / 1000)}s, or params that need less (a shorter grace period).`,
          details: { min_timeout_ms: needs },
        },
      );
    }
    const redactedParams = redact(params, definition.inputSchema);
    // What is stored and answered of the target (the policy and the hashes see the real one).
    const shownTarget = redact(request.target) as ExecuteRequest['target'];
    const base: Omit<AuditRecord, 'decision'> = {
      at: '',
      actor: principal.name,
      via: principal.via,
      principal: principal.id,
      action: definition.name,
      version: definition.version,
      env: request.target.env,
      target: targetText(shownTarget),
      requestId: request.request_id,
      params: redactedParams,
      ...(request.dry_run ? { dryRun: true } : {}),
    };
    // An entry of a request that does not run keeps at most 4 KiB of its params: refusals cost their sender nothing.
    const audit = (entry: Partial<AuditRecord> & Pick<AuditRecord, 'decision'>) =>
      this.#deps.audit.append({
        ...base,
        ...(entry.decision === 'denied' || entry.decision === 'confirmation_required'
          ? { params: refusedParams(base.params) }
          : {}),
        ...entry,
        at: new Date().toISOString(),
      });

    const query = {
      principal,
      action: { name: definition.name, version: definition.version, risk: definition.risk },
      target: request.target,
      dryRun: request.dry_run === true,
      // The real params (secret fields masked), never pattern-redacted ones: a forbid on a param must hold.
      params: maskSecretFields(params, definition.inputSchema) as Record<string, unknown>,
    };
    let answer = policy.decide({ ...query, confirmed: false });
    if (answer.decision === 'deny') return this.#deny(answer, audit);
    // A retry of a request that already ran (or runs) gets its answer, even when its confirmation token was used.
    if (!request.dry_run && answer.decision === 'confirm') {
      let seen: ReturnType<IdempotencyKeys['peek']>;
      try {
        seen = this.#deps.idempotency.peek(principal.id, request.request_id, payloadHash);
      } catch (error) {
        await audit({
          decision: 'denied',
          error: { code: (error as DvmError).code, message: (error as Error).message },
        });
        throw error;
      }
      if (seen) {
        // Not the gates' reasons: they were met (or not) by the first request, and nothing runs now.
        await audit({
          decision: 'allowed',
          reasons: [
            'a repeat of this request_id: answered with the first request’s answer (its confirmation was checked then; nothing runs again)',
          ],
        });
        return this.#repeat(seen, definition, params, request, principal, options);
      }
    }
    if (answer.decision === 'confirm') {
      // The binding a confirmation token is tied to: what will run, where, and for whom.
      const binding = canonicalHash({
        action: definition.name,
        version: definition.version,
        params: sent,
        // What an alias named when it was asked, which the approver was shown: a container that now answers to the
        // same alias is another request. Params that named themselves add nothing (a token stays good across a
        // policy reload that turns resolving on or off).
        ...(resolving && canonicalHash(params) !== canonicalHash(sent) ? { resolved: params } : {}),
        target: request.target,
        principal: principal.id,
        // How long it may run is part of what was confirmed (a 1 ms timeout leaves a write's outcome unknown).
        ...(request.timeout !== undefined ? { timeout: request.timeout } : {}),
      });
      const token = request.confirmation_token;
      if (token === undefined) {
        const shown = {
          action: definition.name,
          version: definition.version,
          params: redactedParams,
          target: shownTarget,
          request_id: request.request_id,
        };
        return this.#challenge(answer, binding, principal, request, shown, audit);
      }
      const { confirmations } = this.#deps;
      let approvedBy: string | undefined;
      let approver: Principal | undefined;
      try {
        ({ approvedBy, approver } = confirmations.check(token, binding, principal));
      } catch (error) {
        await audit({
          decision: 'denied',
          error: { code: (error as DvmError).code, message: (error as Error).message },
        });
        throw error;
      }
      // The approver must be one who may run this very request (its real params and target, through the
      // requester's channel): approving saw only what the challenge shows, redacted.
      if (approver) {
        const vouch = policy.decide({
          ...query,
          principal: { ...approver, via: principal.via },
          confirmed: false,
        });
        if (vouch.decision === 'deny')
          return this.#deny(
            {
              ...vouch,
              // The policy's fix is about the approver's role, not the requester's.
              fix: 'Have a principal the policy lets run this request itself approve it (check it with `dvm policy test`).',
              reasons: [
                `approved by ${approvedBy}, whom the policy would not let run it: the approval does not count`,
                ...vouch.reasons,
              ],
            },
            audit,
          );
      }
      // Policy is evaluated again at execution, now as confirmed.
      answer = policy.decide({ ...query, confirmed: true, ...(approvedBy ? { approver: approvedBy } : {}) });
      if (answer.decision === 'deny' && answer.approval === 'other-principal') {
        await audit({
          decision: 'confirmation_required',
          policyIds: answer.policyIds,
          reasons: answer.reasons,
        });
        return {
          status: 428,
          body: new DvmError(
            'DVM_CONFIRMATION_REQUIRED',
            `${definition.name} in ${request.target.env} needs a second principal to approve this confirmation`,
            {
              fix: 'Another principal approves it with POST /v1/confirmations/approve {"confirmation_token": …}; then send the request again with the token.',
              details: {
                challenge: {
                  confirmation_token: token,
                  expires_at: confirmations.describe(token)?.expires_at,
                  approval: 'other-principal',
                  binding,
                },
                policy_ids: answer.policyIds,
                reasons: answer.reasons,
              },
            },
          ).toJSON(),
        };
      }
      if (answer.decision !== 'allow') return this.#deny(answer, audit);
      // Under the two-person rule the run's audit entry names whose approval it used.
      if (approvedBy) answer = { ...answer, reasons: [...answer.reasons, `approved by ${approvedBy}`] };
      if (!request.dry_run && !confirmations.consume(token, binding)) {
        const error = new DvmError('DVM_CONFIRMATION_INVALID', 'the confirmation token was already used', {
          fix: 'Send the request again without confirmation_token to get a fresh challenge.',
          details: { reason: 'used' },
        });
        await audit({ decision: 'denied', error: { code: error.code, message: error.message } });
        throw error;
      }
    }

    if (request.dry_run) {
      await audit({ decision: 'allowed', policyIds: answer.policyIds, reasons: answer.reasons });
      // What the real run would meet: a dry run passes the confirmation gates, the run itself may not.
      const real = policy.decide({ ...query, dryRun: false, confirmed: false });
      return {
        status: 200,
        body: {
          dry_run: true,
          run_decision: real.decision,
          ...(real.decision === 'confirm' ? { run_approval: real.approval ?? 'self' } : {}),
          request_id: request.request_id,
          action: definition.name,
          version: definition.version,
          risk: definition.risk,
          target: shownTarget,
          params: redactedParams,
          decision: 'allow',
          policy_ids: answer.policyIds,
        },
      };
    }
    return this.#run(
      definition,
      params,
      payloadHash,
      request,
      principal,
      answer,
      options,
      audit,
      base,
      shownTarget,
    );
  }

  async #deny(
    answer: PolicyAnswer,
    audit: (e: Partial<AuditRecord> & Pick<AuditRecord, 'decision'>) => Promise<unknown>,
  ) {
    await audit({ decision: 'denied', policyIds: answer.policyIds, reasons: answer.reasons });
    const environments = this.#deps.policy.environments;
    return {
      status: 403,
      body: new DvmError(
        'DVM_FORBIDDEN',
        `policy denies this request: ${answer.reasons.join('; ') || 'no policy permits it'}`,
        {
          fix:
            answer.policyIds.includes(ENVIRONMENT_BINDING_ID) && environments
              ? `Name the environment this agent acts on (target.env, --env ${environments[0]}), or send the request to the agent of the environment you meant.`
              : (answer.fix ??
                'Ask an admin for a role that may run this action on this target, or check it with `dvm policy test`.'),
          details: { decision: 'deny', policy_ids: answer.policyIds, reasons: answer.reasons },
        },
      ).toJSON(),
    };
  }

  async #challenge(
    answer: PolicyAnswer,
    binding: string,
    principal: Principal,
    request: ExecuteRequest,
    shown: ConfirmedRequest,
    audit: (e: Partial<AuditRecord> & Pick<AuditRecord, 'decision'>) => Promise<unknown>,
  ): Promise<ExecuteResponse> {
    const challenge = this.#deps.confirmations.issue(binding, principal, {
      ttlMs: this.#deps.confirmationTtlMs,
      env: request.target.env,
      approval: answer.approval ?? 'self',
      request: shown,
    });
    await audit({ decision: 'confirmation_required', policyIds: answer.policyIds, reasons: answer.reasons });
    return {
      status: 428,
      body: new DvmError(
        'DVM_CONFIRMATION_REQUIRED',
        challenge.approval === 'other-principal'
          ? `${request.action} in ${request.target.env} needs confirmation, approved by a second principal first`
          : `${request.action} in ${request.target.env} needs confirmation`,
        {
          fix:
            challenge.approval === 'other-principal'
              ? 'Another principal approves it first (POST /v1/confirmations/approve {"confirmation_token": …} or {"confirmation_id": …}, or dvm action approve); then send the same request again with "confirmation_token" from details.challenge before it expires.'
              : 'Send the same request again with "confirmation_token" from details.challenge before it expires.',
          details: { challenge, policy_ids: answer.policyIds, reasons: answer.reasons },
        },
      ).toJSON(),
    };
  }

  async #run(
    definition: ActionDefinition,
    params: Record<string, unknown>,
    payloadHash: string,
    request: ExecuteRequest,
    principal: Principal,
    answer: PolicyAnswer,
    options: ExecuteOptions,
    audit: (e: Partial<AuditRecord> & Pick<AuditRecord, 'decision'>) => Promise<unknown>,
    base: Omit<AuditRecord, 'decision'>,
    shownTarget: ExecuteRequest['target'],
  ): Promise<ExecuteResponse> {
    const { idempotency, executions } = this.#deps;
    const executionId = newExecutionId();
    const prepared = executions.prepare({
      id: executionId,
      request_id: request.request_id,
      principal: principal.id,
      action: definition.name,
      version: definition.version,
      env: request.target.env,
      target: shownTarget,
    });
    const allowed: AuditRecord = {
      ...base,
      decision: 'allowed',
      executionId,
      policyIds: answer.policyIds,
      reasons: answer.reasons,
      at: new Date().toISOString(),
    };
    // A read that answers at once commits once, after it ran: its key, execution and both audit entries together.
    // It changes nothing, so a crash before that commit (no answer was sent) only means a retry reads again.
    // Everything else claims its key durably before it runs, so it never runs twice, not even across a crash.
    const long = definition.longRunning?.(params) === true;
    const oneCommit = definition.risk === 'read' && !long;
    let claim: Awaited<ReturnType<typeof idempotency.claim>>;
    try {
      // A new follow takes a slot first (a repeat of one does not), so a token cannot open streams without end. A
      // pipeline task's follow takes none: its run's parallelism bounds it, and the limits are for requests.
      if (long && !options.context && !idempotency.lookup(principal.id, request.request_id, payloadHash))
        this.#follows.take(executionId, principal);
      claim = oneCommit
        ? (idempotency.lookup(principal.id, request.request_id, payloadHash) ?? { state: 'new' })
        : await idempotency.claim(principal.id, request.request_id, payloadHash, executionId, (db) => {
            // The decision's audit entry, the execution record and the key's claim commit together.
            prepared.persist(db);
            this.#deps.audit.appendIn(db, allowed);
          });
    } catch (error) {
      this.#follows.release(executionId);
      await audit({
        decision: 'denied',
        error: { code: (error as DvmError).code, message: (error as Error).message },
      });
      throw error;
    }
    if (claim.state !== 'new') {
      this.#follows.release(executionId);
      await audit({
        decision: 'allowed',
        policyIds: answer.policyIds,
        reasons: [...answer.reasons, 'a repeat of this request_id: answered with the first request’s answer'],
      });
      return this.#repeat(claim, definition, params, request, principal, options);
    }
    prepared.open();
    options.onStart?.(executionId);
    let settle!: (response: StoredResponse) => void;
    const final = new Promise<StoredResponse>((resolve) => {
      settle = resolve;
    });
    idempotency.track(principal.id, request.request_id, payloadHash, final);

    const running = this.#invoke(
      definition,
      params,
      request,
      executionId,
      (entry) => ({ ...base, ...entry, at: new Date().toISOString() }),
      principal.id,
      options.context,
      oneCommit ? { allowed, payloadHash } : undefined,
      shownTarget,
    ).then(
      (response) => {
        settle(response);
        return response;
      },
      async (error: unknown) => {
        // Recording the end failed (the database): repeats waiting here get the error, not a hang. A claimed key
        // gets that answer durably too (its execution then reads interrupted), so later repeats are answered as well;
        // when even that cannot be written, the reaper answers it at the agent's next start.
        // A claimed action ran (its key was taken before): the answer says so, never a bare internal error that
        // would invite running it again under a new request_id.
        const response = oneCommit
          ? errorResponse(error)
          : { status: 500, body: unrecordedError(executionId, error) };
        if (!oneCommit)
          await executions
            .markUnrecorded(executionId, principal.id, request.request_id, error)
            .catch(() => {});
        settle(response);
        return response;
      },
    );
    this.#running.set(executionId, running);
    void running.finally(() => {
      this.#running.delete(executionId);
      this.#follows.release(executionId);
    });
    if (definition.longRunning?.(params) && !options.wait) {
      running.catch(() => {});
      return accepted(definition, request, executionId);
    }
    return (await running) as ExecuteResponse;
  }

  // The answer to a repeated request_id: the stored answer once it ended; while it runs, a long-running one's
  // 202 again at once (what its first request got), anything else's answer once it ends.
  async #repeat(
    seen: Exclude<Claim, { state: 'new' }>,
    definition: ActionDefinition,
    params: Record<string, unknown>,
    request: ExecuteRequest,
    principal: Principal,
    options: ExecuteOptions,
  ): Promise<ExecuteResponse> {
    if (seen.state === 'done') return { ...(seen.response as ExecuteResponse), replayed: true };
    if (seen.executionId && definition.longRunning?.(params) && !options.wait)
      return { ...accepted(definition, request, seen.executionId), replayed: true };
    const first = await this.#deps.idempotency.wait(principal.id, request.request_id, options.signal);
    return { ...(first as ExecuteResponse), replayed: true };
  }

  // Runs the handler under its timeout and output cap, then records the outcome (execution, audit) durably.
  async #invoke(
    definition: ActionDefinition,
    params: Record<string, unknown>,
    request: ExecuteRequest,
    executionId: string,
    entryOf: (e: Partial<AuditRecord> & Pick<AuditRecord, 'decision'>) => AuditRecord,
    principalId: string,
    given: ExecuteOptions['context'] | undefined,
    unclaimed: { allowed: AuditRecord; payloadHash: string } | undefined,
    shownTarget: ExecuteRequest['target'],
  ): Promise<ExecuteResponse> {
    const { executions, redact } = this.#deps;
    const timeouts = definition.timeouts ?? DEFAULT_ACTION_TIMEOUTS;
    // A follow runs until it is cancelled or its source ends (as `kubectl logs -f` does): by default up to the
    // action's maximum, not its default, which is for a one-off answer.
    const timeoutMs = Math.min(
      request.timeout
        ? parseDuration(request.timeout)
        : definition.longRunning?.(params)
          ? timeouts.maxMs
          : Math.max(timeouts.defaultMs, definition.minTimeoutMs?.(params) ?? 0),
      timeouts.maxMs,
    );
    const maxOutputBytes = this.#deps.maxOutputBytes ?? DEFAULT_ARTIFACT_MAX_BYTES;
    const controller = new AbortController();
    if (this.#stopped) controller.abort(stoppingError());
    this.#controllers.set(executionId, controller);
    if (given) this.#taskRuns.add(executionId);
    const timer = setTimeout(
      () =>
        controller.abort(
          new DvmError(
            'DVM_TIMEOUT',
            `${definition.name} took longer than ${timeoutMs} ms${definition.risk === 'read' ? '' : `: it ${STOPPED_MID_WAY}`}`,
            {
              fix:
                definition.risk === 'read'
                  ? `Pass a longer "timeout" (at most ${timeouts.maxMs} ms for this action).`
                  : `${CHECK_THE_TARGET}, and pass a longer "timeout" (at most ${timeouts.maxMs} ms for this action).`,
              details: {
                timeout_ms: timeoutMs,
                ...(definition.risk === 'read' ? {} : { outcome: 'unknown' }),
              },
            },
          ),
        ),
      timeoutMs,
    );
    const log = createMemoryLog({ maxBytes: maxOutputBytes });
    const logEvents = cappedLogEvents(
      maxOutputBytes,
      (type, data) => executions.emit(executionId, type, data),
      (line) => redact(line) as string,
    );
    const lines = lineSplitter(logEvents.line, maxOutputBytes);
    const context: ActionContext = {
      signal: given?.signal ? AbortSignal.any([controller.signal, given.signal]) : controller.signal,
      workdir: given?.workdir ?? process.cwd(),
      env: given?.env ?? this.#deps.env ?? (process.env as Record<string, string>),
      log: {
        write: (stream, chunk) => {
          log.write(stream, chunk);
          given?.log.write(stream, chunk);
          lines.write(stream, String(chunk));
        },
      },
      resultsDir: given?.resultsDir ?? RESULTS_DIR,
      notify: this.#deps.notify ?? {},
      maxOutputBytes,
      emit: (event) => {
        if (event.type === 'log')
          return (event.context ? logEvents.context : logEvents.line)(event.stream, event.line);
        const { type, ...data } = event;
        executions.emit(executionId, type, redact(data) as Record<string, unknown>);
      },
    };
    const started = performance.now();
    let response: ExecuteResponse;
    let outcome: Parameters<Executions['finish']>[1];
    let ended: AuditRecord;
    try {
      const output = await Promise.race([
        definition.handler(params, context),
        new Promise<never>((_, reject) => {
          // A follow (long-running read) that reaches its timeout ends with what it gathered: its handler gets a
          // moment to return; everything else fails at once.
          const grace = definition.longRunning?.(params) ? FOLLOW_GRACE_MS : 0;
          const fail = () => setTimeout(() => reject(context.signal.reason), grace).unref();
          if (context.signal.aborted) fail();
          context.signal.addEventListener('abort', fail, { once: true });
        }),
      ]);
      // A follow returns what it gathered once stopped; stopped by a cancel (not its timeout), it ends cancelled.
      if (definition.longRunning?.(params) && cancelledBy(controller.signal)) throw controller.signal.reason;
      // Anything else that returns after its timeout or a cancel (a handler that ends quietly on abort) failed.
      if (!definition.longRunning?.(params) && context.signal.aborted) throw context.signal.reason;
      const result = redact(output);
      const durationMs = Math.round(performance.now() - started);
      response = {
        status: 200,
        body: {
          execution_id: executionId,
          request_id: request.request_id,
          status: 'succeeded',
          action: definition.name,
          version: definition.version,
          risk: definition.risk,
          target: shownTarget,
          duration_ms: durationMs,
          result,
        },
      };
      outcome = { status: 'succeeded', result };
      ended = entryOf({ decision: 'executed', executionId, result: summaryOf(result), durationMs });
    } catch (thrown) {
      // A handler that fails because it was stopped (a client library's AbortError) ends with why it was stopped: its
      // timeout or a cancel, never an internal error.
      const error =
        context.signal.aborted && isDvmError(context.signal.reason) ? context.signal.reason : thrown;
      // Stop whatever the handler still runs (a timed-out follow, a process group).
      if (!controller.signal.aborted) controller.abort(error);
      const failure = runErrorResponse(cancelledMidWay(error, definition));
      const body = redact({ ...failure.body, execution_id: executionId }) as Record<string, unknown>;
      const durationMs = Math.round(performance.now() - started);
      response = { status: failure.status, body };
      outcome = { status: 'failed', error: body };
      ended = entryOf({
        decision: 'failed',
        executionId,
        error: { code: String(body.code), message: String(body.message) },
        durationMs,
      });
    } finally {
      // The last lines, written without a newline, and what the log events held, before the execution's end.
      lines.flush();
      logEvents.flush();
      clearTimeout(timer);
      this.#controllers.delete(executionId);
      this.#taskRuns.delete(executionId);
    }
    // One write, so the execution's end, its audit entries and the request id's answer commit together or not at
    // all: a crash or a failing write leaves none of them (then the key's execution is still running and the reaper
    // answers it; an unclaimed read left no trace at all), never a recorded run without its audit entry.
    const { idempotency, audit } = this.#deps;
    const answer = response;
    await executions.finish(executionId, outcome, {
      unsaved: unclaimed !== undefined,
      alsoIn: (db) => {
        // An unclaimed read's decision is audited with its outcome (first, so the chain keeps their order).
        if (unclaimed) audit.appendIn(db, unclaimed.allowed);
        audit.appendIn(db, ended);
        if (unclaimed)
          idempotency.recordIn(
            db,
            principalId,
            request.request_id,
            unclaimed.payloadHash,
            executionId,
            answer,
          );
        else idempotency.completeIn(db, principalId, request.request_id, answer);
      },
    });
    return response;
  }
}

// What a write or destructive action stopped before its end (a timeout, a cancel) may have left, and what to do.
const STOPPED_MID_WAY = 'was stopped, but what it had already asked for may have happened';
const CHECK_THE_TARGET = "Check the target's state before running it again (a new request_id runs it again)";

// A write or destructive action cancelled while it ran (by a principal, a revoked token, the agent stopping) may
// have done what it asked for already: its end says so (details.outcome: unknown), as a timeout's does, rather than
// inviting a second run.
function cancelledMidWay(error: unknown, definition: ActionDefinition): unknown {
  if (definition.risk === 'read' || !isDvmError(error) || error.code !== 'DVM_CANCELLED') return error;
  return new DvmError('DVM_CANCELLED', `${error.message}: ${definition.name} ${STOPPED_MID_WAY}`, {
    fix: `${CHECK_THE_TARGET}.`,
    details: { ...error.details, outcome: 'unknown' },
  });
}

// True when the signal was aborted by cancel() or stop(), not by a timeout.
function cancelledBy(signal: AbortSignal): boolean {
  return signal.aborted && isDvmError(signal.reason) && signal.reason.code === 'DVM_CANCELLED';
}

function stoppingError(): DvmError {
  return new DvmError('DVM_CANCELLED', 'the agent is stopping', {
    fix: 'Send it again with a new request_id once the agent is back (the same request_id answers with this cancellation).',
  });
}

// The 202 of a long-running action: where to follow it.
function accepted(
  definition: ActionDefinition,
  request: ExecuteRequest,
  executionId: string,
): ExecuteResponse {
  return {
    status: 202,
    body: {
      execution_id: executionId,
      request_id: request.request_id,
      status: 'running',
      action: definition.name,
      version: definition.version,
      events: `/v1/executions/${executionId}/events`,
    },
  };
}

// What a request_id is bound to: a repeat with another payload is a conflict.
function payloadHashOf(
  definition: ActionDefinition,
  params: Record<string, unknown>,
  request: ExecuteRequest,
): string {
  return canonicalHash({
    action: definition.name,
    version: definition.version,
    params,
    target: request.target,
    timeout: request.timeout ?? null,
  });
}

// The audit keeps a read action's summary, not its raw artifact.
function summaryOf(result: unknown): unknown {
  if (result && typeof result === 'object' && 'summary' in result && 'artifact' in result) {
    const { artifact } = result as { artifact: { bytes?: number; totalBytes?: number; truncated?: boolean } };
    return {
      summary: (result as { summary: unknown }).summary,
      artifact: { bytes: artifact.bytes, totalBytes: artifact.totalBytes, truncated: artifact.truncated },
    };
  }
  return result;
}
