/**
 * `openbms link --show` and `openbms collector` as a user runs them: separate processes. The
 * collector runs the demo site against a tiny HTTP server answering hello with credentials for
 * a Mosquitto broker of the test's own; killed with SIGKILL while the cloud acknowledges
 * nothing, it keeps its backlog and sends it again after a restart.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeUplink, encodeUplink } from '@openbms/gateway';
import { TestBroker } from '@openbms/gateway/testing';
import { uplinkBatchSchema } from '@openbms/contract/gateway';
import { SqliteOutbox } from '@openbms/storage-sqlite';

const BIN = fileURLToPath(new URL('../bin/openbms.js', import.meta.url));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
}

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('openbms link --show', () => {
  it('makes the serial and claim code once, keeps them 0600 and prints them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'obt-link-'));
    const a = cli(['link', '--show', '--json', '--data-dir', dir]);
    expect(a.status, a.stderr).toBe(0);
    const id = JSON.parse(a.stdout) as { serial: string; claim_code: string };
    expect(Object.keys(id)).toEqual(['serial', 'claim_code']);
    expect(id.serial).toMatch(/^OB[0-9A-HJKMNP-TV-Z]{10}$/);
    expect(id.claim_code).toMatch(/^[0-9A-HJKMNP-TV-Z]{8}$/);
    expect(statSync(join(dir, 'collector.json')).mode & 0o777).toBe(0o600);
    expect(JSON.parse(cli(['link', '--show', '--json', '--data-dir', dir]).stdout)).toEqual(id);
    const text = cli(['link', '--show', '--data-dir', dir]).stdout;
    expect(text).toContain(`serial number: ${id.serial}`);
    expect(text).toContain(`${id.claim_code.slice(0, 4)}-${id.claim_code.slice(4)}`);
    expect(text).toContain(`OBMS1:${id.serial}:${id.claim_code}`);
    expect(text).toContain('not claimed yet');
  });

  it('refuses an unknown option naming it', () => {
    const r = cli(['link', '--shwo']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('shwo');
  });
});

describe('openbms collector', () => {
  let broker: TestBroker;
  let hello: Server;
  let cloudUrl: string;

  beforeAll(async () => {
    broker = await TestBroker.start();
    hello = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const b = JSON.parse(body) as { serial: string };
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            status: 'claimed',
            broker: { url: broker.url },
            username: b.serial,
            password: 'pw-of-the-test',
          }),
        );
      });
    });
    await new Promise<void>((r) => hello.listen(0, '127.0.0.1', r));
    cloudUrl = `http://127.0.0.1:${(hello.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await new Promise((r) => hello?.close(r));
    await broker?.stop();
  });

  function collector(dir: string, config: string): { child: ChildProcess; out: () => string } {
    const child = spawn(
      process.execPath,
      [BIN, 'collector', '--config', config, '--data-dir', dir],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    return { child, out: () => out };
  }

  it('needs cloud.url', () => {
    const dir = mkdtempSync(join(tmpdir(), 'obt-coll-'));
    const config = join(dir, 'openbms.yaml');
    writeFileSync(config, 'version: 1\ndemo: true\n');
    const r = cli(['collector', '--config', config, '--data-dir', dir]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('cloud.url');
  });

  it('keeps its backlog through kill -9 and sends it after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'obt-coll-'));
    const config = join(dir, 'openbms.yaml');
    writeFileSync(config, `version: 1\ndemo: true\ncloud:\n  url: ${cloudUrl}\n`);
    const seen = new Set<string>();
    let ack = false;
    const cloud = mqtt.connect(broker.url, { reconnectPeriod: 100 });
    cloud.on('message', (topic, payload) => {
      const batch = uplinkBatchSchema.parse(decodeUplink(payload));
      for (const e of batch.events) seen.add(`${e.run}#${e.seq}`);
      if (ack)
        cloud.publish(
          topic.replace(/up$/, 'ack'),
          encodeUplink({
            v: 1,
            ranges: batch.events.map((e) => ({ run: e.run, from: e.seq, to: e.seq })),
          }),
          { qos: 1 },
        );
    });
    await cloud.subscribeAsync('openbms/v1/+/up', { qos: 1 });
    try {
      const first = collector(dir, config);
      await until('envelopes at the cloud', () => seen.size >= 8);
      const printed = first.out();
      expect(printed).toMatch(/collector: OB[0-9A-Z]{10}, uplink to /);
      expect(printed).toMatch(/claim code [0-9A-Z]{4}-[0-9A-Z]{4}/);
      expect(printed).not.toContain('pw-of-the-test');
      first.child.kill('SIGKILL');
      await new Promise((r) => first.child.once('exit', r));

      // Nothing was acknowledged: every envelope the cloud saw is still in the outbox.
      const box = SqliteOutbox.open({ dataDir: dir, maxBytes: 1e9 });
      const kept = box.next(1_000_000, { resendAfterMs: 0 }).map((r) => `${r.run}#${r.seq}`);
      box.close();
      const keptSet = new Set(kept);
      for (const k of seen) expect(keptSet.has(k), k).toBe(true);

      seen.clear();
      ack = true;
      const second = collector(dir, config);
      await until('the kept backlog at the cloud again', () => kept.every((k) => seen.has(k)));
      expect(second.out()).not.toContain('not claimed yet');
    } finally {
      cloud.end(true);
    }
  }, 40_000);
});
