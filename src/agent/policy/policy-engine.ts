import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import type { AuthorizationCall } from '@cedar-policy/cedar-wasm/nodejs';
import { DvmError, type ErrorCause } from '../../errors/dvm-error.ts';
import { stableStringify } from '../../service/stable-json.ts';
import { type AgentSettings, readAgentSettings } from '../agent-settings.ts';
import { LOCAL_PRINCIPAL, type Principal, ROLES } from '../auth/principal.ts';
import type { PolicyAnswer, PolicyQuery } from '../execute/types.ts';
import { bindingDenial } from './environment-binding.ts';
import { isPolicyFileName, readPolicyFile } from './policy-file.ts';
import { policyShapeProblem } from './policy-shape.ts';
import { requestTags, tagsKey } from './request-tags.ts';

type Cedar = typeof import('@cedar-policy/cedar-wasm/nodejs');

/** The shipped default policy and the Cedar schema policies are validated against. */
export const DEFAULT_POLICY_FILE = new URL('./default.cedar', import.meta.url).pathname;
const SCHEMA_FILE = new URL('./schema.cedarschema', import.meta.url).pathname;

/** One loaded policy: its id, effect, where it was written, and its annotations. */
export interface LoadedPolicy {
  id: string;
  effect: 'permit' | 'forbid';
  file: string;
  line: number;
  annotations: Record<string, string>;
  text: string;
}

/**
 * A decision of the engine: the answer, Cedar's evaluation errors, and for a deny the `fix` that fits it (another
 * role only when one would be allowed; else the policy that forbids it, which only an admin can change).
 */
export type PolicyDecision = PolicyAnswer & { errors: string[]; fix?: string };

/** The directory of a dvm home users put their own `.cedar` files in. */
export function policiesDir(home: string): string {
  return join(home, 'policies');
}

const require = createRequire(import.meta.url);
const CEDAR_MODULE = require.resolve('@cedar-policy/cedar-wasm/nodejs');
let cedarModule: Cedar | undefined;

// The Cedar engine; `fresh` loads a new WebAssembly instance, for when the current one trapped (a trap leaves its
// memory unusable, so every later call would fail too).
function cedarOf(fresh = false): Cedar {
  if (fresh) delete require.cache[CEDAR_MODULE];
  if (fresh || !cedarModule) cedarModule = require(CEDAR_MODULE) as Cedar;
  return cedarModule;
}

// What a trapped WebAssembly instance throws (WebAssembly is a global of Node; its types are the DOM library's).
const WasmRuntimeError = (globalThis as unknown as { WebAssembly: { RuntimeError: new () => Error } })
  .WebAssembly.RuntimeError;

// True for what a trapped WebAssembly engine throws (an out-of-bounds access, its stack overflowing).
function isEngineFailure(error: unknown): boolean {
  return error instanceof WasmRuntimeError || error instanceof RangeError;
}

// 1-based line and column of a character offset.
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

interface CedarError {
  message: string;
  help?: string | null;
  sourceLocations?: { start: number; end: number; label?: string | null }[];
}

function causeOf(file: string, text: string, error: CedarError, offset = 0): ErrorCause {
  const at = error.sourceLocations?.[0];
  const where = at ? lineColumn(text, offset + at.start) : undefined;
  return {
    code: 'DVM_POLICY_INVALID',
    file,
    ...(where ?? {}),
    message: `${error.message}${at?.label ? ` (${at.label})` : ''}`,
    ...(error.help ? { fix: error.help } : {}),
  };
}

// A policy file or directory that cannot be read, as a cause naming it.
function unreadable(file: string, error: unknown): ErrorCause {
  const code = (error as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT'
      ? 'it does not exist (a dangling link, or removed while being read)'
      : code === 'EISDIR'
        ? 'it is a directory'
        : (error as Error).message;
  return {
    code: 'DVM_POLICY_INVALID',
    file,
    message: `cannot be read: ${why}`,
    fix: 'Make it a readable Cedar file, or remove it.',
  };
}

// Each engine's number: its prepared policy sets are named by it.
let engines = 0;

// The sample requests the home's policies decide before they are taken (#trialDecisions): a read, a confirmed write
// in prod.
const TRIAL_QUERIES: PolicyQuery[] = [
  {
    principal: LOCAL_PRINCIPAL,
    action: { name: 'system.info', version: '1.0.0', risk: 'read' },
    target: { env: 'dev' },
    confirmed: false,
    dryRun: false,
  },
  {
    principal: { id: 'token/trial', name: 'trial', role: 'operator', owner: 'trial', via: 'token' },
    action: { name: 'k8s.scale_deployment', version: '1.0.0', risk: 'write' },
    target: { env: 'prod', namespace: 'default' },
    confirmed: true,
    dryRun: false,
    approver: 'second',
    params: { namespace: 'default', deployment: 'web', replicas: 3 },
  },
];
const DECISION_CACHE_SIZE = 10_000;
// The longest decision key kept (with 10,000 of them, at most ~40 MB).
const MAX_CACHED_KEY_LENGTH = 4096;

// A policy text that may read a request's params: context.params / context.numbers, or their entities by name.
const PARAMS_READ = /params|numbers/i;
// The loaded policies that may read params (their text or their JSON names them).
const PARAMS_READERS = new WeakSet<LoadedPolicy>();
// The policies whose text or parsed form names `approver`: an @approval gate that does not can never be satisfied
// by an approval (its `unless { context has approver … }` is missing).
const APPROVER_READ = /approver/;
const APPROVER_READERS = new WeakSet<LoadedPolicy>();

/**
 * Cedar policies of a dvm home (the default policy plus `$DVM_HOME/policies/*.cedar`), parsed and validated once
 * and preparsed in the Cedar engine, so a decision is one call without re-parsing. Deny by default.
 */
export class PolicyEngine {
  readonly #home: string | undefined;
  #cedar: Cedar;
  #setId = '';
  // Its prepared sets alternate between two names: a reload prepares into the one not in force, replacing what it
  // held (Cedar has no call to drop a set; a new name per reload kept every old set in memory, ~30 MB for 5,000).
  readonly #engine = ++engines;
  #slot = 0;
  // The same policies without the gate forbids (@confirmation, @approval): what is permitted once every gate is
  // satisfied. A gate only ever turns an allow into a challenge, never a deny into one.
  #ungatedSetId = '';
  #policies = new Map<string, LoadedPolicy>();
  #sources: string[] = [];
  #reloadProblem: string | undefined;
  #reloadWarnings: readonly string[] = [];
  #readsParams = true;
  // Decisions by request: Cedar is deterministic for the same entities and context, and policies only change on
  // reload (which clears this). Bounded; the oldest entry goes first.
  readonly #decisions = new Map<string, PolicyDecision>();
  // Set when the engine failed again right after it was replaced: why (every decision is a deny until a reload).
  #failing: string | undefined;

  // The environments the home binds its agent to (config.yaml agent.environments); undefined: any.
  #environments: readonly string[] | undefined;

  private constructor(cedar: Cedar, home: string | undefined, environments: readonly string[] | undefined) {
    this.#cedar = cedar;
    this.#home = home;
    this.#environments = environments;
  }

  /**
   * Loads the policies of a home (or only the default policy, without one) and its environment binding
   * (config.yaml agent.environments, from `settings` when the caller read them already); DVM_POLICY_INVALID on a bad
   * policy file, DVM_SCHEMA_INVALID on a bad setting.
   */
  static async load(home?: string, settings?: AgentSettings): Promise<PolicyEngine> {
    const environments = home ? (settings ?? (await readAgentSettings(home))).environments : undefined;
    const engine = new PolicyEngine(cedarOf(), home, environments);
    engine.reload();
    return engine;
  }

  /** Binds the decisions from now on to `environments` (a reloaded config.yaml agent.environments; undefined: any). */
  useEnvironments(environments: readonly string[] | undefined): void {
    this.#environments = environments;
    // Cached answers include the binding's denials.
    this.#decisions.clear();
  }

  /** The environments this agent acts on (config.yaml agent.environments); undefined when any may be named. */
  get environments(): readonly string[] | undefined {
    return this.#environments;
  }

  /**
   * Whether some policy may read a request's params or numbers (its text names them, comments included: a false
   * "yes" only costs a resolution); when none does, what the params name cannot change a decision.
   */
  get readsParams(): boolean {
    return this.#readsParams;
  }

  /** Files the policies came from, in load order. */
  sources(): string[] {
    return [...this.#sources];
  }

  /** The loaded policies, in load order. */
  policies(): LoadedPolicy[] {
    return [...this.#policies.values()];
  }

  /**
   * Reads the policy files again. When one cannot be read, parsed or validated this throws DVM_POLICY_INVALID
   * (file, line, column, the reason) and the policies loaded before stay in force.
   */
  reload(): void {
    const files = [DEFAULT_POLICY_FILE];
    const causes: ErrorCause[] = [];
    const dir = this.#home ? policiesDir(this.#home) : undefined;
    if (dir && existsSync(dir)) {
      try {
        for (const name of readdirSync(dir).sort()) if (isPolicyFileName(name)) files.push(join(dir, name));
      } catch (error) {
        causes.push(unreadable(dir, error));
      }
    }
    const loaded = new Map<string, LoadedPolicy>();
    for (const file of files) {
      const before = new Set(loaded.keys());
      const undo = () => {
        for (const id of [...loaded.keys()]) if (!before.has(id)) loaded.delete(id);
      };
      this.#engineGuarded(file, () => this.#readFile(file, loaded, causes), causes, undo);
    }
    const warnings = causes.length === 0 ? this.#keepEmptied(files, loaded) : [];
    if (causes.length === 0)
      this.#engineGuarded(SCHEMA_FILE, () => causes.push(...this.#validate(loaded)), causes);
    if (causes.length === 0) causes.push(...this.#trialDecisions(loaded));
    if (causes.length > 0) {
      this.#reloadProblem = `${causes[0].file}${causes[0].line ? `:${causes[0].line}` : ''}: ${causes[0].message}`;
      this.#reloadWarnings = [];
      throw new DvmError(
        'DVM_POLICY_INVALID',
        `${causes.length === 1 ? 'a policy is' : `${causes.length} policies are`} not valid: ${causes[0].file}${causes[0].line ? `:${causes[0].line}` : ''}: ${causes[0].message}${this.#setId ? '; the previous policies stay in force' : ''}`,
        {
          file: causes[0].file,
          line: causes[0].line,
          column: causes[0].column,
          causes,
          fix: 'Fix the policy (see the Cedar message and the schema in `dvm policy --help`), then reload.',
        },
      );
    }
    const slot = 1 - this.#slot;
    const setId = `dvm-policies-${this.#engine}-${slot}`;
    try {
      this.#prepareSets(setId, loaded);
    } catch (error) {
      this.#reloadProblem = (error as Error).message;
      throw error;
    }
    this.#slot = slot;
    this.#setId = setId;
    this.#ungatedSetId = `${setId}-ungated`;
    this.#policies = loaded;
    this.#readsParams = [...loaded.values()].some((policy) => PARAMS_READERS.has(policy));
    this.#sources = files;
    this.#decisions.clear();
    this.#failing = undefined;
    this.#reloadProblem = undefined;
    this.#reloadWarnings = warnings;
  }

  /** What the last reload that took kept as it was, and why (a policy file emptied while its policies were in force). */
  get reloadWarnings(): readonly string[] {
    return this.#reloadWarnings;
  }

  /** Why the last reload was refused (the policies loaded before stay in force); undefined after one that took. */
  get reloadProblem(): string | undefined {
    return this.#reloadProblem;
  }

  // Files that held policies in force and now hold none — a file being rewritten in place (`gen > x.cedar` empties it
  // first) or a full disk, not a decision to drop its forbids: their policies in force are kept (added to `loaded`),
  // while the other files' changes take effect; removing the file drops them. Answers a warning for each.
  #keepEmptied(files: string[], loaded: Map<string, LoadedPolicy>): string[] {
    return files.flatMap((file) => {
      const held = [...this.#policies.values()].filter((p) => p.file === file);
      if (held.length === 0 || [...loaded.values()].some((p) => p.file === file)) return [];
      for (const policy of held) if (!loaded.has(policy.id)) loaded.set(policy.id, policy);
      return [
        `${file} held ${held.length} ${held.length === 1 ? 'policy' : 'policies'} in force and now holds none (being rewritten, or the disk full?): ${held.length === 1 ? 'it stays' : 'they stay'} in force until the file holds policies again or is removed`,
      ];
    });
  }

  // The home's policies decide a few sample requests before they are taken: one that Cedar's evaluator cannot take
  // (it traps) is refused at its file and line, and the policies in force stay. The shipped default is known to
  // decide; the others are tried together, and one by one only to name the one that traps. Stateless calls.
  #trialDecisions(policies: Map<string, LoadedPolicy>): ErrorCause[] {
    const own = [...policies.values()].filter((p) => p.file !== DEFAULT_POLICY_FILE);
    const together = own.length > 0 ? this.#trapsDeciding(own) : undefined;
    if (!together) return [];
    for (const policy of own) {
      const trap = this.#trapsDeciding([policy]);
      if (trap) return [trialCause(policy, trap)];
    }
    return [trialCause(own[0], together)];
  }

  // The trap Cedar's engine hits deciding the trial requests with these policies alone (on a fresh engine too).
  #trapsDeciding(policies: LoadedPolicy[]): Error | undefined {
    const staticPolicies = Object.fromEntries(policies.map((p) => [p.id, p.text]));
    for (const query of TRIAL_QUERIES) {
      const trap = this.#trapsTwice(() =>
        this.#cedar.isAuthorized({ ...this.#request(query), policies: { staticPolicies } }),
      );
      if (trap) return trap;
    }
    return undefined;
  }

  // Preparses both sets of these policies (all, and without the gates) under `setId`.
  #prepareSets(setId: string, policies: Map<string, LoadedPolicy>): void {
    const all = [...policies.values()];
    this.#preparse(setId, all);
    this.#preparse(
      `${setId}-ungated`,
      all.filter((p) => !isGate(p)),
    );
  }

  // Runs a step of a reload; when Cedar's engine traps on it (input beyond what it can take), the step's file is a
  // cause and a fresh engine takes over with the policies in force, so they keep deciding.
  #engineGuarded(file: string, step: () => void, causes: ErrorCause[], undo = () => {}): void {
    const before = causes.length;
    // What a step that trapped half way did is undone before it runs again, or is reported.
    const reset = () => {
      causes.length = before;
      undo();
    };
    const trap = this.#trapsTwice(step, reset);
    if (trap)
      causes.push({
        code: 'DVM_POLICY_INVALID',
        file,
        message: `Cedar could not process it (${trap.message})`,
        fix: 'Simplify the policy: less nesting, fewer operators in one policy.',
      });
  }

  // Runs `step`; when Cedar's engine traps, `reset` undoes what it did, a fresh engine takes over and the step runs
  // once more (the instance may have been broken before: it stays broken once it trapped). Gives the first trap when
  // the step traps on the fresh engine too (the engine is replaced again), else undefined.
  #trapsTwice(step: () => void, reset = () => {}): Error | undefined {
    let first: Error | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        step();
        return undefined;
      } catch (error) {
        if (!isEngineFailure(error)) throw error;
        first ??= error as Error;
        reset();
        this.#recoverEngine();
      }
    }
    return first;
  }

  // A new Cedar instance with the policies in force prepared again (the old instance's memory is unusable).
  #recoverEngine(): void {
    this.#cedar = cedarOf(true);
    // A fresh engine decides again (it fails closed anew if it fails again).
    this.#failing = undefined;
    if (this.#setId) this.#prepareSets(this.#setId, this.#policies);
    this.#decisions.clear();
  }

  #preparse(setId: string, policies: LoadedPolicy[]): void {
    const staticPolicies = Object.fromEntries(policies.map((p) => [p.id, p.text]));
    const answer = this.#cedar.preparsePolicySet(setId, { staticPolicies });
    if (answer.type === 'failure') {
      throw new DvmError(
        'DVM_POLICY_INVALID',
        `the policies could not be prepared: ${answer.errors[0]?.message}`,
        {
          fix: 'Fix the policies named in the message.',
        },
      );
    }
  }

  #readFile(file: string, into: Map<string, LoadedPolicy>, causes: ErrorCause[]): void {
    let text: string;
    try {
      // A dangling link, a directory named *.cedar, a file removed since the listing: a cause, never a crash.
      text = readPolicyFile(file);
    } catch (error) {
      causes.push(unreadable(file, error));
      return;
    }
    const shape = policyShapeProblem(text);
    if (shape) {
      causes.push({
        code: 'DVM_POLICY_INVALID',
        file,
        ...lineColumn(text, shape.offset),
        message: shape.message,
        fix: 'Split the condition into several policies, or simplify it.',
      });
      return;
    }
    const parts = this.#cedar.policySetTextToParts(text);
    if (parts.type === 'failure') {
      for (const error of parts.errors) causes.push(causeOf(file, text, error));
      return;
    }
    let cursor = 0;
    for (const policy of parts.policies) {
      const offset = Math.max(0, text.indexOf(policy, cursor));
      cursor = offset + policy.length;
      const { line } = lineColumn(text, offset);
      const json = this.#cedar.policyToJson(policy);
      if (json.type === 'failure') {
        for (const error of json.errors) causes.push(causeOf(file, text, error, offset));
        continue;
      }
      const annotations = Object.fromEntries(
        Object.entries(json.json.annotations ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]),
      );
      const gateProblem =
        annotationProblem(annotations, json.json.effect as 'permit' | 'forbid') ??
        unsortedJsonProblem(json.json.conditions ?? []);
      if (gateProblem) {
        causes.push({ code: 'DVM_POLICY_INVALID', file, line, ...gateProblem });
        continue;
      }
      const id = annotations.id || `${file.split('/').pop()}:${line}`;
      const clash = into.get(id);
      if (clash) {
        causes.push({
          code: 'DVM_POLICY_INVALID',
          file,
          line,
          message: `policy id "${id}" is also used at ${clash.file}:${clash.line}`,
          fix: 'Give each policy its own @id("…").',
        });
        continue;
      }
      const loaded: LoadedPolicy = {
        id,
        effect: json.json.effect as 'permit' | 'forbid',
        file,
        line,
        annotations,
        text: policy,
      };
      // Read in the policy's JSON too, where escapes in names are decoded (context["\u{70}arams"] is params).
      if (PARAMS_READ.test(policy) || PARAMS_READ.test(JSON.stringify(json.json))) PARAMS_READERS.add(loaded);
      // Its conditions only (names decoded there): a @reason that mentions the approver reads nothing.
      if (APPROVER_READ.test(JSON.stringify(json.json.conditions ?? []))) APPROVER_READERS.add(loaded);
      into.set(id, loaded);
    }
    if (parts.policy_templates.length > 0) {
      causes.push({
        code: 'DVM_POLICY_INVALID',
        file,
        message: 'policy templates are not supported',
        fix: 'Write static policies (no ?principal / ?resource slots).',
      });
    }
  }

  #validate(policies: Map<string, LoadedPolicy>): ErrorCause[] {
    const schema = readFileSync(SCHEMA_FILE, 'utf8');
    const staticPolicies = Object.fromEntries([...policies.values()].map((p) => [p.id, p.text]));
    const answer = this.#cedar.validate({ schema, policies: { staticPolicies } });
    if (answer.type === 'failure') {
      return answer.errors.map((e) => ({
        code: 'DVM_POLICY_INVALID' as const,
        file: SCHEMA_FILE,
        message: e.message,
      }));
    }
    return answer.validationErrors.map((e) => {
      const policy = policies.get(e.policyId);
      const at = e.error.sourceLocations?.[0];
      const where = policy && at ? lineColumn(policy.text, at.start) : undefined;
      return {
        code: 'DVM_POLICY_INVALID' as const,
        file: policy?.file,
        line: policy ? policy.line + (where ? where.line - 1 : 0) : undefined,
        message: `policy ${e.policyId}: ${e.error.message}`,
        ...(e.error.help ? { fix: e.error.help } : {}),
      };
    });
  }

  // The principal, action, resource, context and entities Cedar decides a query with.
  #request(query: PolicyQuery): Omit<AuthorizationCall, 'policies'> {
    const principal = { type: 'Dvm::Principal', id: query.principal.name };
    const resource = { type: 'Dvm::Target', id: query.target.env };
    const params = { type: 'Dvm::Params', id: 'request' };
    const numbers = { type: 'Dvm::Numbers', id: 'request' };
    const tags = requestTags(query.target, query.params);
    return {
      principal,
      action: { type: 'Dvm::Action', id: 'execute' },
      resource,
      context: {
        action: query.action.name,
        version: query.action.version,
        risk: query.action.risk,
        confirmed: query.confirmed,
        dryRun: query.dryRun,
        via: query.principal.via,
        principal: query.principal.name,
        ...(query.approver ? { approver: query.approver } : {}),
        params: { __entity: params },
        numbers: { __entity: numbers },
      },
      entities: [
        {
          uid: principal,
          attrs: { role: query.principal.role, owner: query.principal.owner },
          parents: [],
        },
        { uid: resource, attrs: { env: query.target.env }, parents: [], tags: tags.target },
        { uid: params, attrs: {}, parents: [], tags: tags.params },
        { uid: numbers, attrs: {}, parents: [], tags: tags.numbers },
      ],
    };
  }

  #authorize(
    query: PolicyQuery,
    setId = this.#setId,
  ): { allowed: boolean; determining: string[]; errors: string[] } {
    // An engine that failed again right after it was replaced is not replaced once more per request (each new
    // instance costs memory): until a reload, what it cannot decide is denied.
    if (this.#failing) return { allowed: false, determining: [], errors: [this.#failing] };
    const request = this.#request(query);
    const ask = () => this.#cedar.statefulIsAuthorized({ ...request, preparsedPolicySetId: setId });
    let answer: ReturnType<typeof ask> | undefined;
    // A trapped engine is replaced and asked once more; failing again, the request is denied (deny by default).
    const trap = this.#trapsTwice(() => {
      answer = ask();
    });
    if (trap || !answer) {
      this.#failing = `the policy engine failed: ${trap?.message}`;
      return { allowed: false, determining: [], errors: [this.#failing] };
    }
    if (answer.type === 'failure') {
      return { allowed: false, determining: [], errors: answer.errors.map((e) => e.message) };
    }
    const { decision, diagnostics } = answer.response;
    // Cedar skips a policy whose condition fails to evaluate (an overflow, a missing attribute): a forbid skipped so
    // would allow what it may have forbidden, so it denies instead (deny by default). A failing permit permits nothing.
    const failed = [
      ...new Set(
        diagnostics.errors
          .filter((e) => this.#policies.get(e.policyId)?.effect === 'forbid')
          .map((e) => e.policyId),
      ),
    ];
    if (failed.length > 0)
      return {
        allowed: false,
        determining: failed,
        errors: diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`),
      };
    return {
      allowed: decision === 'allow',
      determining: diagnostics.reason,
      errors: diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`),
    };
  }

  // The reasons of the policies that decided: their @reason, or the error of one that could not be evaluated.
  #reasons(ids: string[], errors: string[] = []): string[] {
    return ids.map((id) => {
      const error = errors.find((e) => e.startsWith(`${id}: `));
      if (error) return `policy ${id} could not be evaluated, so it denies: ${error.slice(id.length + 2)}`;
      return this.#policies.get(id)?.annotations.reason || `policy ${id}`;
    });
  }

  /**
   * Decides one request: `allow`, `deny`, or `confirm` (allowed once confirmed; `approval: other-principal` when a
   * second principal must approve). Policies annotated @confirmation gate on confirmation, @approval on a second
   * principal; any other forbid, or no permit at all, denies. A request on an environment the home's agent is not
   * bound to (config.yaml agent.environments) is denied before any policy is asked.
   */
  decide(query: PolicyQuery): PolicyDecision {
    const key = JSON.stringify([
      query.principal.name,
      query.principal.role,
      query.principal.owner,
      query.principal.via,
      query.action.name,
      query.action.version,
      query.action.risk,
      query.target.env,
      query.confirmed,
      query.dryRun,
      query.approver ?? null,
      tagsKey(query.target, query.params),
    ]);
    const cached = this.#decisions.get(key);
    if (cached) return cached;
    const answer = bindingDenial(this.#environments, query.target.env) ?? this.#decide(query);
    // Requests with large params are decided afresh each time: their keys would fill memory, not the cache.
    if (key.length > MAX_CACHED_KEY_LENGTH) return answer;
    if (this.#decisions.size >= DECISION_CACHE_SIZE) {
      this.#decisions.delete(this.#decisions.keys().next().value as string);
    }
    this.#decisions.set(key, Object.freeze(answer));
    return answer;
  }

  #decide(query: PolicyQuery): PolicyDecision {
    const first = this.#authorize(query);
    if (first.allowed)
      return {
        decision: 'allow',
        policyIds: first.determining,
        reasons: this.#reasons(first.determining),
        errors: first.errors,
      };
    const gate = (id: string, kind: 'confirmation' | 'approval') =>
      this.#policies.get(id)?.annotations[kind] !== undefined;
    const gates =
      first.determining.length > 0 &&
      first.determining.every((id) => gate(id, 'confirmation') || gate(id, 'approval'));
    if (!gates) return this.#deny(query, first.determining, first.errors);
    // A gate applies only when the request would be permitted once it is satisfied (confirmed, approved):
    // otherwise it is denied now, not challenged for an approval that could never make it run.
    const opened = this.#authorize({ ...query, confirmed: true }, this.#ungatedSetId);
    if (!opened.allowed) return this.#deny(query, opened.determining, opened.errors);
    if (!query.confirmed && first.determining.some((id) => gate(id, 'confirmation'))) {
      const confirmed = this.#authorize({ ...query, confirmed: true });
      if (confirmed.allowed) {
        return {
          decision: 'confirm',
          policyIds: first.determining,
          reasons: this.#reasons(first.determining),
          errors: confirmed.errors,
        };
      }
      if (confirmed.determining.length > 0 && confirmed.determining.every((id) => gate(id, 'approval'))) {
        const ids = [...new Set([...first.determining, ...confirmed.determining])];
        if (!this.#approvable(confirmed.determining))
          return this.#unapprovable(query, confirmed.determining, confirmed.errors);
        return {
          decision: 'confirm',
          approval: 'other-principal',
          policyIds: ids,
          reasons: this.#reasons(ids),
          errors: confirmed.errors,
        };
      }
      return this.#deny(query, confirmed.determining, confirmed.errors);
    }
    if (first.determining.every((id) => gate(id, 'approval'))) {
      if (!this.#approvable(first.determining))
        return this.#unapprovable(query, first.determining, first.errors);
      // A lone @approval gate (no @confirmation beside it): the request is challenged, for another principal to
      // approve, as under the two-person rule in prod.
      if (!query.confirmed)
        return {
          decision: 'confirm',
          approval: 'other-principal',
          policyIds: first.determining,
          reasons: this.#reasons(first.determining),
          errors: first.errors,
        };
      // No role gets past the two-person rule: what lets it run is another principal's approval.
      return {
        ...this.#deny(
          query,
          first.determining,
          first.errors,
          'Another principal approves it first (dvm action approve, or POST /v1/confirmations/approve); then send the request again with its confirmation token.',
        ),
        approval: 'other-principal',
      };
    }
    return this.#deny(query, first.determining, first.errors);
  }

  // True when an approval could satisfy these @approval gates: each reads the approver (an approval by a name the
  // gate allows lifts it). One that never reads it — `unless { context has approver … }` left out — never lets an
  // approval count, and a challenge for it could never be redeemed. (Which approvers a gate allows, a list of names
  // say, is the policy's to decide when the approval comes.)
  #approvable(gates: string[]): boolean {
    return gates.every((id) => {
      const policy = this.#policies.get(id);
      return policy !== undefined && APPROVER_READERS.has(policy);
    });
  }

  // The denial of a request whose @approval gates no approval could satisfy.
  #unapprovable(query: PolicyQuery, gates: string[], errors: string[]): PolicyDecision {
    const named = gates
      .flatMap((id) => this.#policies.get(id) ?? [])
      .map((p) => `"${p.id}" (${basename(p.file)}:${p.line})`)
      .join(', ');
    return this.#deny(
      query,
      gates,
      errors,
      `No approval can satisfy ${named}: an @approval forbid needs \`unless { context has approver && context.approver != context.principal }\` (see examples/policies/two-person-prod.cedar); an admin fixes the policy (check a decision with \`dvm policy test\`).`,
    );
  }

  #deny(query: PolicyQuery, determining: string[], errors: string[], knownFix?: string): PolicyDecision {
    // A forbid that denies outright decides alone: a gate satisfied alongside it (a confirmation) could not make
    // the request run, so its reason would only mislead.
    const outright = determining.filter((id) => {
      const policy = this.#policies.get(id);
      return !policy || !isGate(policy);
    });
    const deciding = outright.length > 0 ? outright : determining;
    const answer: PolicyDecision =
      deciding.length > 0
        ? { decision: 'deny', policyIds: deciding, reasons: this.#reasons(deciding, errors), errors }
        : {
            decision: 'deny',
            policyIds: ['default-deny'],
            reasons: [
              `no policy permits role ${query.principal.role} to run ${query.action.risk} action ${query.action.name} in ${query.target.env}`,
              ...errors,
            ],
            errors,
          };
    // The fix asks the policies again for each other role: worked out when something reads it (a 403, `dvm policy
    // test`, a copy of the answer), once; never for the denials nobody shows (an approval's 428, permits()).
    if (knownFix !== undefined) return { ...answer, fix: knownFix };
    let fix: string | undefined;
    Object.defineProperty(answer, 'fix', {
      get: () => {
        fix ??= this.#denyFix(query, deciding, errors);
        return fix;
      },
      enumerable: true,
    });
    return answer;
  }

  // What would let a denied request run: another role, when one would be permitted (once its gates are satisfied);
  // otherwise a change of the policies, which only an admin makes: the forbids that decided, or a missing permit.
  #denyFix(query: PolicyQuery, deciding: string[], errors: string[]): string {
    const check = 'check a decision with `dvm policy test`';
    const roles = ROLES.filter(
      (role) =>
        role !== query.principal.role &&
        this.#authorize(
          { ...query, principal: { ...query.principal, role }, confirmed: true },
          this.#ungatedSetId,
        ).allowed,
    );
    if (roles.length > 0)
      return `Ask an admin for a token with role ${roles.join(' or ')}, which may run ${query.action.name} in ${query.target.env} (${check}).`;
    const forbids = deciding.flatMap((id) => this.#policies.get(id) ?? []);
    if (forbids.length > 0) {
      const named = forbids.map((p) => `"${p.id}" (${basename(p.file)}:${p.line})`).join(', ');
      return `${forbids.length === 1 ? 'Policy' : 'Policies'} ${named} ${forbids.length === 1 ? 'forbids' : 'forbid'} this whatever the role: no token or confirmation gets past ${forbids.length === 1 ? 'it' : 'them'}; only an admin who changes or removes ${forbids.length === 1 ? 'that policy' : 'those policies'} can allow it (${check}).`;
    }
    if (errors.length > 0)
      return `The policies could not decide this request (their errors are in the reasons): an admin fixes them (\`dvm policy validate\`, ${check}).`;
    return `No policy permits ${query.action.risk} action ${query.action.name} in ${query.target.env} for any role: only an admin who adds a permit (a .cedar file in the agent's policies directory) can allow it (${check}).`;
  }
}

/** A principal for policy tests: a token name with its role (and its owner: its name unless given). */
export function principalFor(
  name: string,
  role: Principal['role'],
  via: Principal['via'] = 'token',
  owner: string = name,
): Principal {
  return { id: via === 'local' ? name : `token/${name}`, name, role, owner, via };
}

// A forbid that gates (asks for a confirmation or a second principal) rather than denies.
function isGate(policy: LoadedPolicy): boolean {
  return (
    policy.effect === 'forbid' &&
    (policy.annotations.confirmation !== undefined || policy.annotations.approval !== undefined)
  );
}

// The gate annotations take one value each: any other (a typo) would silently turn a gate into a plain deny, or
// a confirmation into the two-person rule.
function annotationProblem(
  annotations: Record<string, string>,
  effect: 'permit' | 'forbid',
): { message: string; fix: string } | undefined {
  const allowed: Record<string, string> = { confirmation: 'required', approval: 'other-principal' };
  for (const [name, value] of Object.entries(allowed)) {
    // On a permit a gate would mean nothing (only a forbid gates): the author meant a gated forbid.
    if (annotations[name] !== undefined && effect === 'permit')
      return {
        message: `@${name} is on a permit: only a forbid gates (a permit with it would allow without any ${name})`,
        fix: `Keep the permit plain and add a forbid annotated @${name}("${value}") for what needs it (see the default policy).`,
      };
    if (annotations[name] !== undefined && annotations[name] !== value)
      return {
        message: `@${name}("${annotations[name].slice(0, 40)}") is not a gate dvm knows`,
        fix: `Write @${name}("${value}"), or leave the annotation out.`,
      };
  }
  return undefined;
}

// Policies see an object or list param as JSON with its keys sorted (request-tags.ts): a string in a condition that
// is a JSON object with its keys in another order could never equal one, so the policy would silently never apply.
function unsortedJsonProblem(conditions: unknown): { message: string; fix: string } | undefined {
  const strings: string[] = [];
  const collect = (node: unknown): void => {
    if (typeof node === 'string') strings.push(node);
    else if (Array.isArray(node)) for (const item of node) collect(item);
    else if (node && typeof node === 'object') for (const value of Object.values(node)) collect(value);
  };
  collect(conditions);
  for (const text of strings) {
    if (!/^\s*[[{]/.test(text)) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      continue;
    }
    const sorted = stableStringify(value);
    if (sorted !== JSON.stringify(value))
      return {
        message: `the string ${JSON.stringify(text.slice(0, 80))} is JSON whose object keys are not sorted: params are compared as JSON with sorted keys, so it never matches`,
        fix: `Write it with its keys sorted: ${JSON.stringify(sorted.slice(0, 200))}.`,
      };
  }
  return undefined;
}

// A policy that makes Cedar's engine trap while it decides the trial requests, as the cause that refuses it.
function trialCause(policy: LoadedPolicy, trap: Error): ErrorCause {
  return {
    code: 'DVM_POLICY_INVALID',
    file: policy.file,
    line: policy.line,
    message: `Cedar's engine fails deciding with it (${trap.message})`,
    fix: 'Simplify the policy: less nesting, fewer operators in one condition.',
  };
}
