/** Pseudo-terminal pairs (socat): the simulator serves a bus on one, a reader opens the other. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A pseudo-terminal pair made by socat; resolves once socat reports both ends ready
 * (its "starting data transfer loop" notice), so no test waits on a guessed delay.
 */
export async function ptyPair(): Promise<{ host: string; device: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'openbms-pty-'));
  const host = join(dir, 'host');
  const device = join(dir, 'device');
  const child: ChildProcess = spawn(
    'socat',
    ['-d', '-d', `pty,raw,echo=0,link=${host}`, `pty,raw,echo=0,link=${device}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let log = '';
    child.once('error', (e) =>
      reject(new Error(`cannot start socat (is it installed?): ${e.message}`)),
    );
    child.once('exit', (code) => reject(new Error(`socat exited with ${code}: ${log}`)));
    child.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes('starting data transfer loop')) resolve();
    });
  });
  return {
    host,
    device,
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) {
          rmSync(dir, { recursive: true, force: true });
          resolve();
          return;
        }
        child.once('exit', () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
