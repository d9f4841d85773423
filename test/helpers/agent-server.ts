import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { DVM_BIN, dvmOk } from './dvm.ts';

/** A running `dvm serve` with its API on a free port. */
export interface ServeProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** Stops it (SIGTERM, or the signal given) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const children: ChildProcess[] = [];
after(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/**
 * Starts the real `dvm serve --listen 127.0.0.1:0` on `home` (or with `args` in place of the --listen) and
 * waits until its API listens.
 */
export async function startServe(
  home: string,
  env: Record<string, string> = {},
  args: string[] = ['--listen', '127.0.0.1:0'],
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [DVM_BIN, 'serve', ...args, '--poll-interval', '5s'], {
    env: { ...process.env, DVM_HOME: home, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`dvm serve did not listen within 15 s:\n${out}`)),
      15_000,
    );
    const check = () => {
      const match = /agent API listening on (https?:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dvm serve exited ${code}:\n${out}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      }),
  };
}

/** Creates a token with the real CLI (for `owner`, else its own name) and returns it. */
export function createToken(home: string, name: string, role: string, ttl?: string, owner?: string): string {
  return dvmOk(home, [
    'token',
    'create',
    '--name',
    name,
    '--role',
    role,
    ...(ttl ? ['--ttl', ttl] : []),
    ...(owner ? ['--owner', owner] : []),
  ]).stdout.trim();
}

/** A JSON request to the API: status, parsed body and headers. */
export async function api(
  url: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers; text: string }> {
  const response = await fetch(new URL(path, url), {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    body:
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body),
    signal: options.signal,
  });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, body, headers: response.headers, text };
}

/** Puts the shipped two-person rule for prod (examples/policies/two-person-prod.cedar) among `home`'s policies; returns its path. */
export function useTwoPersonRule(home: string): string {
  mkdirSync(join(home, 'policies'), { recursive: true });
  const file = join(home, 'policies', 'two-person-prod.cedar');
  copyFileSync(new URL('../../examples/policies/two-person-prod.cedar', import.meta.url), file);
  return file;
}

/** The argv of `dvm policy test` for the admin role running system.info on a target (`env=prod`). */
export function adminInfoPolicyTest(target: string): string[] {
  return ['policy', 'test', '--principal', 'role:admin', '--action', 'system.info', '--target', target];
}
