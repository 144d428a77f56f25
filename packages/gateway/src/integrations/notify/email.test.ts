/**
 * The e-mail channel against a real local SMTP server (smtp-server) with STARTTLS and a
 * self-signed certificate made by openssl at test time: delivery with login, certificate
 * checks (ca / insecure), refused login and addresses as permanent failures, a temporary
 * 451 retried, implicit TLS, and a server without STARTTLS refused.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../types.js';
import { channelSchema, type ChannelConfigInput } from './schema.js';
import { NotificationService } from './service.js';
import { waitFor } from '../../testing/notify.js';
import type { DeliveryEntry, Message } from './types.js';

let dir: string;
let key: string;
let cert: string;
let caPath: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'openbms-smtp-'));
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
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  key = readFileSync(join(dir, 'key.pem'), 'utf8');
  cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  caPath = join(dir, 'cert.pem');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Received {
  from: string;
  to: string[];
  raw: string;
  secure: boolean;
  user: string | undefined;
}

interface Smtp {
  port: number;
  mails: Received[];
  /** Temporary failures (451) to give at MAIL FROM before accepting. */
  tempFailures: number;
  close(): Promise<void>;
}

const servers: Smtp[] = [];
const services: NotificationService[] = [];

afterEach(async () => {
  for (const s of services.splice(0)) await s.stop();
  for (const s of servers.splice(0)) await s.close();
});

async function smtp(opts: Partial<SMTPServerOptions> = {}): Promise<Smtp> {
  const state: Smtp = { port: 0, mails: [], tempFailures: 0, close: async () => undefined };
  const server = new SMTPServer({
    key,
    cert,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === 'bms' && auth.password === 'pa55-word') cb(null, { user: 'bms' });
      else
        cb(
          Object.assign(new Error('5.7.8 Authentication credentials invalid'), {
            responseCode: 535,
          }),
        );
    },
    onMailFrom(_addr, _session, cb) {
      if (state.tempFailures > 0) {
        state.tempFailures--;
        cb(Object.assign(new Error('4.7.1 Greylisted, try again later'), { responseCode: 451 }));
        return;
      }
      cb();
    },
    onRcptTo(addr, _session, cb) {
      if (addr.address.startsWith('nobody@')) {
        cb(Object.assign(new Error('5.1.1 No such user'), { responseCode: 550 }));
        return;
      }
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        state.mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          secure: session.secure,
          user: session.user as string | undefined,
        });
        cb();
      });
    },
    ...opts,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.server.address();
  state.port = typeof addr === 'object' && addr ? addr.port : 0;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  servers.push(state);
  return state;
}

function service(
  c: Omit<ChannelConfigInput, 'id' | 'type'> & Record<string, unknown>,
): NotificationService {
  const svc = new NotificationService({
    config: [channelSchema.parse({ id: 'mail', type: 'email', ...c })],
    events: new EventBus(),
    packs: () => [],
  });
  svc.start();
  services.push(svc);
  return svc;
}

const MSG: Message = {
  event: 'alarm_raised',
  title: 'Rack 1: Cell over-voltage',
  body: 'Alarm: Cell over-voltage\nPack: Rack 1 (home/rack/2)',
  urgency: 'high',
  at: Date.UTC(2026, 0, 15, 9),
  severity: 'protection',
  pack: { id: 'home/rack/2', name: 'Rack 1' },
};

const settled = async (svc: NotificationService): Promise<DeliveryEntry> => {
  await waitFor(
    () => ['sent', 'failed'].includes(svc.deliveries.list()[0]?.status ?? ''),
    15_000,
    'delivery settled',
  );
  return svc.deliveries.list()[0]!;
};

const base = (port: number) => ({
  host: '127.0.0.1',
  port,
  from: 'OpenBMS <bms@example.com>',
  to: ['owner@example.com', 'second@example.com'],
  username: 'bms',
  password: 'pa55-word',
  timeout_s: 5,
  retry: { attempts: 3, backoff_s: 0.02 },
});

describe('e-mail over SMTP', () => {
  it('sends over STARTTLS with a login, verifying the server with its CA file', async () => {
    const s = await smtp();
    const svc = service({ ...base(s.port), starttls: true, ca: caPath });
    svc.dispatch(MSG);
    const e = await settled(svc);
    expect(e).toMatchObject({ status: 'sent', attempts: 1 });
    expect(s.mails).toHaveLength(1);
    const m = s.mails[0]!;
    expect(m.secure).toBe(true);
    expect(m.user).toBe('bms');
    expect(m.from).toBe('bms@example.com');
    expect(m.to).toEqual(['owner@example.com', 'second@example.com']);
    expect(m.raw).toMatch(/^Subject: Rack 1: Cell over-voltage\r?$/m);
    expect(m.raw).toMatch(/^From: OpenBMS <bms@example\.com>\r?$/m);
    expect(m.raw).toContain('Pack: Rack 1 (home/rack/2)');
    expect(svc.status().channels[0]!.target).toMatchObject({
      host: '127.0.0.1',
      password: 'set',
      ca: 'set',
      username: 'bms',
    });
    expect(JSON.stringify(svc.status())).not.toContain('pa55-word');
  });

  it('refuses a self-signed certificate without ca (permanent), accepts it with insecure', async () => {
    const s = await smtp();
    const strict = service({ ...base(s.port) });
    strict.dispatch(MSG);
    const e = await settled(strict);
    expect(e.status).toBe('failed');
    expect(e.attempts).toBe(1);
    expect(e.error).toMatch(/^TLS: the server's certificate does not verify \(.*self[- ]signed/i);
    expect(s.mails).toHaveLength(0);

    const lax = service({ ...base(s.port), insecure: true });
    lax.dispatch(MSG);
    expect(await settled(lax)).toMatchObject({ status: 'sent' });
    expect(s.mails).toHaveLength(1);
  });

  it('a refused login and a refused address are permanent; the password never shows', async () => {
    const s = await smtp();
    const bad = service({ ...base(s.port), ca: caPath, password: 'wrong-secret' });
    bad.dispatch(MSG);
    const e = await settled(bad);
    expect(e).toMatchObject({ status: 'failed', attempts: 1 });
    expect(e.error).toMatch(/^SMTP login refused: .*535.*Authentication credentials invalid/);
    expect(e.error).not.toContain('wrong-secret');

    const nobody = service({ ...base(s.port), ca: caPath, to: ['nobody@example.com'] });
    nobody.dispatch(MSG);
    const n = await settled(nobody);
    expect(n).toMatchObject({ status: 'failed', attempts: 1 });
    expect(n.error).toMatch(/550.*No such user/);
  });

  it('retries a temporary 451 and then delivers', async () => {
    const s = await smtp();
    s.tempFailures = 1;
    const svc = service({ ...base(s.port), ca: caPath });
    svc.dispatch(MSG);
    const e = await settled(svc);
    expect(e).toMatchObject({ status: 'sent', attempts: 2 });
    expect(s.mails).toHaveLength(1);
  });

  it('sends with implicit TLS (secure)', async () => {
    const s = await smtp({ secure: true });
    const svc = service({ ...base(s.port), secure: true, ca: caPath });
    svc.dispatch(MSG);
    expect(await settled(svc)).toMatchObject({ status: 'sent' });
    expect(s.mails[0]!.secure).toBe(true);
  });

  it('does not send in clear when STARTTLS is required and the server does not offer it', async () => {
    const s = await smtp({ disabledCommands: ['STARTTLS'], allowInsecureAuth: true });
    const svc = service({ ...base(s.port), ca: caPath, starttls: true });
    svc.dispatch(MSG);
    const e = await settled(svc);
    expect(e).toMatchObject({ status: 'failed', attempts: 1 });
    expect(e.error).toMatch(/^TLS: STARTTLS failed \(500 .*command not recognized\)/);
    expect(s.mails).toHaveLength(0);
  });

  it('an unreadable CA file is a permanent failure that names the file', async () => {
    const s = await smtp();
    const svc = service({ ...base(s.port), ca: join(dir, 'missing.pem') });
    svc.dispatch(MSG);
    const e = await settled(svc);
    expect(e).toMatchObject({ status: 'failed', attempts: 1 });
    expect(e.error).toContain(`cannot read the CA file ${join(dir, 'missing.pem')}`);
  });

  it('a test message reports the result', async () => {
    const s = await smtp();
    const svc = service({ ...base(s.port), ca: caPath });
    expect(await svc.test('mail')).toEqual({
      ok: true,
      channel: 'mail',
      status: 'sent',
      attempts: 1,
    });
    expect(s.mails[0]!.raw).toMatch(/^Subject: OpenBMS test message\r?$/m);
  });
});
