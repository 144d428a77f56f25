/**
 * A Mosquitto broker of a test's own (a child process on a free port), so a test can stop
 * and start it again (a broker outage) without touching the shared one on 1883.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';

const MOSQUITTO = '/usr/sbin/mosquitto';

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

export class TestBroker {
  private child: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    private readonly conf: string,
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** A broker (anonymous clients allowed) on a free port, accepting connections. */
  static async start(): Promise<TestBroker> {
    const dir = mkdtempSync(join(tmpdir(), 'obt-broker-'));
    const port = await freePort();
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\n`);
    const b = new TestBroker(port, conf);
    await b.resume();
    return b;
  }

  /** Starts the broker again (after `pause`) and resolves once it accepts connections. */
  async resume(): Promise<void> {
    const child = spawn(MOSQUITTO, ['-c', this.conf], { stdio: 'pipe' });
    this.child = child;
    let out = '';
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ok = await new Promise<boolean>((resolve) => {
        const c = mqtt.connect(this.url, { reconnectPeriod: 0, connectTimeout: 1000 });
        c.once('connect', () => {
          c.end(true);
          resolve(true);
        });
        c.once('error', () => {
          c.end(true);
          resolve(false);
        });
        c.once('close', () => resolve(false));
      });
      if (ok) return;
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`mosquitto did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Kills the broker (SIGKILL: an outage, not a goodbye). */
  async pause(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (!c || c.exitCode !== null) return;
    const done = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await done;
  }

  stop(): Promise<void> {
    return this.pause();
  }
}
