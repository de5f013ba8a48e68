// E-mail notifications (quarantine began, its reason changed). Idempotent by notificationId: the
// store remembers what was sent, so a re-run activity does not mail twice.
import nodemailer from 'nodemailer';
import type { Store } from '../store/index.ts';
import type { Mailer } from './deps.ts';
import type { NotifyInput } from './types.ts';

const NAMESPACE = 'notifications';

export interface SmtpSettings {
  /** `smtp://user:pass@host:port`; wins over host/port. */
  url?: string;
  host?: string;
  port?: number;
  from: string;
  /** TLS from the first byte (port 465); otherwise STARTTLS as `startTls` says. */
  secure?: boolean;
  /** `auto` (default): upgrade with STARTTLS when the server offers it, verifying its certificate;
   *  `required`: never send without TLS; `off`: plain text (a local relay that offers a broken STARTTLS). */
  startTls?: 'auto' | 'required' | 'off';
  user?: string;
  password?: string;
  /** PEM CA certificates the server's certificate is verified against (a private relay's CA). */
  ca?: string;
}

/** A nodemailer SMTP mailer. */
export function createSmtpMailer(settings: SmtpSettings): Mailer & { close(): void } {
  const startTls = settings.startTls ?? 'auto';
  const transport = settings.url
    ? nodemailer.createTransport(settings.url)
    : nodemailer.createTransport({
        host: settings.host,
        port: settings.port ?? 25,
        secure: settings.secure ?? false,
        requireTLS: startTls === 'required',
        ignoreTLS: startTls === 'off',
        ...(settings.user ? { auth: { user: settings.user, pass: settings.password ?? '' } } : {}),
        ...(settings.ca ? { tls: { ca: settings.ca } } : {}),
      });
  return {
    async send(message) {
      await transport.sendMail({
        from: settings.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        messageId: message.messageId,
      });
    },
    close: () => transport.close(),
  };
}

export async function notify(store: Store, mailer: Mailer | null | undefined, input: NotifyInput): Promise<void> {
  if (!mailer) throw new Error('No SMTP server is configured (SMTP_URL or SMTP_HOST): the notification cannot be sent');
  if (await store.keyValues.get(NAMESPACE, input.notificationId)) return;
  const domain = 'ferry.local';
  await mailer.send({
    to: input.to,
    subject: input.subject,
    text: input.text,
    messageId: `<${input.notificationId.replace(/[^A-Za-z0-9._-]/g, '.')}@${domain}>`,
  });
  await store.keyValues.set(NAMESPACE, input.notificationId, {
    appId: input.appId,
    to: input.to,
    sentAt: new Date().toISOString(),
  });
}
