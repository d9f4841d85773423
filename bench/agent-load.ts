// Load generator of the agent benchmarks, run as its own process (so the server's CPU is not the client's):
// `node bench/agent-load.ts health|execute URL TOKEN SECONDS CONNECTIONS` prints autocannon's figures as JSON.
import { randomUUID } from 'node:crypto';
import autocannon, { type Request } from 'autocannon';

const [mode, url, token, seconds = '5', connections = '64'] = process.argv.slice(2);
const prefix = randomUUID().slice(0, 8);
let n = 0;

const result = await autocannon({
  url,
  connections: Number(connections),
  duration: Number(seconds),
  ...(mode === 'health'
    ? { requests: [{ method: 'GET', path: '/v1/health' }] }
    : {
        requests: [
          {
            method: 'POST',
            path: '/v1/actions/execute',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            // A fresh request_id per request: each one really runs (no idempotent replays).
            setupRequest: (request: Request) => ({
              ...request,
              body: JSON.stringify({
                request_id: `${prefix}-${n++}`,
                action: 'system.info',
                target: { env: 'dev' },
              }),
            }),
          },
        ],
      }),
});
console.log(
  JSON.stringify({
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  }),
);
