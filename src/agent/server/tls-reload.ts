import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { SecureContextOptions } from 'node:tls';

/** The certificate (chain) and private key of an HTTPS API, as PEM, and the files they come from. */
export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
  certPath: string;
  keyPath: string;
}

/** TLS settings of the agent API: its certificate and key, TLS 1.2 or later. */
export function secureContextOf(tls: { cert: Buffer; key: Buffer }): SecureContextOptions {
  return { cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' };
}

/** One line about a certificate: its subject and when it expires. */
export function describeCertificate(cert: Buffer): string {
  const x509 = new X509Certificate(cert);
  return `${x509.subject.replaceAll('\n', ', ')}, valid until ${x509.validTo}`;
}

// Sizes and modification times of both files: changes when either is rewritten or replaced.
function signature(tls: Pick<TlsFiles, 'certPath' | 'keyPath'>): string {
  return [tls.certPath, tls.keyPath]
    .map((path) => {
      try {
        const stat = statSync(path);
        return `${stat.size}:${stat.mtimeMs}:${stat.ino}`;
      } catch (error) {
        return `unreadable:${(error as NodeJS.ErrnoException).code}`;
      }
    })
    .join('|');
}

/**
 * A check to call periodically: when the certificate or key file changed, reads both and gives them to `server`
 * for new connections (open ones keep theirs). A pair that cannot be used (half written, mismatched, unreadable)
 * is logged and the previous one stays in force, as with policies; the next change is tried again.
 */
export function certificateReloader(
  server: { setSecureContext(options: SecureContextOptions): void },
  tls: TlsFiles,
  log: (line: string) => void,
): () => void {
  let seen = signature(tls);
  return () => {
    const now = signature(tls);
    if (now === seen) return;
    seen = now;
    try {
      const next = { cert: readFileSync(tls.certPath), key: readFileSync(tls.keyPath) };
      server.setSecureContext(secureContextOf(next));
      log(`TLS certificate reloaded from ${tls.certPath}: ${describeCertificate(next.cert)}`);
    } catch (error) {
      log(
        `error DVM_USAGE ${tls.certPath}: the new TLS certificate and key cannot be used (${(error as Error).message}); the previous ones stay in force`,
      );
    }
  };
}
