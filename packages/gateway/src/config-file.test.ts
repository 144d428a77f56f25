/**
 * The config file on a real file system: save/read round trip, comments kept, secrets
 * redacted and merged back, the previous file kept as .bak, and saves that fail (a path
 * under a regular file, a .bak that cannot be replaced, a full disk and a read-only file
 * system on a real tmpfs when the test may mount one) leave the old file as it was.
 */
import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BmsError, MAX_NESTING, isBmsError } from '@openbms/core';
import { defaultConfig, validateConfig } from './config.js';
import { ConfigFile, SECRET_MARKER, mergeSecrets, parseConfigText } from './config-file.js';
import { builtinRegistry } from './integrations/builtin.js';

const dir = (): string => mkdtempSync(join(tmpdir(), 'openbms-cfg-'));

function codeOf(fn: () => unknown): { code: string; message: string; issues?: unknown } {
  try {
    fn();
  } catch (e) {
    if (isBmsError(e)) return { code: e.code, message: e.message, issues: e.details?.['issues'] };
    throw e;
  }
  throw new Error('expected a BmsError');
}

const SECRETS = {
  version: 1,
  mqtt: {
    url: 'mqtt://bms:urlpass-1@127.0.0.1:1883',
    username: 'bms',
    password: 'mqtt-pass-1',
    base_topic: 'home',
    tls: { ca: '/etc/ca.pem', cert: '/etc/c.pem', key: '/etc/k.pem' },
  },
  notifications: [
    { id: 'phone', type: 'pushover', token: 'po-token-1', user: 'po-user-1' },
    { id: 'ntfy', type: 'ntfy', topic: 'ntfy-topic-1', token: 'ntfy-token-1' },
    {
      id: 'hook',
      type: 'webhook',
      url: 'https://example.com/hook',
      headers: { Authorization: 'Bearer hook-secret-1', 'X-Other': 'hook-secret-2' },
    },
    {
      id: 'mail',
      type: 'email',
      host: 'smtp.example.com',
      username: 'me',
      password: 'mail-pass-1',
      from: 'bms@example.com',
      to: ['me@example.com'],
    },
    {
      id: 'tg',
      type: 'telegram',
      token: '123456789:tg-token-1-abcdefghijklmnop',
      chat_id: -1001234567890,
    },
  ],
};

describe('ConfigFile', () => {
  it('reads the defaults when there is no file, then saves and reads back what was saved', () => {
    const f = new ConfigFile(join(dir(), 'openbms.yaml'));
    expect(f.exists()).toBe(false);
    expect(f.read()).toEqual(defaultConfig());

    const raw = {
      version: 1,
      demo: false,
      mqtt: { url: 'mqtt://10.0.0.2:1883', username: 'bms', password: 'pw' },
    };
    const saved = f.save(raw);
    expect(f.exists()).toBe(true);
    expect(statSync(f.path).mode & 0o777).toBe(0o600);
    expect(f.read()).toEqual(validateConfig(raw));
    expect(saved).toEqual(f.read());
    expect(f.read().mqtt?.password).toBe('pw');
    // A full Config (defaults filled in) round-trips as well.
    f.save(f.read());
    expect(f.read()).toEqual(validateConfig(raw));
  });

  it('keeps comments and the text of sections that did not change', () => {
    const d = dir();
    const path = join(d, 'openbms.yaml');
    writeFileSync(
      path,
      [
        'version: 1',
        '# the garage rack, wired 2024',
        'sites:',
        '  - id: home',
        '    buses:',
        '      - { id: b1, port: /dev/ttyUSB0, protocol: pylontech, packs: [{ address: 2 }] }',
        'mqtt:',
        '  url: mqtt://127.0.0.1:1883 # the local broker',
        '',
      ].join('\n'),
    );
    const f = new ConfigFile(path);
    const raw = f.raw();
    f.save({ ...raw, mqtt: { url: 'mqtt://10.1.1.1:1883', base_topic: 'garage' } });
    const text = readFileSync(path, 'utf8');
    expect(text).toContain('# the garage rack, wired 2024');
    expect(text).toContain('{ id: b1, port: /dev/ttyUSB0, protocol: pylontech');
    expect(text).not.toContain('the local broker');
    expect(f.read().mqtt).toMatchObject({ url: 'mqtt://10.1.1.1:1883', base_topic: 'garage' });
    // A section removed from the input is removed from the file.
    const { mqtt: _gone, ...rest } = f.raw();
    f.save(rest);
    expect(f.read().mqtt).toBeUndefined();
    expect(readFileSync(path, 'utf8')).toContain('# the garage rack, wired 2024');
  });

  it('refuses an invalid config, naming the key, and writes nothing', () => {
    const f = new ConfigFile(join(dir(), 'openbms.yaml'));
    f.save({ version: 1, demo: true });
    const before = readFileSync(f.path, 'utf8');
    const e = codeOf(() => f.save({ version: 1, mqtt: { url: 'mqtt://x', bogus: 1, qos: 7 } }));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.issues).toEqual(
      expect.arrayContaining([
        { path: 'mqtt.bogus', message: 'unknown key "bogus"' },
        expect.objectContaining({ path: 'mqtt.qos' }),
      ]),
    );
    expect(e.message).toContain('mqtt.bogus');
    expect(readFileSync(f.path, 'utf8')).toBe(before);
    expect(readdirSync(join(f.path, '..'))).toEqual(['openbms.yaml']);
  });

  it('names the line of broken YAML and the missing version', () => {
    expect(codeOf(() => parseConfigText('version: 1\nmqtt: [a, b\n')).message).toMatch(
      /not valid YAML \(line \d\)/,
    );
    expect(codeOf(() => parseConfigText('demo: true\n')).message).toContain('"version: 1"');
  });

  it('refuses a YAML alias bomb ("billion laughs") with CONFIG_INVALID, not a crash', () => {
    // Each level's aliases repeat the one before 9 times: 9^9 strings once expanded.
    const bomb = ['version: 1', 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    const names = 'abcdefghi';
    for (let i = 1; i < names.length; i++) {
      const prev = `*${names[i - 1]}`;
      bomb.push(`${names[i]}: &${names[i]} [${Array(9).fill(prev).join(',')}]`);
    }
    let e: BmsError | undefined;
    try {
      parseConfigText(bomb.join('\n'), 'the uploaded config');
    } catch (x) {
      e = x as BmsError;
    }
    expect(e).toBeInstanceOf(BmsError);
    expect(e?.code).toBe('CONFIG_INVALID');
    expect(e?.details?.['refused']).toBe('aliases');
    expect(e?.message).toMatch(
      /^the uploaded config is refused: its aliases \(\*name\) expand to too much data/,
    );
    // A few aliases, as people write them, still work.
    const fine = parseConfigText(
      'version: 1\nmqtt:\n  url: mqtt://127.0.0.1:1883\n  username: &name bms\n  base_topic: *name\n',
    );
    expect(fine.config.mqtt?.base_topic).toBe('bms');
    // An alias to an anchor never set is a plain YAML error (it was a crash too).
    const unset = codeOf(() => parseConfigText('version: 1\nmqtt: *nowhere\n'));
    expect(unset.code).toBe('CONFIG_INVALID');
    expect(unset.message).toBe(
      'config is not valid YAML: Unresolved alias (the anchor must be set before the alias): nowhere',
    );
  });

  it(`refuses YAML nested deeper than ${MAX_NESTING} levels, flow or block, naming it`, () => {
    const flow = `version: 1\nmqtt: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`;
    let block = 'version: 1\n';
    for (let i = 0; i <= MAX_NESTING; i++) block += `${'  '.repeat(i)}k${i}:\n`;
    block += `${'  '.repeat(MAX_NESTING + 1)}leaf: 1\n`;
    for (const text of [flow, block]) {
      let e: BmsError | undefined;
      try {
        parseConfigText(text);
      } catch (x) {
        e = x as BmsError;
      }
      expect(e?.code).toBe('CONFIG_INVALID');
      expect(e?.details?.['refused']).toBe('depth');
      expect(e?.message).toContain(`deeper than ${MAX_NESTING} levels`);
    }
  });

  it('keeps the previous file as .bak (mode 0600) on every save', () => {
    const f = new ConfigFile(join(dir(), 'openbms.yaml'));
    f.save({ version: 1, demo: true });
    const first = readFileSync(f.path, 'utf8');
    f.save({ version: 1, demo: false });
    expect(readFileSync(f.backupPath, 'utf8')).toBe(first);
    expect(statSync(f.backupPath).mode & 0o777).toBe(0o600);
    const second = readFileSync(f.path, 'utf8');
    f.save({ version: 1, demo: true, http: { port: 9000 } });
    expect(readFileSync(f.backupPath, 'utf8')).toBe(second);
    expect(f.read().http.port).toBe(9000);
    expect(readdirSync(join(f.path, '..')).sort()).toEqual(['openbms.yaml', 'openbms.yaml.bak']);
  });

  it('a hand-written config readable by others is saved 0600, its .bak too, whatever the umask', () => {
    const path = join(dir(), 'openbms.yaml');
    const old = process.umask(0);
    try {
      writeFileSync(path, 'version: 1\ndemo: false\n', { mode: 0o644 });
      const f = new ConfigFile(path);
      f.save({ ...f.raw(), demo: true });
      expect(statSync(f.path).mode & 0o777).toBe(0o600);
      expect(statSync(f.backupPath).mode & 0o777).toBe(0o600);
      expect(f.read().demo).toBe(true);
    } finally {
      process.umask(old);
    }
  });

  it('refuses to save under a path that is not a directory, and says so', () => {
    const d = dir();
    writeFileSync(join(d, 'plain-file'), 'x');
    const f = new ConfigFile(join(d, 'plain-file', 'openbms.yaml'));
    expect(f.writable().writable).toBe(false);
    expect(f.writable().reason).toContain('plain-file');
    const e = codeOf(() => f.save({ version: 1, demo: true }));
    expect(e.code).toBe('STORAGE_FAILED');
    expect(e.message).toContain('the config file was not changed');
    expect(readFileSync(join(d, 'plain-file'), 'utf8')).toBe('x');
  });

  it('leaves the old file untouched when the backup cannot be kept', () => {
    const f = new ConfigFile(join(dir(), 'openbms.yaml'));
    f.save({ version: 1, demo: true });
    const before = readFileSync(f.path, 'utf8');
    // A non-empty directory where the .bak goes: renaming onto it really fails.
    mkdirSync(join(f.backupPath, 'occupied'), { recursive: true });
    const e = codeOf(() => f.save({ version: 1, demo: false }));
    expect(e.code).toBe('STORAGE_FAILED');
    expect(e.message).toContain('.bak');
    expect(readFileSync(f.path, 'utf8')).toBe(before);
    expect(readdirSync(join(f.path, '..')).sort()).toEqual(['openbms.yaml', 'openbms.yaml.bak']);
  });
});

// A real full disk and a real read-only file system: a small tmpfs. Mounting needs root
// and CAP_SYS_ADMIN (containers often lack it): without them these two are skipped.
describe('ConfigFile on a full or read-only file system (tmpfs)', () => {
  const mnt = mkdtempSync(join(tmpdir(), 'openbms-tmpfs-'));
  let mounted = false;
  beforeAll(() => {
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs', mnt], {
        stdio: 'ignore',
      });
      mounted = true;
    } catch {
      console.warn('config-file.test: cannot mount a tmpfs here; disk-full tests skipped');
    }
  });
  afterAll(() => {
    if (mounted) execFileSync('umount', [mnt], { stdio: 'ignore' });
    rmSync(mnt, { recursive: true, force: true });
  });

  it('refuses with STORAGE_FULL when the disk is full and keeps the old file', (ctx) => {
    if (!mounted) ctx.skip();
    const f = new ConfigFile(join(mnt, 'openbms.yaml'));
    f.save({ version: 1, demo: true });
    const before = readFileSync(f.path, 'utf8');
    // Fill the rest of the file system.
    try {
      writeFileSync(join(mnt, 'filler'), Buffer.alloc(128 * 1024, 1));
    } catch (e) {
      expect((e as { code?: string }).code).toBe('ENOSPC');
    }
    const rules = Array.from({ length: 200 }, (_, i) => ({
      id: `rule-${i}`,
      metric: 'soc_pct',
      op: '<',
      threshold: 10,
      clear: 20,
      severity: 'warning',
    }));
    const e = codeOf(() => f.save({ version: 1, demo: true, alarm_rules: rules }));
    expect(e.code).toBe('STORAGE_FULL');
    expect(e.message).toMatch(/disk is full.*not changed/);
    expect(readFileSync(f.path, 'utf8')).toBe(before);
    expect(readdirSync(mnt).sort()).toEqual(['filler', 'openbms.yaml']);
    rmSync(join(mnt, 'filler'));
  });

  it('refuses with STORAGE_READ_ONLY on a read-only file system', (ctx) => {
    if (!mounted) ctx.skip();
    const f = new ConfigFile(join(mnt, 'openbms.yaml'));
    f.save({ version: 1, demo: true });
    const before = readFileSync(f.path, 'utf8');
    execFileSync('mount', ['-o', 'remount,ro', mnt]);
    try {
      expect(f.writable()).toMatchObject({ writable: false });
      const e = codeOf(() => f.save({ version: 1, demo: false }));
      expect(e.code).toBe('STORAGE_READ_ONLY');
      expect(e.message).toContain('not writable');
      expect(readFileSync(f.path, 'utf8')).toBe(before);
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', mnt]);
    }
  });
});

describe('secrets', () => {
  // Each section is redacted with its integration's declared secrets, as the settings page does.
  const registry = builtinRegistry();
  const redact = <T extends Record<string, unknown>>(c: T): T =>
    Object.fromEntries(Object.entries(c).map(([k, v]) => [k, registry.redact(k, v)])) as T;

  it('redacts every secret and nothing else', () => {
    const r = redact(SECRETS);
    const text = JSON.stringify(r);
    for (const s of [
      'urlpass-1',
      'mqtt-pass-1',
      'po-token-1',
      'po-user-1',
      'ntfy-topic-1',
      'ntfy-token-1',
      'hook-secret-1',
      'hook-secret-2',
      'mail-pass-1',
      'tg-token-1',
      '/etc/k.pem',
    ]) {
      expect(text, s).not.toContain(s);
    }
    expect(r.mqtt).toEqual({
      url: `mqtt://bms:${SECRET_MARKER}@127.0.0.1:1883`,
      username: 'bms',
      password: SECRET_MARKER,
      base_topic: 'home',
      tls: { ca: '/etc/ca.pem', cert: '/etc/c.pem', key: SECRET_MARKER },
    });
    expect(r.notifications[2]).toMatchObject({
      url: 'https://example.com/hook',
      headers: { Authorization: SECRET_MARKER, 'X-Other': SECRET_MARKER },
    });
    expect(r.notifications[3]).toMatchObject({ username: 'me', host: 'smtp.example.com' });
    expect(r.notifications[4]).toEqual({ ...SECRETS.notifications[4], token: SECRET_MARKER });
    // The input is not modified.
    expect(SECRETS.mqtt.password).toBe('mqtt-pass-1');
  });

  it('puts the saved secret back where the marker comes back, by list id', () => {
    const r = redact(SECRETS);
    expect(mergeSecrets(r, SECRETS)).toEqual(SECRETS);
    // The channels reordered and one secret changed: the others follow their ids.
    const edited = {
      ...r,
      mqtt: { ...r.mqtt, password: 'new-pass' },
      notifications: [...r.notifications].reverse(),
    };
    const merged = mergeSecrets(edited, SECRETS) as typeof SECRETS;
    expect(merged.mqtt.password).toBe('new-pass');
    expect(merged.mqtt.url).toBe(SECRETS.mqtt.url);
    expect(merged.notifications.map((n) => n.id)).toEqual(['tg', 'mail', 'hook', 'ntfy', 'phone']);
    expect(merged.notifications[4]).toEqual(SECRETS.notifications[0]);
    expect(merged.notifications[2]).toEqual(SECRETS.notifications[2]);
    expect(merged.notifications[0]).toEqual(SECRETS.notifications[4]);
  });

  it('refuses the marker where no secret is saved, naming the key', () => {
    const e = codeOf(() => mergeSecrets({ password: SECRET_MARKER }, { url: 'mqtt://x' }, 'mqtt'));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.issues).toEqual([{ path: 'mqtt.password', message: expect.any(String) }]);
  });
});
