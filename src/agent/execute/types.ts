import type { DatabaseSync } from 'node:sqlite';
import type { Risk } from '../../actions/action.ts';
import type { Principal } from '../auth/principal.ts';

/** The body of `POST /v1/actions/execute` (and what `dvm action run` builds). */
export interface ExecuteRequest {
  /** The caller's id for this request: repeating it repeats the answer, never the action. */
  request_id: string;
  action: string;
  version?: string;
  params?: Record<string, unknown>;
  /** Where the action acts; `env` (dev, stage, prod, …) is what policies look at. */
  target: { env: string; [key: string]: unknown };
  confirmation_token?: string;
  dry_run?: boolean;
  /** A duration like 30s; clamped to the action's maximum. */
  timeout?: string;
}

/** An answer of execute(): an HTTP status and a JSON body (an error body is `{code, reason, message, details}`). */
export interface ExecuteResponse {
  status: number;
  body: Record<string, unknown>;
  /** True when this is the answer of an earlier request with the same request_id (it did not run again). */
  replayed?: boolean;
}

/** What a policy is asked for one request. */
export interface PolicyQuery {
  principal: Principal;
  action: { name: string; version: string; risk: Risk };
  target: { env: string; [key: string]: unknown };
  confirmed: boolean;
  dryRun: boolean;
  /** Name of a second principal that approved the confirmation, if any. */
  approver?: string;
  /** The action's params as policies see them (schema-marked secret fields and secret-named keys masked, nothing else redacted); none when left out. */
  params?: Record<string, unknown>;
}

/** What a policy answers: allow, deny, or allow once confirmed; with the policies that decided and why. */
export interface PolicyAnswer {
  decision: 'allow' | 'deny' | 'confirm';
  policyIds: string[];
  reasons: string[];
  /** `other-principal` when a second principal must approve before it is allowed. */
  approval?: 'other-principal';
  /** For a deny: what would let it run (another role, or an admin changing the policy that forbids it). */
  fix?: string;
}

/** The policy port execute() decides with. */
export interface PolicyDecider {
  decide(query: PolicyQuery): PolicyAnswer;
  /**
   * False when no policy can read a request's params (none mentions them): then what they name needs no resolving
   * before a decision. Undefined counts as true.
   */
  readonly readsParams?: boolean;
  /** The environments the agent is bound to (config.yaml agent.environments); undefined when any. */
  readonly environments?: readonly string[];
}

/** One audit entry as execute() writes it (params and results already redacted). */
export interface AuditRecord {
  at: string;
  /** The principal's name, for people. */
  actor: string;
  /** How the actor came in: an API token, or the local CLI user. */
  via?: Principal['via'];
  /** The principal's identity (`token/<id>` or `local`): unambiguous where names could be alike. */
  principal?: string;
  action?: string;
  version?: string;
  decision: 'allowed' | 'denied' | 'confirmation_required' | 'executed' | 'failed';
  env?: string;
  target?: string;
  requestId?: string;
  executionId?: string;
  policyIds?: string[];
  reasons?: string[];
  params?: unknown;
  result?: unknown;
  error?: { code: string; message: string };
  durationMs?: number;
  dryRun?: boolean;
  /** The client address of a request refused before any route ran. */
  source?: string;
  /** The request a refusal before any route ran was for (`GET /v1/audit`). */
  route?: string;
  /** What the actor did to another request instead of running it: approved its confirmation, or cancelled it. */
  operation?: 'approve' | 'cancel';
}

/** The audit port: resolves once the entry is durable. */
export interface AuditSink {
  append(entry: AuditRecord): Promise<unknown>;
  /** Appends inside a running write transaction of the shared group committer (commits with its other writes). */
  appendIn(db: DatabaseSync, entry: AuditRecord): unknown;
}

/** The redaction port: a deep copy with secrets replaced (schema-marked fields and known patterns). */
export type Redact = (value: unknown, schema?: Record<string, unknown>) => unknown;
