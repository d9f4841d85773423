import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmodSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { connect as connectTls } from 'node:tls';
import { createToken, startServe } from '../helpers/agent-server.ts';
import { makeCertificate } from '../helpers/certificates.ts';
import { dvm, dvmAsync, tempDir, tempHome } from '../helpers/dvm.ts';
import { waitFor } from '../helpers/wait.ts';

// Self-signed certificates for 127.0.0.1 and localhost, made with openssl as an operator would.
const dir = tempDir('dvm-tls-');
const cert = join(dir, 'cert.pem');
const key = join(dir, 'key.pem');
let opensslMissing = false;

before(() => {
  opensslMissing = !makeCertificate(cert, key, 'dvm-test');
});

// The SHA-256 fingerprint of the certificate a new TLS connection to the server gets.
function servedFingerprint(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connectTls({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    }).on('error', reject);
  });
}

test('dvm serve refuses plain HTTP on an address other machines can reach, and half or unreadable TLS settings', (t) => {
  if (opensslMissing) return t.skip('openssl is not installed');
  const home = tempHome();
  // Each refusal is immediate; a serve that started instead is killed after 10 s (and fails the test).
  const limit = { timeoutMs: 10_000 };
  const open = dvm(home, ['serve', '--listen', '0.0.0.0:0'], limit);
  assert.equal(open.status, 2, open.stderr);
  assert.match(open.stderr, /DVM_USAGE: --listen 0\.0\.0\.0 can be reached from other machines.*clear text/);
  assert.match(open.stderr, /--tls-cert FILE --tls-key FILE.*--insecure-http/);
  const half = dvm(home, ['serve', '--listen', '127.0.0.1:0', '--tls-cert', cert], limit);
  assert.equal(half.status, 2, half.stderr);
  assert.match(half.stderr, /HTTPS needs both --tls-cert and --tls-key/);
  const missing = dvm(home, ['serve', '--tls-cert', cert, '--tls-key', join(dir, 'nope.pem')], limit);
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /DVM_FILE_NOT_FOUND \S+nope\.pem: --tls-key cannot be read \(ENOENT\)/);
  const apiOff = dvm(home, ['serve', '--no-api', '--tls-cert', cert, '--tls-key', key], limit);
  assert.equal(apiOff.status, 2, apiOff.stderr);
  assert.match(apiOff.stderr, /DVM_USAGE: --tls-cert sets up the agent API, which --no-api turns off/);
  const garbage = join(dir, 'garbage.pem');
  writeFileSync(garbage, 'not a key\n');
  const bad = dvm(
    home,
    ['serve', '--listen', '127.0.0.1:0', '--tls-cert', cert, '--tls-key', garbage],
    limit,
  );
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /DVM_USAGE: --tls-cert and --tls-key cannot be used/);
});

test('dvm serve --tls-cert/--tls-key serves HTTPS; the CLI trusts it through NODE_EXTRA_CA_CERTS and says so when it does not', async (t) => {
  if (opensslMissing) return t.skip('openssl is not installed');
  const home = tempHome();
  const token = createToken(home, 'ops', 'operator');
  const serve = await startServe(home, {}, ['--listen', '127.0.0.1:0', '--tls-cert', cert, '--tls-key', key]);
  try {
    assert.match(serve.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    await waitFor('serve has started', () => /serve started/.test(serve.output()));
    assert.doesNotMatch(serve.output(), /private key/, 'a key only its owner reads gets no warning');
    const client = { DVM_SERVER: serve.url, DVM_TOKEN: token };
    const trusted = await dvmAsync(home, ['action', 'run', 'system.info', '--env', 'dev', '-o', 'json'], {
      env: { ...client, NODE_EXTRA_CA_CERTS: cert },
    });
    assert.equal(trusted.status, 0, trusted.stderr);
    assert.equal(JSON.parse(trusted.stdout).status, 'succeeded');
    const untrusted = await dvmAsync(home, ['action', 'run', 'system.info', '--env', 'dev'], { env: client });
    assert.equal(untrusted.status, 1);
    assert.match(untrusted.stderr, /DVM_CONNECTOR_UNAVAILABLE: .*self-signed certificate/);
    assert.match(untrusted.stderr, /NODE_EXTRA_CA_CERTS/);
    // Health over TLS with the certificate as the only CA; TLS 1.1 is refused.
    const health = await new Promise<number | undefined>((resolve, reject) =>
      get(`${serve.url}/v1/health`, { ca: [readFileSync(cert, 'utf8')] }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject),
    );
    assert.ok(health === 200 || health === 503, `health answered ${health}`);
    const old = await new Promise<string>((resolve) =>
      get(`${serve.url}/v1/health`, { ca: [readFileSync(cert, 'utf8')], maxVersion: 'TLSv1.1' }, () =>
        resolve('answered'),
      ).on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message)),
    );
    assert.notEqual(old, 'answered', 'TLS 1.1 is refused');
  } finally {
    await serve.stop();
  }
});

test('dvm serve --insecure-http on a reachable address starts, with a warning that tokens travel in clear text', async (t) => {
  if (opensslMissing) return t.skip('openssl is not installed');
  const home = tempHome();
  const serve = await startServe(home, {}, ['--listen', '0.0.0.0:0', '--insecure-http']);
  try {
    assert.match(serve.url, /^http:\/\/0\.0\.0\.0:\d+$/);
    await waitFor('serve has started', () => /serve started/.test(serve.output()));
    assert.match(
      serve.output(),
      /warning: the agent API on http:\/\/0\.0\.0\.0:\d+ is plain HTTP \(--insecure-http\): bearer tokens travel in clear text/,
    );
    // Reachable and unbound: the caller's target.env label decides which gates apply, and serve says so.
    assert.match(
      serve.output(),
      /warning: the agent API on \S+ is not bound to environments: .*agent: \{environments: \[prod\]\}/,
    );
  } finally {
    await serve.stop();
  }
  writeFileSync(join(home, 'config.yaml'), 'agent:\n  environments: [prod]\n');
  const bound = await startServe(home, {}, ['--listen', '0.0.0.0:0', '--insecure-http']);
  try {
    await waitFor('serve has started', () => /serve started/.test(bound.output()));
    assert.doesNotMatch(bound.output(), /not bound to environments/);
  } finally {
    await bound.stop();
  }
});

test('dvm serve takes a renewed certificate without a restart, and keeps the previous one when the new files cannot be used', async (t) => {
  if (opensslMissing) return t.skip('openssl is not installed');
  const live = tempDir('dvm-tls-live-');
  const liveCert = join(live, 'cert.pem');
  const liveKey = join(live, 'key.pem');
  copyFileSync(cert, liveCert);
  copyFileSync(key, liveKey);
  chmodSync(liveKey, 0o644);
  const renewedCert = join(dir, 'renewed.pem');
  const renewedKey = join(dir, 'renewed-key.pem');
  assert.ok(makeCertificate(renewedCert, renewedKey, 'dvm-renewed'));
  const fingerprintOf = (path: string) => new X509Certificate(readFileSync(path)).fingerprint256;
  const serve = await startServe(tempHome(), {}, [
    '--listen',
    '127.0.0.1:0',
    '--tls-cert',
    liveCert,
    '--tls-key',
    liveKey,
  ]);
  try {
    assert.match(serve.output(), /TLS certificate from \S+cert\.pem: CN=dvm-test, valid until /);
    await waitFor('serve has started', () => /serve started/.test(serve.output()));
    assert.match(
      serve.output(),
      /warning: the private key \S+key\.pem can be read by other users \(mode 0644\): chmod 600 it/,
    );
    assert.equal(await servedFingerprint(serve.url), fingerprintOf(cert));
    // Renewal as certbot does it: the key, then the certificate, rewritten in place.
    copyFileSync(renewedKey, liveKey);
    copyFileSync(renewedCert, liveCert);
    await waitFor('the renewed certificate is logged', () =>
      /TLS certificate reloaded from \S+cert\.pem: CN=dvm-renewed/.test(serve.output()),
    );
    assert.equal(await servedFingerprint(serve.url), fingerprintOf(renewedCert));
    // A certificate that does not parse is reported and changes nothing (counted: the renewal may have logged a
    // mismatched pair between its two writes).
    const unusable =
      /error DVM_USAGE \S+cert\.pem: the new TLS certificate and key cannot be used .*the previous ones stay in force/g;
    const before = serve.output().match(unusable)?.length ?? 0;
    writeFileSync(liveCert, 'not a certificate\n');
    await waitFor(
      'the unusable certificate is logged',
      () => (serve.output().match(unusable)?.length ?? 0) > before,
    );
    assert.equal(await servedFingerprint(serve.url), fingerprintOf(renewedCert));
  } finally {
    await serve.stop();
  }
});
