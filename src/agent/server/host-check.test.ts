import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allowedHostsSetting, hostRefusal } from './host-check.ts';

const LOOPBACK = { listen: '127.0.0.1', local: '127.0.0.1' };

test('on a loopback agent, only localhost, loopback addresses, its own address and agent.allowed_hosts are answered', () => {
  const decide = (host: string, allowed?: string[]) => hostRefusal(host, LOOPBACK, allowed)?.code ?? 'ok';
  for (const host of [
    'localhost:8700',
    'LocalHost',
    'localhost.',
    '127.0.0.1:8700',
    '127.9.9.9',
    '[::1]:8700',
    '127.1',
  ])
    assert.equal(decide(host), 'ok', host);
  // A rebinding page's name, a look-alike, and anything that is no host[:port] (userinfo, a path) are refused.
  for (const host of [
    'evil.example',
    'evil.example:8700',
    'localhost.evil.example',
    'localhost@evil.example',
    'x/y',
    '10.0.0.5',
  ])
    assert.equal(decide(host), 'DVM_HOST_NOT_ALLOWED', host);
  assert.equal(decide('dvm.example.com:443', ['dvm.example.com']), 'ok');
  // `.example.com`: the name and every name under it, not one that merely ends the same.
  for (const host of ['example.com', 'a.b.example.com'])
    assert.equal(decide(host, ['.example.com']), 'ok', host);
  assert.equal(decide('badexample.com', ['.example.com']), 'DVM_HOST_NOT_ALLOWED');
  assert.equal(hostRefusal(undefined, LOOPBACK, undefined), undefined, 'no Host (HTTP/1.0): no browser');

  const refused = hostRefusal('evil.example:8700', LOOPBACK, undefined);
  assert.equal(refused?.httpStatus, 421);
  assert.match(
    refused?.message ?? '',
    /Host "evil\.example:8700" is not a name of this agent \(it arrived at a loopback address/,
  );
  assert.match(refused?.fix ?? '', /agent: \{allowed_hosts: \["evil\.example"\]\}/);
});

test('on a reachable address, any Host is answered until agent.allowed_hosts is set; then its names, loopback and the address itself', () => {
  const lan = { listen: '0.0.0.0', local: '10.0.0.5' };
  assert.equal(hostRefusal('anything.example', lan, undefined), undefined);
  assert.equal(hostRefusal('anything.example', lan, ['dvm.example.com'])?.code, 'DVM_HOST_NOT_ALLOWED');
  for (const host of ['dvm.example.com', '10.0.0.5:8700', 'localhost'])
    assert.equal(hostRefusal(host, lan, ['dvm.example.com']), undefined, host);
  assert.equal(hostRefusal('[::1]', { listen: '::', local: '::1' }, []), undefined);
  // A dual-stack socket gives an IPv4 client's local address as ::ffff:a.b.c.d: still the address itself.
  const dual = { listen: '::', local: '::ffff:10.0.0.5' };
  assert.equal(hostRefusal('10.0.0.5:8700', dual, ['dvm.example.com']), undefined);
  assert.equal(hostRefusal('10.0.0.6:8700', dual, ['dvm.example.com'])?.code, 'DVM_HOST_NOT_ALLOWED');
});

test('on any listen address, a request that arrived over loopback is held to loopback names: DNS rebinding reaches 0.0.0.0 that way', () => {
  for (const local of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
    const server = { listen: local.includes(':') ? '::' : '0.0.0.0', local };
    assert.equal(hostRefusal('evil.example', server, undefined)?.code, 'DVM_HOST_NOT_ALLOWED', local);
    assert.equal(hostRefusal('localhost:8700', server, undefined), undefined, local);
    assert.equal(hostRefusal('dvm.example.com', server, ['dvm.example.com']), undefined, local);
  }
});

test('agent.allowed_hosts takes host names and addresses, normalized; a port, scheme, path or wildcard is refused at its path', () => {
  assert.deepEqual(
    allowedHostsSetting(
      ['DVM.example.com', '.Internal.example.com', '::1', '[::2]', '10.0.0.5', 'bücher.de'],
      'c.yaml',
    ),
    ['dvm.example.com', '.internal.example.com', '[::1]', '[::2]', '10.0.0.5', 'xn--bcher-kva.de'],
  );
  for (const [value, path] of [
    ['dvm.example.com', 'agent.allowed_hosts'],
    [['ok.example', 'dvm.example.com:8700'], 'agent.allowed_hosts[1]'],
    [['https://dvm.example.com'], 'agent.allowed_hosts[0]'],
    [['*'], 'agent.allowed_hosts[0]'],
    [['*.example.com'], 'agent.allowed_hosts[0]'],
    [['dvm.example.com/api'], 'agent.allowed_hosts[0]'],
    [[''], 'agent.allowed_hosts[0]'],
    [[8700], 'agent.allowed_hosts[0]'],
  ] as const)
    assert.throws(
      () => allowedHostsSetting(value, 'c.yaml'),
      (error: { code: string; location: { file: string; path: string } }) =>
        error.code === 'DVM_SCHEMA_INVALID' &&
        error.location.path === path &&
        error.location.file === 'c.yaml',
      JSON.stringify(value),
    );
});
