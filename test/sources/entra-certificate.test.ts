// Entra certificate credentials through the API against the Graph fake, which verifies the client
// assertion with the certificate registered on the app (signature, x5t, aud, iss/sub, exp).
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGraphFake, type GraphFake } from '../../dev/graph-fake/index.ts';
import { ConfigurationError } from '../../engine/errors.ts';
import { clientAssertion } from '../../sources/client-assertion.ts';
import { directoryId } from '../../sources/import.ts';
import { selfSignedLoopbackCertificate, type LoopbackCertificate } from '../support/certificates.ts';
import { sourcesApp } from './helpers.ts';

let graph: GraphFake;
let api: Awaited<ReturnType<typeof sourcesApp>>;
let registered: LoopbackCertificate;
let other: LoopbackCertificate;
let ada = '';

beforeAll(async () => {
  registered = selfSignedLoopbackCertificate();
  other = selfSignedLoopbackCertificate();
  graph = await startGraphFake({ certificate: registered.cert });
  ada = graph.addUser({ userPrincipalName: 'ada@contoso.example', displayName: 'Ada' });
  api = await sourcesApp();
});

afterAll(async () => {
  await api?.close();
  await graph?.close();
});

const source = (credential: Record<string, unknown>) => ({
  type: 'entra',
  name: 'Contoso (certificate)',
  tenantId: graph.tenantId,
  clientId: graph.clientId,
  authority: graph.authority,
  graphUrl: graph.graphUrl,
  ...credential,
});

const pemBody = (pem: string) => pem.replace(/-----[^-]+-----|\s/g, '').slice(0, 60);

describe('Entra source with certificate credentials', () => {
  it('imports with the private key and certificate; the key is never answered', async () => {
    const created = await api.call(
      'POST',
      '/api/v1/sources',
      source({ privateKey: registered.key, certificate: registered.cert }),
    );
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ hasPrivateKey: true, hasClientSecret: false });
    const id = created.body!.id as string;
    expect(await api.sync(id)).toMatchObject({ status: 'succeeded', created: 1, error: null });
    expect((await api.store.directory.getUser(directoryId(id, ada)))?.userPrincipalName).toBe('ada@contoso.example');
    expect(graph.stats().byRoute['POST /token 200']).toBeGreaterThan(0);

    const answers = [await api.call('GET', `/api/v1/sources/${id}`), await api.call('GET', '/api/v1/sources')];
    for (const answer of answers) expect(answer.text).not.toContain(pemBody(registered.key));
    expect(api.lines.join('\n')).not.toContain(pemBody(registered.key));
    expect(JSON.stringify(await api.store.audit.query({ limit: 100 }))).not.toContain(pemBody(registered.key));
  });

  it('imports with the private key and only the certificate’s SHA-1 thumbprint (as the portal shows it)', async () => {
    const thumbprint = new X509Certificate(registered.cert).fingerprint; // AA:BB:… (SHA-1)
    const created = await api.call(
      'POST',
      '/api/v1/sources',
      source({ privateKey: registered.key, certificateThumbprint: thumbprint }),
    );
    expect(created.status, created.text).toBe(201);
    // Ada belongs to the first source: this one's import skips her (a userPrincipalName has one owner) but authenticates.
    expect((await api.sync(created.body!.id as string)).status).toBe('succeeded');
  });

  it('a key whose certificate is not registered on the app fails the run with a clear source error', async () => {
    const created = await api.call(
      'POST',
      '/api/v1/sources',
      source({ privateKey: other.key, certificate: other.cert }),
    );
    expect(created.status, created.text).toBe(201);
    const run = await api.sync(created.body!.id as string);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/token endpoint refused client .* \(invalid_client, AADSTS700027\): check .*privateKey/);
    expect(JSON.stringify(run)).not.toContain(pemBody(other.key));
    const failure = api.failures.at(-1);
    expect(failure).toBeInstanceOf(ConfigurationError);
    expect((failure as ConfigurationError).code).toBe('Unauthorized');
  });

  it('the fake refuses assertions signed by another key, for another audience, or expired', async () => {
    const tokenUrl = `${graph.authority}/${graph.tenantId}/oauth2/v2.0/token`;
    const ask = async (assertion: string) => {
      const response = await fetch(tokenUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          client_id: graph.clientId,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
          grant_type: 'client_credentials',
          scope: `${graph.graphUrl}/.default`,
        }),
      });
      return { status: response.status, body: (await response.json()) as { error_description?: string } };
    };
    const good = { clientId: graph.clientId, tokenUrl, certificate: registered.cert, privateKey: registered.key };
    expect((await ask(clientAssertion(good))).status).toBe(200);
    // Another key, though the header names the registered certificate: the signature does not verify.
    const forged = await ask(clientAssertion({ ...good, privateKey: other.key }));
    expect(forged).toMatchObject({ status: 401, body: { error_description: expect.stringMatching(/^AADSTS700027/) } });
    expect((await ask(clientAssertion({ ...good, tokenUrl: `${tokenUrl}x` }))).status).toBe(401);
    expect((await ask(clientAssertion({ ...good, clientId: '00000000-0000-4000-8000-000000000000' }))).status).toBe(
      401,
    );
    const expired = await ask(clientAssertion({ ...good, now: Math.floor(Date.now() / 1000) - 3600 }));
    expect(expired.body.error_description).toMatch(/^AADSTS700024/);
  });

  it('refuses a credential that cannot work, naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ privateKey: 'not a key', certificate: registered.cert }, 'privateKey'],
      [{ privateKey: other.key, certificate: registered.cert }, 'certificate'],
      [{ privateKey: registered.key }, 'certificate'],
      [{ privateKey: registered.key, certificateThumbprint: 'abc123'.repeat(7) }, 'certificateThumbprint'],
      [{ privateKey: registered.key, certificate: registered.cert, clientSecret: 's' }, 'clientSecret'],
      [{}, 'clientSecret'],
    ];
    for (const [credential, field] of cases) {
      const answer = await api.call('POST', '/api/v1/sources', source(credential));
      expect(answer.status, JSON.stringify(credential)).toBe(400);
      expect(answer.body!.error.details?.[0]?.path).toBe(field);
    }
  });

  it('a PATCH to a client secret forgets the certificate; back to a certificate needs the key', async () => {
    const created = await api.call(
      'POST',
      '/api/v1/sources',
      source({ privateKey: registered.key, certificate: registered.cert }),
    );
    const id = created.body!.id as string;
    const toSecret = await api.call('PATCH', `/api/v1/sources/${id}`, { clientSecret: graph.clientSecret });
    expect(toSecret.body).toMatchObject({ hasClientSecret: true });
    expect(toSecret.body!.config.certificate).toBeUndefined();
    const withoutKey = await api.call('PATCH', `/api/v1/sources/${id}`, { certificate: registered.cert });
    expect(withoutKey.status).toBe(400);
    expect(withoutKey.body!.error.details[0].path).toBe('privateKey');
  });
});
