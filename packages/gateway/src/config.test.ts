import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BmsError } from '@openbms/core';
import { defaultConfig, loadConfig, packsOf, validateConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'openbms-config-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const errorOf = (fn: () => unknown): BmsError => {
  try {
    fn();
  } catch (e) {
    return e as BmsError;
  }
  throw new Error('no error');
};

describe('config', () => {
  it('loads a site with a serial bus and a TCP bus, with defaults filled in', () => {
    const c = loadConfig(
      file(
        'ok.yaml',
        `version: 1
sites:
  - id: home
    buses:
      - id: rs485
        port: /dev/ttyUSB0
        protocol: pylontech
        packs:
          - { address: 2, name: Master }
          - { address: 3 }
      - id: jk-tcp
        port: tcp://192.168.1.50:8899
        protocol: jk
        poll_interval_s: 10
        packs: [{ address: 1, chemistry: nmc, variant: JK02_24S }]
`,
      ),
    );
    expect(c.http).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(c.demo).toBe(false);
    expect(c.sites[0]!.buses[0]!.poll_interval_s).toBe(5);
    expect(packsOf(c).map((p) => [p.id, p.name, p.chemistry])).toEqual([
      ['home/rs485/2', 'Master', 'lfp'],
      ['home/rs485/3', 'rs485 3', 'lfp'],
      ['home/jk-tcp/1', 'jk-tcp 1', 'nmc'],
    ]);
  });

  it('defaults to the demo site: 4 PACE packs in parallel, a Pylontech, a JK and a DALY pack', () => {
    const packs = packsOf(defaultConfig());
    expect(packs.map((p) => p.protocol)).toEqual([
      'pace',
      'pace',
      'pace',
      'pace',
      'pylontech',
      'jk',
      'daly',
    ]);
    expect(new Set(packs.map((p) => p.id)).size).toBe(7);
    // Rack 4 allows unverified commands (calibration on the simulator); the others do not.
    expect(packs.filter((p) => p.allowUnverified).map((p) => p.name)).toEqual(['Rack 4']);
  });

  it('reads packs[].allow_unverified: a boolean, false by default, no coercion', () => {
    const cfg = (extra: Record<string, unknown>) => ({
      version: 1,
      sites: [
        {
          id: 's',
          buses: [
            { id: 'b', port: '/dev/ttyUSB0', protocol: 'pace', packs: [{ address: 1, ...extra }] },
          ],
        },
      ],
    });
    expect(packsOf(validateConfig(cfg({})))[0]!.allowUnverified).toBeUndefined();
    expect(packsOf(validateConfig(cfg({ allow_unverified: true })))[0]!.allowUnverified).toBe(true);
    expect(errorOf(() => validateConfig(cfg({ allow_unverified: 'yes' }))).message).toContain(
      'sites[0].buses[0].packs[0].allow_unverified',
    );
  });

  it('names the bad key and the accepted values', () => {
    const e = errorOf(() =>
      validateConfig({
        version: 1,
        sites: [
          {
            id: 'home',
            buses: [
              {
                id: 'b',
                port: '/dev/ttyUSB0',
                protocol: 'pylonteck',
                packs: [{ address: 2, chemistry: 'lead' }],
              },
            ],
          },
        ],
      }),
    );
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain(
      'sites[0].buses[0].protocol: unknown protocol "pylonteck"; accepted: daly, daly-modbus, jk, pylontech, pace, jbd, seplos, modbus-rtu',
    );
    expect(e.message).toMatch(
      /sites\[0\]\.buses\[0\]\.packs\[0\]\.chemistry: invalid value; accepted: lfp, nmc/,
    );
  });

  it('rejects unknown keys, duplicate addresses, a missing version and broken YAML', () => {
    expect(errorOf(() => validateConfig({ version: 1, sitez: [] })).message).toContain(
      '(top level): unknown key "sitez"',
    );
    const dup = errorOf(() =>
      validateConfig({
        version: 1,
        sites: [
          {
            id: 's',
            buses: [
              { id: 'b', port: 'x', protocol: 'jk', packs: [{ address: 1 }, { address: 1 }] },
            ],
          },
        ],
      }),
    );
    expect(dup.message).toContain(
      'sites[0].buses[0].packs[1].address: address 1 is used twice on bus b',
    );
    expect(errorOf(() => loadConfig(file('nov.yaml', 'demo: true\n'))).message).toContain(
      '"version: 1" is required',
    );
    expect(errorOf(() => loadConfig(file('bad.yaml', 'version: 1\nsites: [\n'))).message).toMatch(
      /is not valid YAML \(line \d+\)/,
    );
    expect(errorOf(() => loadConfig(join(dir, 'missing.yaml'))).message).toContain(
      'cannot read config file',
    );
    expect(errorOf(() => validateConfig({ version: 2 })).message).toContain('version');
  });
});

describe('config: integrations', () => {
  it('accepts an mqtt section and names a bad key in it', () => {
    const c = validateConfig({
      version: 1,
      mqtt: { url: 'mqtt://127.0.0.1:1883', base_topic: 'home' },
    });
    expect(c.mqtt?.base_topic).toBe('home');
    const e = errorOf(() => validateConfig({ version: 1, mqtt: { base_topik: 'x' } }));
    expect(e.message).toContain('mqtt');
    expect(e.message).toContain('base_topik');
  });
});

describe('config: the README example', () => {
  it('is a valid configuration', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(yaml).toBeTruthy();
    const c = loadConfig(file('readme.yaml', yaml!));
    expect(packsOf(c).length).toBeGreaterThan(0);
  });
});

describe('storage.url', () => {
  it('takes a postgres:// URL or sqlite:PATH, absent is the embedded SQLite', () => {
    expect(validateConfig({ version: 1 }).storage.url).toBeUndefined();
    expect(
      validateConfig({ version: 1, storage: { url: 'postgres://bms@127.0.0.1/openbms' } }).storage
        .url,
    ).toBe('postgres://bms@127.0.0.1/openbms');
    expect(
      validateConfig({ version: 1, storage: { url: 'sqlite:/tmp/x.sqlite' } }).storage.url,
    ).toBe('sqlite:/tmp/x.sqlite');
  });

  it('refuses a URL that is not one, naming storage.url and hiding the password', () => {
    for (const url of ['mysql://u@h/db', 'postgres://u:hunter2@host', 42, 'sqlite:']) {
      let caught: { code?: string; message: string } | undefined;
      try {
        validateConfig({ version: 1, storage: { url } });
      } catch (e) {
        caught = e as typeof caught;
      }
      expect(caught?.code).toBe('CONFIG_INVALID');
      expect(caught?.message).toContain('storage.url');
      expect(caught?.message).not.toContain('hunter2');
    }
  });
});

describe('accounts', () => {
  it('takes sign-up with its SMTP server and terms', () => {
    const a = validateConfig({
      version: 1,
      accounts: {
        signup: true,
        email: { host: 'smtp.example.com', from: 'OpenBMS <bms@example.com>' },
        terms: { service: 'S', privacy: 'P' },
      },
    }).accounts;
    expect(a).toMatchObject({
      signup: true,
      email: { host: 'smtp.example.com', secure: false, starttls: true, timeout_s: 30 },
      terms: { service: 'S', privacy: 'P' },
    });
  });

  it('takes the captcha mode and count, with defaults, strictly', () => {
    expect(validateConfig({ version: 1 }).accounts).toBeUndefined();
    expect(validateConfig({ version: 1, accounts: {} }).accounts).toEqual({
      captcha: 'after_failures',
      captcha_after: 3,
      signup: false,
    });
    expect(
      validateConfig({ version: 1, accounts: { captcha: 'always', captcha_after: 20 } }).accounts,
    ).toEqual({ captcha: 'always', captcha_after: 20, signup: false });
    for (const [accounts, key] of [
      [{ captcha: 'sometimes' }, 'accounts.captcha'],
      [{ captcha: true }, 'accounts.captcha'],
      [{ captcha_after: 0 }, 'accounts.captcha_after'],
      [{ captcha_after: 21 }, 'accounts.captcha_after'],
      [{ captcha_after: 2.5 }, 'accounts.captcha_after'],
      [{ captcha_after: '3' }, 'accounts.captcha_after'],
      [{ captcha_aftr: 3 }, 'captcha_aftr'],
      [{ signup: 'yes' }, 'accounts.signup'],
      [{ signup: true }, 'accounts.email'],
      [{ email: { host: 'smtp.example.com' } }, 'accounts.email.from'],
      [{ email: { host: 'h', from: 'a@b.c', port: '25' } }, 'accounts.email.port'],
      [{ email: { host: 'h', from: 'a@b.c', username: 'u' } }, 'accounts.email.password'],
      [{ email: { host: 'h', from: 'a@b.c', to: ['x@y.z'] } }, 'to'],
      [{ terms: { service: 'x' } }, 'accounts.terms.privacy'],
    ] as const) {
      const e = errorOf(() => validateConfig({ version: 1, accounts }));
      expect(e.code).toBe('CONFIG_INVALID');
      expect(e.message).toContain(key);
    }
  });
});

describe('web.map (the console map tiles)', () => {
  it('takes a tile URL template with its attribution, and refuses other URLs and unknown keys naming them', () => {
    expect(validateConfig({ version: 1 }).web).toBeUndefined();
    expect(validateConfig({ version: 1, web: {} }).web).toEqual({
      map: { attribution: '', max_zoom: 19 },
    });
    expect(
      validateConfig({
        version: 1,
        web: {
          map: {
            tiles: 'https://{s}.tile.example.org/{z}/{x}/{y}.png',
            attribution: '© OpenStreetMap contributors',
            max_zoom: 18,
          },
        },
      }).web?.map,
    ).toEqual({
      tiles: 'https://{s}.tile.example.org/{z}/{x}/{y}.png',
      attribution: '© OpenStreetMap contributors',
      max_zoom: 18,
    });
    for (const [map, key] of [
      [{ tiles: 'https://tile.example.org/{z}/{x}.png' }, 'web.map.tiles'],
      [{ tiles: 'ftp://tile.example.org/{z}/{x}/{y}.png' }, 'web.map.tiles'],
      [{ tiles: 'https://tile.{s}.example.org/{z}/{x}/{y}.png' }, 'web.map.tiles'],
      [{ tiles: 'javascript:alert(1)//{z}/{x}/{y}' }, 'web.map.tiles'],
      [{ max_zoom: 30 }, 'web.map.max_zoom'],
      [{ tile: 'x' }, 'tile'],
    ] as const)
      expect(errorOf(() => validateConfig({ version: 1, web: { map } })).message, key).toContain(
        key,
      );
    expect(errorOf(() => validateConfig({ version: 1, web: { maps: {} } })).message).toContain(
      'maps',
    );
  });
});
