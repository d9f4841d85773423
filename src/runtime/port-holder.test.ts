import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { test } from 'node:test';
import { isDvmError } from '../errors/dvm-error.ts';
import { assertPortFree, portHolder } from './port-holder.ts';

const hasProc = existsSync('/proc/net/tcp');

async function holdPort(host: string) {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

test('a free port has no holder', async () => {
  const { server, port } = await holdPort('127.0.0.1');
  await new Promise((resolve) => server.close(resolve));
  assert.equal(await portHolder(port), undefined);
  await assertPortFree(port, 'Instance/db');
});

for (const host of ['127.0.0.1', '0.0.0.0']) {
  test(`a port held by this process on ${host} names process.pid`, { skip: !hasProc }, async (t) => {
    const { server, port } = await holdPort(host);
    t.after(() => server.close());
    const holder = await portHolder(port);
    assert.equal(holder?.pid, process.pid);
    assert.match(holder?.command ?? '', /node/);
    assert.ok((holder?.command ?? '').length <= 200);
  });
}

test('a port held by another process names its pid and command line', { skip: !hasProc }, async (t) => {
  const script =
    "require('net').createServer().listen(0, '127.0.0.1', function () { console.log(this.address().port) })";
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill());
  const [chunk] = await once(child.stdout, 'data');
  const holder = await portHolder(Number(String(chunk).trim()));
  assert.equal(holder?.pid, child.pid);
  assert.equal(holder?.command, `${process.execPath} -e ${script}`);
});

test('assertPortFree names the holder and the fix', async (t) => {
  const { server, port } = await holdPort('127.0.0.1');
  t.after(() => server.close());
  await assert.rejects(assertPortFree(port, 'Instance/db'), (e) => {
    assert.ok(isDvmError(e));
    assert.equal(e.code, 'DVM_PORT_IN_USE');
    assert.equal(e.location.path, 'ports');
    assert.match(e.message, new RegExp(`^port ${port} needed by Instance/db is in use`));
    if (hasProc) assert.match(e.message, new RegExp(`by pid ${process.pid} \\(.*node`));
    assert.match(e.fix ?? '', new RegExp(`containerPort: ${port}, hostPort: N`));
    return true;
  });
});
