import { DvmError } from '../../errors/dvm-error.ts';
import type { ActionDefinition, NotifyConfig } from '../action.ts';
import { abortError } from '../process.ts';

/** How long a webhook may take to answer. */
export const NOTIFY_TIMEOUT_MS = 10_000;

/** Message used when a callback gives none (the seed's `onSuccess: {action: notify.slack, channel: …}`). */
export const DEFAULT_MESSAGE = 'dvm notification';

/** Input of notify.slack. */
export type SlackInput = {
  message?: string;
  /** Slack's own name for the message; `message` wins when both are given. */
  text?: string;
  channel?: string;
  severity?: string;
  username?: string;
  icon_emoji?: string;
};

/** Input of notify.alert and notify.team: known fields, and any other field goes into `details`. */
export type WebhookInput = {
  message?: string;
  severity?: string;
  channel?: string;
  details?: Record<string, unknown>;
  [field: string]: unknown;
};

/** Output of the notify actions. */
export type NotifyOutput = { status: number };

const OUTPUT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['status'],
  properties: { status: { type: 'integer', description: 'HTTP status the webhook answered with.' } },
} as const;

const SLACK_INPUT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    message: { type: 'string', description: 'The message text.' },
    text: { type: 'string', description: 'Same as message (Slack’s name).' },
    channel: { type: 'string', minLength: 1, description: 'Channel, like #builds (default: the webhook’s).' },
    severity: { type: 'string', minLength: 1, description: 'Shown in brackets before the message.' },
    username: { type: 'string', minLength: 1, description: 'Name the message is posted under.' },
    icon_emoji: { type: 'string', minLength: 1, description: 'Emoji of the poster, like :rocket:.' },
  },
} as const;

const WEBHOOK_INPUT_SCHEMA = {
  type: 'object',
  additionalProperties: true,
  properties: {
    message: { type: 'string', description: 'The message text.' },
    severity: { type: 'string', minLength: 1, description: 'Severity, like info, high or critical.' },
    channel: { type: 'string', minLength: 1, description: 'Channel or team to notify.' },
    details: { type: 'object', description: 'Free-form details; other input fields are added to them.' },
  },
} as const;

type Target = keyof NotifyConfig;

// Webhook URLs carry secrets (Slack's path is the token): messages show the origin only.
function redact(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'the configured URL';
  }
}

/**
 * Why a webhook URL cannot be used, or undefined when it can: it must be http(s), and carry no user or password
 * (a request cannot send them, and they would be shown wherever the URL is).
 */
export function webhookUrlProblem(url: unknown): string | undefined {
  if (typeof url !== 'string' || !URL.canParse(url)) return 'is not a URL';
  const parsed = new URL(url);
  if (!/^https?:$/.test(parsed.protocol)) return 'is not an http(s) URL';
  if (parsed.username || parsed.password)
    return 'has a user or password in it, which a webhook request cannot carry';
  return undefined;
}

/** The webhook URL of a notify target, or DVM_NOTIFY_NOT_CONFIGURED naming what `action` needed. */
export function notifyUrl(target: Target, action: string, notify: NotifyConfig | undefined): string {
  const url = notify?.[target]?.url;
  const problem = url ? webhookUrlProblem(url) : undefined;
  if (!url || problem) {
    throw new DvmError(
      'DVM_NOTIFY_NOT_CONFIGURED',
      url ? `${action}: notify.${target}.url ${problem}` : `${action} has no webhook URL configured`,
      {
        fix: `Set it in $DVM_HOME/config.yaml under notify:, like\nnotify:\n  ${target}:\n    url: https://hooks.example.com/…`,
        details: { origin: 'user', target },
      },
    );
  }
  return url;
}

/**
 * POSTs a JSON body to a webhook for `action` (named in errors); a non-2xx answer, a network error or no answer in
 * 10 s is DVM_NOTIFY_FAILED.
 */
export async function postJson(
  url: string,
  body: unknown,
  action: string,
  signal: AbortSignal,
): Promise<NotifyOutput> {
  if (signal.aborted) throw abortError(signal.reason, action);
  const timeout = AbortSignal.timeout(NOTIFY_TIMEOUT_MS);
  const where = redact(url);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      redirect: 'manual',
      signal: AbortSignal.any([signal, timeout]),
    });
  } catch (error) {
    if (signal.aborted) throw abortError(signal.reason, action);
    if (timeout.aborted) {
      throw new DvmError(
        'DVM_NOTIFY_FAILED',
        `${action}: ${where} did not answer within ${NOTIFY_TIMEOUT_MS / 1000} s`,
        {
          fix: 'Check that the webhook service is up and reachable from this machine.',
          details: { origin: 'system' },
        },
      );
    }
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new DvmError(
      'DVM_NOTIFY_FAILED',
      // The URL stays out of the message (it may carry a secret): only its origin is named.
      `${action}: could not reach ${where} (${(cause?.code ?? cause?.message ?? (error as Error).message).replaceAll(url, where)})`,
      {
        fix: 'Check the URL in $DVM_HOME/config.yaml under notify:, and the network (proxy, DNS, firewall).',
        details: { origin: 'system' },
      },
    );
  }
  const text = await response.text().catch(() => '');
  if (response.status < 200 || response.status > 299) {
    const answer = text.trim().slice(0, 200);
    throw new DvmError(
      'DVM_NOTIFY_FAILED',
      `${action}: ${where} answered ${response.status}${answer ? `: ${answer}` : ''}`,
      {
        fix:
          response.status < 500
            ? 'The webhook refused the message: check its URL (a revoked or mistyped token) in $DVM_HOME/config.yaml under notify:.'
            : 'The webhook service failed; try again later.',
        details: { origin: response.status < 500 ? 'user' : 'system', status: response.status },
      },
    );
  }
  return { status: response.status };
}

/** The Slack incoming-webhook body of a notify.slack input. */
export function slackBody(input: SlackInput): Record<string, string> {
  const message = input.message ?? input.text ?? DEFAULT_MESSAGE;
  const body: Record<string, string> = { text: input.severity ? `[${input.severity}] ${message}` : message };
  if (input.channel !== undefined) body.channel = input.channel;
  if (input.username !== undefined) body.username = input.username;
  if (input.icon_emoji !== undefined) body.icon_emoji = input.icon_emoji;
  return body;
}

/** The generic webhook body `{event, severity?, message, channel?, details?}` of a notify.alert/team input. */
export function webhookBody(event: 'dvm.alert' | 'dvm.team', input: WebhookInput): Record<string, unknown> {
  const { message, severity, channel, details, action: _action, ...extra } = input;
  const body: Record<string, unknown> = { event };
  if (severity !== undefined) body.severity = severity;
  body.message = message ?? DEFAULT_MESSAGE;
  if (channel !== undefined) body.channel = channel;
  const allDetails = { ...(details ?? {}), ...extra };
  if (Object.keys(allDetails).length > 0) body.details = allDetails;
  return body;
}

/** `notify.slack`: posts a message to the Slack incoming webhook of `notify.slack.url`. */
export const notifySlackAction: ActionDefinition<SlackInput, NotifyOutput> = {
  name: 'notify.slack',
  version: '1.0.0',
  description: 'Posts a message to Slack through the incoming webhook configured under notify.slack.url.',
  risk: 'write',
  inputSchema: SLACK_INPUT_SCHEMA,
  outputSchema: OUTPUT_SCHEMA,
  async handler(input, context) {
    const url = notifyUrl('slack', 'notify.slack', context.notify);
    return postJson(url, slackBody(input), 'notify.slack', context.signal);
  },
};

function webhookAction(
  target: 'alert' | 'team',
  description: string,
): ActionDefinition<WebhookInput, NotifyOutput> {
  const name = `notify.${target}`;
  return {
    name,
    version: '1.0.0',
    description,
    risk: 'write',
    inputSchema: WEBHOOK_INPUT_SCHEMA,
    outputSchema: OUTPUT_SCHEMA,
    async handler(input, context) {
      const url = notifyUrl(target, name, context.notify);
      return postJson(url, webhookBody(`dvm.${target}`, input), name, context.signal);
    },
  };
}

/** `notify.alert`: posts `{event: 'dvm.alert', …}` to the JSON webhook of `notify.alert.url`. */
export const notifyAlertAction = webhookAction(
  'alert',
  'Raises an alert: posts {event: dvm.alert, severity, message, …} to the webhook under notify.alert.url.',
);

/** `notify.team`: posts `{event: 'dvm.team', …}` to the JSON webhook of `notify.team.url`. */
export const notifyTeamAction = webhookAction(
  'team',
  'Notifies a team: posts {event: dvm.team, message, channel, …} to the webhook under notify.team.url.',
);
