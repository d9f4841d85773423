import type { NotifyConfig } from '../../actions/action.ts';
import { notifyUrl, postJson, slackBody, webhookBody } from '../../actions/builtin/notify.ts';
import { DvmError, isDvmError } from '../../errors/dvm-error.ts';
import type { AuditRecord } from '../execute/types.ts';
import type { AuditEntry } from './audit-log.ts';

/** Where an alert goes: one of config.yaml's `notify:` webhooks. */
export type AlertTarget = 'slack' | 'alert' | 'team';

/** One `agent.alerts` rule: the entries it matches (every given list must hold the entry's value) and where it posts. */
export interface AlertRule {
  name: string;
  notify: AlertTarget;
  env?: readonly string[];
  decision?: readonly AuditRecord['decision'][];
  /** Action names, or prefixes written `k8s.*`. */
  action?: readonly string[];
  risk?: readonly string[];
}

/** What became of one alert: posted, failed (with the error), or dropped because too many were waiting. */
export type AlertOutcome =
  | { rule: string; outcome: 'sent'; seq: number }
  | { rule: string; outcome: 'failed'; seq: number; error: DvmError }
  | { rule: string; outcome: 'dropped'; seq: number };

const TARGETS: readonly AlertTarget[] = ['slack', 'alert', 'team'];
const DECISIONS: readonly AuditRecord['decision'][] = [
  'allowed',
  'denied',
  'confirmation_required',
  'executed',
  'failed',
];
const RISKS = ['read', 'write', 'destructive'];
const RULE_KEYS = ['name', 'notify', 'env', 'decision', 'action', 'risk'];
const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** How many alerts post at once, and how many may wait; past that they are dropped (and counted). */
export const ALERTS_IN_FLIGHT = 4;
export const ALERTS_QUEUED = 100;

/**
 * Reads config.yaml's `agent.alerts` (a list of rules): DVM_SCHEMA_INVALID at the rule's path for anything that is
 * not a rule, so a typo never silences an alert.
 */
export function alertRulesSetting(value: unknown, file: string): AlertRule[] {
  const example =
    'agent:\n  alerts:\n    - name: prod-changes\n      notify: slack\n      env: [prod]\n      decision: [executed, failed, denied]\n      risk: [write, destructive]';
  const invalid = (path: string, message: string) =>
    new DvmError('DVM_SCHEMA_INVALID', `${path} ${message}`, {
      file,
      path,
      fix: `Write rules like\n${example}`,
    });
  if (!Array.isArray(value)) throw invalid('agent.alerts', 'must be a list of rules');
  const names = new Set<string>();
  return value.map((raw, i) => {
    const at = `agent.alerts[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw invalid(at, 'must be a mapping (name, notify, env, decision, action, risk)');
    const rule = raw as Record<string, unknown>;
    const unknown = Object.keys(rule).find((key) => !RULE_KEYS.includes(key));
    if (unknown)
      throw invalid(`${at}.${unknown}`, `is not a field of a rule (known: ${RULE_KEYS.join(', ')})`);
    if (typeof rule.name !== 'string' || !NAME.test(rule.name))
      throw invalid(`${at}.name`, 'must be a lowercase name (letters, digits, -), like prod-changes');
    if (names.has(rule.name)) throw invalid(`${at}.name`, `"${rule.name}" names two rules`);
    names.add(rule.name);
    if (!TARGETS.includes(rule.notify as AlertTarget))
      throw invalid(`${at}.notify`, `must be one of ${TARGETS.join(', ')} (a webhook under notify:)`);
    const list = (key: string, allowed?: readonly string[]): string[] | undefined => {
      const given = rule[key];
      if (given === undefined) return undefined;
      const values = Array.isArray(given) ? given : [given];
      if (values.length === 0 || values.some((v) => typeof v !== 'string' || v === ''))
        throw invalid(`${at}.${key}`, 'must be a name or a non-empty list of names');
      const wrong = allowed && values.find((v) => !allowed.includes(v as string));
      if (wrong) throw invalid(`${at}.${key}`, `"${wrong}" is not one of ${allowed.join(', ')}`);
      return values as string[];
    };
    const env = list('env');
    const decision = list('decision', DECISIONS) as AuditRecord['decision'][] | undefined;
    const action = list('action');
    const risk = list('risk', RISKS);
    return {
      name: rule.name,
      notify: rule.notify as AlertTarget,
      ...(env ? { env } : {}),
      ...(decision ? { decision } : {}),
      ...(action ? { action } : {}),
      ...(risk ? { risk } : {}),
    };
  });
}

// True when `rule` holds `entry` (risk as the registry gives it for the entry's action).
function matches(rule: AlertRule, entry: AuditEntry, risk: string | undefined): boolean {
  if (rule.env && !(entry.env !== undefined && rule.env.includes(entry.env))) return false;
  if (rule.decision && !rule.decision.includes(entry.decision)) return false;
  if (rule.risk && !(risk !== undefined && rule.risk.includes(risk))) return false;
  if (rule.action) {
    const action = entry.action;
    if (action === undefined) return false;
    return rule.action.some((a) => (a.endsWith('.*') ? action.startsWith(a.slice(0, -1)) : a === action));
  }
  return true;
}

// Slack reads <…> as links and mentions (<!channel>): text from requests is escaped so it shows as written.
function slackEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

// One line for people: what was decided, on what, by whom.
function alertText(rule: AlertRule, entry: AuditEntry, dropped: number): string {
  const what = [entry.decision, entry.action ?? 'request', entry.target ? `on ${entry.target}` : ''];
  const ids = [
    entry.requestId ? `request ${entry.requestId}` : '',
    entry.executionId ? `execution ${entry.executionId}` : '',
    entry.error ? `${entry.error.code}: ${entry.error.message}` : '',
    entry.reasons?.length ? entry.reasons.join('; ') : '',
  ].filter(Boolean);
  const by = `by ${entry.actor}${entry.via ? ` (${entry.via})` : ''}`;
  const more = dropped > 0 ? ` (+${dropped} alert(s) dropped while the webhook was busy)` : '';
  return `[dvm audit] ${rule.name}: ${what.filter(Boolean).join(' ')} ${by}${ids.length ? ` — ${ids.join(', ')}` : ''} (audit #${entry.seq})${more}`;
}

// An alert waiting to be posted, with the webhooks in force when it was queued.
interface QueuedAlert {
  rule: AlertRule;
  entry: AuditEntry;
  notify: NotifyConfig;
}

/**
 * Posts audit entries that match config.yaml's `agent.alerts` rules to their `notify:` webhooks once committed,
 * off the request path: at most ALERTS_IN_FLIGHT at once and ALERTS_QUEUED waiting, the rest dropped and counted.
 * Entries are already redacted; every outcome goes to the `onOutcome` listeners.
 */
export class AuditAlerts {
  #rules: readonly AlertRule[] = [];
  #notify: NotifyConfig = {};
  readonly #file: string | undefined;
  readonly #riskOf: (action: string, version: string | undefined) => string | undefined;
  readonly #listeners = new Set<(outcome: AlertOutcome) => void>();
  // Each alert keeps the webhooks of the configuration it was queued under.
  readonly #queue: QueuedAlert[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  readonly #stop = new AbortController();
  #dropped = 0;

  constructor(
    rules: readonly AlertRule[],
    options: {
      notify: NotifyConfig;
      riskOf: (action: string, version: string | undefined) => string | undefined;
      /** The config.yaml the rules come from (named in errors). */
      file?: string;
    },
  ) {
    this.#riskOf = options.riskOf;
    this.#file = options.file;
    this.configure(rules, options.notify);
  }

  /** The rules in force (none: entries are not looked at). */
  get rules(): readonly AlertRule[] {
    return this.#rules;
  }

  /**
   * Uses `rules` and `notify` for the entries handled from now on (alerts already queued go out as they were); a rule
   * whose webhook is missing is DVM_SCHEMA_INVALID at its path, and then nothing changes.
   */
  configure(rules: readonly AlertRule[], notify: NotifyConfig): void {
    // A rule whose webhook is missing would never alert: refused when the agent opens, as a bad setting is.
    for (const [i, rule] of rules.entries()) {
      try {
        notifyUrl(rule.notify, `agent.alerts[${i}] (${rule.name})`, notify);
      } catch (error) {
        if (!isDvmError(error)) throw error;
        throw new DvmError('DVM_SCHEMA_INVALID', error.message, {
          ...(this.#file ? { file: this.#file } : {}),
          path: `agent.alerts[${i}].notify`,
          fix: error.fix,
        });
      }
    }
    this.#rules = rules;
    this.#notify = notify;
  }

  /** Calls `listener` with every alert's outcome (the server's metrics and log); returns the function that stops it. */
  onOutcome(listener: (outcome: AlertOutcome) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #tell(outcome: AlertOutcome): void {
    for (const listener of this.#listeners) listener(outcome);
  }

  /** Queues an alert for every rule the entry matches (none once closed). */
  handle(entry: AuditEntry): void {
    if (this.#stop.signal.aborted) return;
    let risk: string | undefined;
    let riskRead = false;
    for (const rule of this.#rules) {
      if (rule.risk && !riskRead) {
        risk = entry.action ? this.#riskOf(entry.action, entry.version) : undefined;
        riskRead = true;
      }
      if (!matches(rule, entry, risk)) continue;
      if (this.#queue.length >= ALERTS_QUEUED) {
        this.#dropped++;
        this.#tell({ rule: rule.name, outcome: 'dropped', seq: entry.seq });
        continue;
      }
      this.#queue.push({ rule, entry, notify: this.#notify });
    }
    this.#pump();
  }

  #pump(): void {
    while (this.#inFlight.size < ALERTS_IN_FLIGHT && this.#queue.length > 0) {
      const { rule, entry, notify } = this.#queue.shift() as QueuedAlert;
      const dropped = this.#dropped;
      this.#dropped = 0;
      const sending = this.#send(rule, entry, notify, dropped).finally(() => {
        this.#inFlight.delete(sending);
        this.#pump();
      });
      this.#inFlight.add(sending);
    }
  }

  async #send(rule: AlertRule, entry: AuditEntry, notify: NotifyConfig, dropped: number): Promise<void> {
    const text = alertText(rule, entry, dropped);
    const severity = entry.decision === 'denied' || entry.decision === 'failed' ? 'warning' : 'info';
    const { result: _result, ...audit } = entry;
    const body =
      rule.notify === 'slack'
        ? slackBody({ message: slackEscape(text), severity })
        : webhookBody(rule.notify === 'alert' ? 'dvm.alert' : 'dvm.team', {
            message: text,
            severity,
            details: { rule: rule.name, ...(dropped > 0 ? { dropped } : {}), audit },
          });
    try {
      const url = notifyUrl(rule.notify, `audit alert ${rule.name}`, notify);
      await postJson(url, body, `audit alert ${rule.name}`, this.#stop.signal);
      this.#tell({ rule: rule.name, outcome: 'sent', seq: entry.seq });
    } catch (error) {
      const e = isDvmError(error) ? error : new DvmError('DVM_NOTIFY_FAILED', (error as Error).message);
      this.#tell({ rule: rule.name, outcome: 'failed', seq: entry.seq, error: e });
    }
  }

  /** Waits up to `graceMs` for the alerts queued and posting, then gives up on the rest (reported failed). */
  async close(graceMs = 5000): Promise<void> {
    const deadline = Date.now() + graceMs;
    // Queued alerts move in as posts end, so waiting on the posts waits on the queue too.
    while (this.#inFlight.size > 0 && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.#inFlight]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        }),
      ]);
      clearTimeout(timer);
    }
    // What is left fails at once (each reported), so nothing outlives the agent.
    this.#stop.abort(new DvmError('DVM_CANCELLED', 'the agent closed before the alert was posted'));
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }
}
