/** A real SMTP server (smtp-server) for tests of mailed codes: `next(to)` waits for a mail. */
import { SMTPServer } from 'smtp-server';

export interface Mail {
  to: string;
  raw: string;
}

/** A real SMTP server on a free port; `next(to)` resolves with the next mail to that address. */
export async function smtpServer() {
  const mails: Mail[] = [];
  const waiting: { to: string; resolve: (m: Mail) => void }[] = [];
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        for (const r of session.envelope.rcptTo) {
          const mail = { to: r.address, raw };
          const i = waiting.findIndex((w) => w.to === r.address);
          if (i >= 0) waiting.splice(i, 1)[0]!.resolve(mail);
          else mails.push(mail);
        }
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    next(to: string): Promise<Mail> {
      const i = mails.findIndex((m) => m.to === to);
      if (i >= 0) return Promise.resolve(mails.splice(i, 1)[0]!);
      return new Promise((resolve) => waiting.push({ to, resolve }));
    },
    /** How many mails to this address were received and not yet taken by `next`. */
    pending: (to: string): number => mails.filter((m) => m.to === to).length,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export const codeIn = (m: Mail): string => {
  const found = /code is (\d{6})/.exec(m.raw);
  if (!found) throw new Error(`no code in the mail: ${m.raw}`);
  return found[1]!;
};
