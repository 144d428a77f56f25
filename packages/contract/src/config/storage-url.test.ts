import { describe, expect, it } from 'vitest';
import { parseStorageUrl, redactUrl } from './storage-url.js';

describe('storage.url', () => {
  it('is SQLite when absent or sqlite:PATH, PostgreSQL for postgres:// URLs naming a host and a database', () => {
    expect(parseStorageUrl(undefined)).toEqual({ kind: 'sqlite' });
    expect(parseStorageUrl('sqlite:/var/lib/openbms/x.sqlite')).toEqual({
      kind: 'sqlite',
      path: '/var/lib/openbms/x.sqlite',
    });
    expect(parseStorageUrl('postgres://bms@db.example/openbms')).toEqual({
      kind: 'postgres',
      url: 'postgres://bms@db.example/openbms',
    });
    expect(parseStorageUrl('postgresql://bms:pw@10.0.0.2:6432/openbms?sslmode=require').kind).toBe(
      'postgres',
    );
  });

  it('refuses anything else with CONFIG_INVALID naming storage.url, and never repeats a password', () => {
    for (const bad of [
      '',
      42,
      'sqlite:',
      'mysql://u@h/db',
      'postgres://',
      'postgres://u:secretpw@host',
      'postgres://u:secretpw@host/',
      'postgres://u:secretpw@host/a/b',
      'postgres://u:secretpw@host:99999/db',
      '/var/lib/openbms.sqlite',
    ]) {
      let caught: { code?: string; message: string; details?: { key?: string } } | undefined;
      try {
        parseStorageUrl(bad);
      } catch (e) {
        caught = e as typeof caught;
      }
      expect(caught?.code, JSON.stringify(bad)).toBe('CONFIG_INVALID');
      expect(caught?.message).toContain('storage.url');
      expect(caught?.details?.key).toBe('storage.url');
      expect(caught?.message).not.toContain('secretpw');
    }
  });

  it('redacts the password of a URL', () => {
    expect(redactUrl('postgres://bms:hunter2@db/openbms')).toBe('postgres://bms:***@db/openbms');
    expect(redactUrl('no url at all')).toBe('no url at all');
  });
});
