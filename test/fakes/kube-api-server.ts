// A FAKE Kubernetes API server for the k8s.* action tests: no real API server can run on these machines. It speaks
// the real paths and JSON shapes the client uses, requires a bearer token, and records every request; a request it
// does not expect is answered 500 and listed by unexpected(), which the tests assert is empty.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before } from 'node:test';

/** What the fake serves, per test. */
export interface KubeState {
  /** Log text by `namespace/pod/container` (container '' for the default one). */
  logs: Record<string, string>;
  events: Record<string, unknown[]>;
  /** Replicas by `namespace/deployment`. */
  deployments: Record<string, number>;
  /**
   * Requests (`METHOD /path`, like `PUT /apis/apps/v1/namespaces/shop/deployments/web/scale`) answered with a
   * Kubernetes Status of this code, reason and message instead, as the API server refuses them (400, 403, 409, …).
   */
  refuse: Record<string, { code: number; reason: string; message: string }>;
  /**
   * So many next event lists that carry a `continue` are answered 410 Expired, as an API server that compacted past
   * the list's snapshot.
   */
  expireContinue: number;
  /** Paths the fake never answers (an API server that hangs): the connection stays open until the client closes it. */
  hang: string[];
}

/** One request the fake received. */
export interface SeenRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  body?: unknown;
}

/** A running fake API server with its kubeconfig. */
export interface FakeKubeApi {
  url: string;
  token: string;
  kubeconfig: string;
  state: KubeState;
  requests: SeenRequest[];
  unexpected(): SeenRequest[];
  /** Appends a line to a pod's log (`namespace/pod/container`) and sends it to the follows open on it. */
  appendLog(key: string, line: string): void;
  /** Ends the follows open on a pod's log, as a container that exits does. */
  endLog(key: string): void;
  /** Sends raw bytes to the follows open on a pod's log (a chunk may end inside a character or a line). */
  appendRaw(key: string, bytes: Buffer): void;
  /** Breaks the connections of the follows open on a pod's log, as a dropped network does. */
  breakLog(key: string): void;
  /** How many follows are open on a pod's log. */
  following(key: string): number;
  /** How many requests to `hang` paths still have their connection open. */
  hanging(): number;
  close(): Promise<void>;
}

const status = (code: number, reason: string, message: string) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  code,
});

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (d) => (data += d));
    req.on('end', () => resolve(data));
  });
}

/**
 * One fake for a test file: started before its tests and closed after them; after each test, asserts that it got no
 * request it does not expect, and forgets the requests and the refusals, hangs and expiries that test set up.
 * Answers the fake (usable once the tests run) and the process environment with KUBECONFIG pointing at it.
 */
export function useFakeKubeApi(): { fake: FakeKubeApi; env: () => Record<string, string> } {
  let fake: FakeKubeApi | undefined;
  const started = () => {
    if (!fake) throw new Error('the fake Kubernetes API is used outside a test');
    return fake;
  };
  before(async () => {
    fake = await startFakeKubeApi();
  });
  afterEach(() => {
    const api = started();
    assert.deepEqual(api.unexpected(), [], 'the fake Kubernetes API got requests it does not expect');
    api.requests.length = 0;
    api.state.refuse = {};
    api.state.hang = [];
    api.state.expireContinue = 0;
  });
  after(() => fake?.close());
  return {
    // The fake started for this file, read when a test uses it.
    fake: new Proxy({} as FakeKubeApi, { get: (_, key) => Reflect.get(started(), key) }),
    env: () => ({ ...(process.env as Record<string, string>), KUBECONFIG: started().kubeconfig }),
  };
}

/** Starts the fake on a free port and writes a kubeconfig (context `fake`) that points at it. */
export async function startFakeKubeApi(token = 'fake-token-123'): Promise<FakeKubeApi> {
  const state: KubeState = { logs: {}, events: {}, deployments: {}, refuse: {}, hang: [], expireContinue: 0 };
  const hung = new Set<ServerResponse>();
  const requests: SeenRequest[] = [];
  const surprises: SeenRequest[] = [];
  const followers = new Map<string, Set<ServerResponse>>();
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const seen: SeenRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType: req.headers['content-type'],
    };
    const raw = await readBody(req);
    if (raw) seen.body = JSON.parse(raw);
    requests.push(seen);
    const send = (code: number, body: unknown, type = 'application/json') => {
      res.writeHead(code, { 'content-type': type });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${token}`) {
      return send(401, status(401, 'Unauthorized', 'Unauthorized'));
    }
    const refused = state.refuse[`${seen.method} ${url.pathname}`];
    if (refused) return send(refused.code, status(refused.code, refused.reason, refused.message));
    if (state.hang.includes(url.pathname)) {
      hung.add(res);
      res.on('close', () => hung.delete(res));
      return;
    }
    const route = (method: string | undefined, pattern: RegExp) =>
      method === undefined || seen.method === method ? pattern.exec(url.pathname) : null;
    const logs = route('GET', /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/);
    const events = route('GET', /^\/api\/v1\/namespaces\/([^/]+)\/events$/);
    const scalePath = route(
      undefined,
      /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)\/scale$/,
    );
    if (seen.method === 'GET' && url.pathname === '/version') {
      return send(200, { major: '1', minor: '30', gitVersion: 'v1.30.0-fake', platform: 'linux/amd64' });
    }
    if (logs) {
      const m = logs;
      const key = `${m[1]}/${m[2]}/${seen.query.container ?? ''}`;
      const text = state.logs[key];
      if (text === undefined) return send(404, status(404, 'NotFound', `pods "${m[2]}" not found`));
      let lines = text.split('\n').filter(Boolean);
      if (seen.query.tailLines !== undefined)
        lines = lines.slice(-Number(seen.query.tailLines) || lines.length);
      // The fake's lines carry no times: every line it has is older than a sinceTime of now.
      if (seen.query.sinceTime !== undefined) lines = [];
      if (seen.query.follow === 'true') {
        // As the API server does: the tail at once, then each new line as it is written, until the log ends.
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write(lines.map((l) => `${l}\n`).join(''));
        const open = followers.get(key) ?? new Set();
        followers.set(key, open.add(res));
        res.on('close', () => open.delete(res));
        return;
      }
      return send(200, lines.map((l) => `${l}\n`).join(''), 'text/plain');
    }
    if (events) {
      const m = events;
      let items = (state.events[m[1]] ?? []) as { involvedObject: Record<string, string>; type: string }[];
      for (const clause of (seen.query.fieldSelector ?? '').split(',').filter(Boolean)) {
        const [field, value] = clause.split('=');
        items = items.filter((e) =>
          field === 'type'
            ? e.type === value
            : e.involvedObject[field.replace('involvedObject.', '')] === value,
        );
      }
      if (seen.query.continue !== undefined && state.expireContinue > 0) {
        state.expireContinue--;
        return send(
          410,
          status(
            410,
            'Expired',
            'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
          ),
        );
      }
      // Pages as the API server cuts them: `limit` a page, `continue` where the next one starts (here, an offset).
      const from = Number(seen.query.continue ?? 0);
      const to = seen.query.limit === undefined ? items.length : from + Number(seen.query.limit);
      const left = items.length - Math.min(to, items.length);
      return send(200, {
        kind: 'EventList',
        apiVersion: 'v1',
        metadata: left > 0 ? { continue: String(to), remainingItemCount: left } : {},
        items: items.slice(from, to),
      });
    }
    if (scalePath) {
      const m = scalePath;
      const key = `${m[1]}/${m[2]}`;
      if (!(key in state.deployments)) {
        return send(404, status(404, 'NotFound', `deployments.apps "${m[2]}" not found`));
      }
      const scale = () => ({
        kind: 'Scale',
        apiVersion: 'autoscaling/v1',
        metadata: { name: m?.[2], namespace: m?.[1], resourceVersion: String(requests.length) },
        spec: { replicas: state.deployments[key] },
        status: { replicas: state.deployments[key] },
      });
      if (seen.method === 'GET') return send(200, scale());
      const body = seen.body as { kind?: string; spec?: { replicas?: number } } | undefined;
      if (seen.method === 'PUT' && body?.kind === 'Scale' && Number.isInteger(body.spec?.replicas)) {
        state.deployments[key] = body.spec?.replicas as number;
        return send(200, scale());
      }
    }
    surprises.push(seen);
    send(
      500,
      status(500, 'InternalError', `the fake Kubernetes API does not expect ${seen.method} ${url.pathname}`),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'dvm-kube-'));
  const kubeconfig = join(dir, 'config');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster: {server: "${url}", insecure-skip-tls-verify: true}
users:
- name: fake-user
  user: {token: "${token}"}
contexts:
- name: fake
  context: {cluster: fake, user: fake-user, namespace: default}
current-context: fake
`,
  );
  return {
    url,
    token,
    kubeconfig,
    state,
    requests,
    unexpected: () => [...surprises],
    appendLog: (key, line) => {
      state.logs[key] = `${state.logs[key] ?? ''}${line}\n`;
      for (const res of followers.get(key) ?? []) res.write(`${line}\n`);
    },
    endLog: (key) => {
      for (const res of followers.get(key) ?? []) res.end();
    },
    appendRaw: (key, bytes) => {
      for (const res of followers.get(key) ?? []) res.write(bytes);
    },
    breakLog: (key) => {
      for (const res of followers.get(key) ?? []) res.socket?.destroy();
    },
    following: (key) => followers.get(key)?.size ?? 0,
    hanging: () => hung.size,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}

/** A running HTTP proxy (a kubeconfig's proxy-url) and the requests it passed on. */
export interface FakeHttpProxy {
  url: string;
  /** `GET http://host/path` for a request forwarded as is, `CONNECT host:port` for a tunnel. */
  seen: string[];
  close(): Promise<void>;
}

/**
 * Starts a forward HTTP proxy on a free port: it passes plain-HTTP requests (absolute URLs) on, streaming the answer,
 * and tunnels CONNECT; as a corporate proxy in front of an API server does.
 */
export async function startHttpProxy(): Promise<FakeHttpProxy> {
  const seen: string[] = [];
  const tunnels = new Set<Socket>();
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const target = new URL(req.url ?? '/');
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    seen.push(`CONNECT ${req.url}`);
    tunnels.add(socket);
    socket.on('close', () => tunnels.delete(socket));
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host ?? '', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        for (const socket of tunnels) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
