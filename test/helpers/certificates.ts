import { spawnSync } from 'node:child_process';

/**
 * Writes a new EC key and a self-signed certificate for 127.0.0.1 and localhost with this common name, made with
 * openssl as an operator would; false when openssl cannot (an error in CI, where it must be installed).
 */
export function makeCertificate(certPath: string, keyPath: string, commonName: string): boolean {
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '2',
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { encoding: 'utf8' },
  );
  if (made.error || made.status !== 0) {
    if (process.env.CI === 'true') throw new Error(`openssl could not make a certificate: ${made.stderr}`);
    return false;
  }
  return true;
}
