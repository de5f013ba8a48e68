// A target whose certificate cannot be trusted is a configuration problem the admin must fix:
// test connection and every request say which TLS check failed, and nothing is sent.
import { createServer, type Server } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../engine/errors.ts';
import { createScimClient, parseNetwork } from '../../scim/index.ts';
import { selfSignedLoopbackCertificate } from '../support/certificates.ts';
import { EMPTY_LIST_RESPONSE } from '../support/scim-stub.ts';

describe('a SCIM target with a self-signed certificate', () => {
  let server: Server;
  let baseUrl: string;
  let handled = 0;

  beforeAll(async () => {
    // A certificate valid for 127.0.0.1 in every respect but trust: only the self-signature fails.
    const { key, cert } = selfSignedLoopbackCertificate();
    server = createServer({ key, cert }, (_request, res) => {
      handled++;
      res.writeHead(200, { 'content-type': 'application/scim+json' });
      res.end(JSON.stringify(EMPTY_LIST_RESPONSE));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `https://127.0.0.1:${(server.address() as { port: number }).port}/scim`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  // 127.0.0.1 is allowed the way an operator allows an internal network (FERRY_ALLOWED_TARGET_NETWORKS).
  const client = () =>
    createScimClient({
      baseUrl,
      auth: { type: 'bearer', token: 'secret-token' },
      outbound: { allowedNetworks: [parseNetwork('127.0.0.1/32')] },
    });

  it('test connection reports "tls" and names the reason; no request reaches the target', async () => {
    const scim = client();
    try {
      const result = await scim.testConnection();
      expect(result).toMatchObject({ ok: false, reason: 'tls' });
      expect(result.ok === false && result.message).toMatch(/self-signed/);
      expect(result.ok === false && result.message).toContain('DEPTH_ZERO_SELF_SIGNED_CERT');
      expect(handled).toBe(0);
    } finally {
      await scim.close();
    }
  });

  it('a request fails with a configuration error TlsError naming the reason, without retries', async () => {
    const scim = client();
    try {
      const error = await scim.list('Users').catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).code).toBe('TlsError');
      expect((error as ConfigurationError).retryable).toBe(false);
      expect((error as Error).message).toMatch(
        /TLS handshake with the SCIM target failed: the certificate is self-signed/,
      );
      expect((error as Error).message).not.toContain('secret-token');
      expect(handled).toBe(0);
    } finally {
      await scim.close();
    }
  });
});
