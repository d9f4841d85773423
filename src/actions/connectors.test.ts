import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { connectorChecks, dockerHealth, jvmHealth, kubernetesHealth } from './connectors.ts';

// GET /v1/health answers its details to any token (a viewer's too), so no detail may carry a URL's user or password.
for (const host of ['tcp://admin:s3cret@127.0.0.1:1', 'http://admin:s3cret@127.0.0.1:1']) {
  test(`the Docker check names ${host.split(':')[0]} DOCKER_HOST without its credentials`, async () => {
    const health = await dockerHealth({ DOCKER_HOST: host })();
    assert.equal(health.status, 'unavailable');
    assert.doesNotMatch(health.detail, /s3cret|admin/);
    assert.match(health.detail, /127\.0\.0\.1:1/);
  });
}

test('a DOCKER_HOST that is no URL is an error of the Docker check, not of everything that builds the checks', async () => {
  const checks = connectorChecks({ DOCKER_HOST: 'tcp://[bad' });
  const health = await checks.docker();
  assert.equal(health.status, 'error');
  assert.match(health.detail, /DOCKER_HOST/);
});

test('the Kubernetes check names a server URL without its credentials', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dvm-kube-'));
  const file = join(dir, 'config');
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: c, cluster: {server: "https://admin:s3cret@127.0.0.1:1"}}]',
      'contexts: [{name: x, context: {cluster: c, user: u}}]',
      'current-context: x',
      'users: [{name: u, user: {token: t0ken}}]',
      '',
    ].join('\n'),
  );
  const health = await kubernetesHealth({ KUBECONFIG: file })();
  assert.notEqual(health.status, 'ok');
  assert.doesNotMatch(health.detail, /s3cret|admin|t0ken/);
});

test('a jcmd that cannot be started is not reported as available', async () => {
  const javaHome = mkdtempSync(join(tmpdir(), 'dvm-jdk-'));
  mkdirSync(join(javaHome, 'bin'));
  writeFileSync(join(javaHome, 'bin', 'jcmd'), '#!/bin/sh\nexit 0\n', { mode: 0o644 });
  const health = await jvmHealth({ JAVA_HOME: javaHome, PATH: '/nonexistent' })();
  assert.notEqual(health.status, 'ok');
  assert.match(health.detail, /jcmd/);
});
