/**
 * The mailer of sign-up and reset codes: config `accounts.email` (the shape of the e-mail
 * notification channel's SMTP settings) through the channel's own nodemailer transport, so
 * TLS, STARTTLS, CA and login behave exactly as they do for notifications.
 */
import type { AccountsEmailConfig } from '@openbms/contract';
import { nodemailerTransport, type EmailConfig } from '@openbms/gateway';
import type { OutgoingMail } from './routes/signup.js';

export interface AccountMailer {
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

export function accountMailer(cfg: AccountsEmailConfig): AccountMailer {
  // The transport reads only the SMTP fields; the channel's other fields (recipients,
  // events...) mean nothing here.
  const t = nodemailerTransport({
    ...cfg,
    type: 'email',
    to: [cfg.from],
  } as unknown as EmailConfig);
  return {
    send: async (m) => {
      await t.sendMail({ from: cfg.from, to: [m.to], subject: m.subject, text: m.text });
    },
    close: () => t.close(),
  };
}
