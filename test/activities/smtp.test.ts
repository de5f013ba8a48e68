// Quarantine e-mail carries the app's name and the reason, to a relay that is often on another host:
// in host/port mode it must go over TLS whenever the relay offers it, and never silently in plain
// text when the operator says TLS is required.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpMailer, type SmtpSettings } from '../../activities/index.ts';
import { mailerFromEnv } from '../../workers/worker.ts';
import { loadEnv } from '../../workers/env.ts';
import { selfSignedLoopbackCertificate } from '../support/certificates.ts';

interface Received {
  secure: boolean;
  user: string | null;
}

async function startRelay(options: SMTPServerOptions) {
  const received: Received[] = [];
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    onAuth(auth, _session, callback) {
      if (auth.username === 'ferry' && auth.password === 'relay-password') callback(null, { user: auth.username });
      else callback(new Error('bad credentials'));
    },
    onData(stream, session, callback) {
      stream.resume();
      stream.on('end', () => {
        received.push({ secure: session.secure, user: typeof session.user === 'string' ? session.user : null });
        callback();
      });
    },
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const message = { to: 'admin@contoso.example', subject: 'Ferry: app quarantined', text: 'Unauthorized' };

async function send(settings: SmtpSettings): Promise<void> {
  const mailer = createSmtpMailer(settings);
  try {
    await mailer.send({ ...message, messageId: `<${Math.random().toString(36).slice(2)}@ferry.test>` });
  } finally {
    mailer.close();
  }
}

describe('notification e-mail over SMTP host/port', () => {
  let dir: string;
  let key: string;
  let cert: string;
  let caFile: string;

  beforeAll(() => {
    // A relay with its own certificate for 127.0.0.1; Ferry trusts it through SMTP_TLS_CA.
    ({ key, cert } = selfSignedLoopbackCertificate());
    dir = mkdtempSync(path.join(tmpdir(), 'ferry-smtp-'));
    caFile = path.join(dir, 'ca.pem');
    writeFileSync(caFile, cert);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('upgrades with STARTTLS when the relay offers it (the default)', async () => {
    const relay = await startRelay({ key, cert });
    try {
      await send({ host: '127.0.0.1', port: relay.port, from: 'ferry@localhost', ca: cert });
      expect(relay.received).toEqual([{ secure: true, user: null }]);
    } finally {
      await relay.close();
    }
  });

  it('does not send in plain text when the relay offers STARTTLS with a certificate it cannot verify', async () => {
    const relay = await startRelay({ key, cert });
    try {
      await expect(send({ host: '127.0.0.1', port: relay.port, from: 'ferry@localhost' })).rejects.toThrow();
      expect(relay.received).toEqual([]);
    } finally {
      await relay.close();
    }
  });

  it('with STARTTLS required, refuses a relay that does not offer it', async () => {
    const relay = await startRelay({ disabledCommands: ['STARTTLS'] });
    try {
      await expect(
        send({ host: '127.0.0.1', port: relay.port, from: 'ferry@localhost', startTls: 'required' }),
      ).rejects.toThrow();
      expect(relay.received).toEqual([]);
    } finally {
      await relay.close();
    }
  });

  it('SMTP_SECURE=1 speaks TLS from the first byte, and authenticates with SMTP_USER/SMTP_PASSWORD', async () => {
    const relay = await startRelay({ key, cert, secure: true });
    try {
      const env = loadEnv({
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(relay.port),
        SMTP_SECURE: '1',
        SMTP_USER: 'ferry',
        SMTP_PASSWORD: 'relay-password',
        SMTP_TLS_CA: caFile,
      });
      const mailer = mailerFromEnv(env);
      if (!mailer) throw new Error('no mailer');
      try {
        await mailer.send({ ...message, messageId: '<secure@ferry.test>' });
      } finally {
        mailer.close();
      }
      expect(relay.received).toEqual([{ secure: true, user: 'ferry' }]);
    } finally {
      await relay.close();
    }
  });

  it('names SMTP_TLS_CA when its file cannot be read', () => {
    const env = loadEnv({ SMTP_HOST: '127.0.0.1', SMTP_TLS_CA: path.join(dir, 'missing.pem') });
    expect(() => mailerFromEnv(env)).toThrow(/SMTP_TLS_CA: cannot read .*missing\.pem \(ENOENT\)/);
  });
});
