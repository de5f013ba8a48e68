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
  /** Require TLS (default: only when the URL says smtps). */
  secure?: boolean;
}

/** A nodemailer SMTP mailer. */
export function createSmtpMailer(settings: SmtpSettings): Mailer & { close(): void } {
  const transport = settings.url
    ? nodemailer.createTransport(settings.url)
    : nodemailer.createTransport({
        host: settings.host,
        port: settings.port ?? 25,
        secure: settings.secure ?? false,
        // Local relays (and the test server) often offer STARTTLS with a self-signed certificate.
        ignoreTLS: settings.secure === undefined,
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
