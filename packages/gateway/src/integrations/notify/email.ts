/**
 * The e-mail channel: SMTP through nodemailer, with implicit TLS (`secure`, port 465) or a
 * required STARTTLS upgrade (`starttls`, port 587), an optional private CA and password
 * login. The library sits behind `MailTransport`, so another mailer can be plugged in.
 *
 * SMTP answers the other way round from HTTP: 4xx is "try again later", 5xx is final.
 * Connection problems are retried; a refused login, a refused address, a certificate that
 * does not verify or a server without STARTTLS are permanent (retrying cannot fix them).
 */
import { readFileSync } from 'node:fs';
import { createTransport } from 'nodemailer';
import { DeliveryError } from './http.js';
import type { EmailConfig } from './schema.js';
import { clip, type Sender } from './senders.js';
import type { Message } from './types.js';

export interface Mail {
  from: string;
  to: string[];
  subject: string;
  text: string;
}

/** What the e-mail channel needs from a mailer library. */
export interface MailTransport {
  sendMail(mail: Mail): Promise<unknown>;
  close(): void;
}

export type MailTransportFactory = (cfg: EmailConfig) => MailTransport;

/** The default mailer: one nodemailer SMTP transport per channel. */
export const nodemailerTransport: MailTransportFactory = (cfg) => {
  let ca: string | undefined;
  if (cfg.ca) {
    try {
      ca = readFileSync(cfg.ca, 'utf8');
    } catch (e) {
      throw new DeliveryError(`cannot read the CA file ${cfg.ca}: ${(e as Error).message}`, true);
    }
  }
  const ms = cfg.timeout_s * 1000;
  const t = createTransport({
    host: cfg.host,
    port: cfg.port ?? (cfg.secure ? 465 : 587),
    secure: cfg.secure,
    requireTLS: !cfg.secure && cfg.starttls,
    ...(cfg.username !== undefined && cfg.password !== undefined
      ? { auth: { user: cfg.username, pass: cfg.password } }
      : {}),
    tls: { rejectUnauthorized: !cfg.insecure, ...(ca ? { ca } : {}) },
    connectionTimeout: ms,
    greetingTimeout: ms,
    socketTimeout: ms,
  });
  return {
    sendMail: (mail) => t.sendMail(mail),
    close: () => t.close(),
  };
};

interface SmtpError {
  code?: string;
  responseCode?: number;
  response?: string;
  message?: string;
}

/** Turns a mailer error into a DeliveryError: permanent or worth a retry, with the reason. */
export function classifySmtpError(e: unknown): DeliveryError {
  if (e instanceof DeliveryError) return e;
  const err = (e ?? {}) as SmtpError;
  const text = clip(String(err.response ?? err.message ?? e).replace(/\s+/g, ' '), 200);
  const code = err.code ?? '';
  if (code === 'EAUTH' || code === 'ENOAUTH') {
    return new DeliveryError(`SMTP login refused: ${text}`, true);
  }
  if (/certificate|self[- ]signed|CERT_|unable to verify/i.test(text)) {
    return new DeliveryError(
      `TLS: the server's certificate does not verify (${text}); set ca: to its CA file, or insecure: true on a trusted network`,
      true,
    );
  }
  if (code === 'ETLS' || code === 'EREQUIRETLS' || /STARTTLS/i.test(text)) {
    return new DeliveryError(
      `TLS: STARTTLS failed (${text}); the server must offer STARTTLS, or use secure: true on its TLS port`,
      true,
    );
  }
  const rc = err.responseCode;
  if (typeof rc === 'number' && rc >= 400 && rc < 600) {
    const permanent = rc >= 500 && rc !== 503;
    return new DeliveryError(`SMTP ${rc}: ${text}`, permanent);
  }
  if (code === 'EENVELOPE') return new DeliveryError(`SMTP envelope refused: ${text}`, true);
  // Connection refused, timeout, DNS, socket closed: worth another try.
  return new DeliveryError(`SMTP ${code || 'error'}: ${text}`, false);
}

export function emailSender(
  cfg: EmailConfig,
  factory: MailTransportFactory = nodemailerTransport,
): Sender {
  let transport: MailTransport | undefined;
  return {
    async send(msg: Message) {
      try {
        transport ??= factory(cfg);
        await transport.sendMail({
          from: cfg.from,
          to: cfg.to,
          subject: clip(msg.title.replace(/[\r\n]+/g, ' '), 200),
          text: `${msg.body}\n\n-- \nOpenBMS (${msg.event})\n`,
        });
      } catch (e) {
        throw classifySmtpError(e);
      }
    },
    close() {
      transport?.close();
      transport = undefined;
    },
  };
}
