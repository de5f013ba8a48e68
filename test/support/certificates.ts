// A self-signed certificate for 127.0.0.1, made with Debian's openssl: valid in every respect but
// trust, so a test decides whether the client trusts it (give it `cert` as a CA) or not.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LoopbackCertificate {
  /** PEM private key. */
  key: string;
  /** PEM certificate; also the CA that trusts it. */
  cert: string;
}

export function selfSignedLoopbackCertificate(): LoopbackCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface LoopbackPki {
  /** PEM certificate of a throw-away CA that signed both leaves. */
  ca: string;
  /** Server leaf for 127.0.0.1 (serverAuth). */
  server: LoopbackCertificate;
  /** Client leaf (clientAuth), for mTLS. */
  client: LoopbackCertificate;
}

/**
 * A CA and two leaves it signed, made with openssl: a server certificate for 127.0.0.1 and a client
 * certificate. Unlike the self-signed certificate above, these pass strict verifiers (rustls, in the
 * Temporal worker's core) that refuse a CA certificate used as a server's own.
 */
export function loopbackPki(): LoopbackPki {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-pki-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  try {
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=Ferry test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-keyout',
      file('ca.key'),
      '-out',
      file('ca.pem'),
    );
    const leaf = (name: string, subject: string, extensions: string): LoopbackCertificate => {
      openssl(
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        subject,
        '-keyout',
        file(`${name}.key`),
        '-out',
        file(`${name}.csr`),
      );
      execFileSync('sh', ['-c', `printf '%s\\n' "$1" > "$2"`, 'sh', extensions, file(`${name}.ext`)]);
      openssl(
        'x509',
        '-req',
        '-in',
        file(`${name}.csr`),
        '-CA',
        file('ca.pem'),
        '-CAkey',
        file('ca.key'),
        '-CAcreateserial',
        '-days',
        '1',
        '-extfile',
        file(`${name}.ext`),
        '-out',
        file(`${name}.pem`),
      );
      return { key: readFileSync(file(`${name}.key`), 'utf8'), cert: readFileSync(file(`${name}.pem`), 'utf8') };
    };
    const server = leaf(
      'server',
      '/CN=127.0.0.1',
      'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:temporal.test',
    );
    const client = leaf(
      'client',
      '/CN=ferry-worker',
      'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth',
    );
    return { ca: readFileSync(file('ca.pem'), 'utf8'), server, client };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
