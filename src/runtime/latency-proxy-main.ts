// A latency proxy as a long-running service (the process runtime supervises it for chaos.latency):
// `node latency-proxy-main.ts --target HOST:PORT --listen PORT --latency MS --jitter MS`.
import { parseArgs } from 'node:util';
import { startLatencyProxy } from './latency-proxy.ts';

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    listen: { type: 'string' },
    latency: { type: 'string', default: '0' },
    jitter: { type: 'string', default: '0' },
  },
});
const [host, port] = String(values.target).split(':');
const proxy = await startLatencyProxy({
  target: { host: host || '127.0.0.1', port: Number(port) },
  listen: { host: '127.0.0.1', port: Number(values.listen) },
  latencyMs: Number(values.latency),
  jitterMs: Number(values.jitter),
});
process.stdout.write(
  `latency proxy ${proxy.host}:${proxy.port} -> ${values.target} (+${values.latency}ms ±${values.jitter}ms)\n`,
);
const stop = () => {
  void proxy.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
