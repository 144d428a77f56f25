/**
 * The config file on disk: where it is, what it holds, and how it is replaced. The web
 * settings page and the backup/restore routes go through here.
 *
 * - `save()` writes atomically: a temporary file next to the config (mode 0600: it holds
 *   secrets), synced, then renamed over the config; the previous file is kept as
 *   `<file>.bak`. When the directory cannot be written or the disk is full the save is
 *   refused with STORAGE_READ_ONLY / STORAGE_FULL and the old file is untouched.
 * - Comments and the layout of the sections that did not change are kept (yaml's
 *   parseDocument); a changed section is written out anew.
 * - `redact()` hides every secret of a section behind SECRET_MARKER (the usual names, URL
 *   passwords and what its integration declares); `mergeSecrets()` puts the saved secret
 *   back wherever a form sends the marker unchanged.
 * - The schema is `configSchema` unless given (an integration registry's, with its sections).
 */
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  chmodSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Document, isMap, isScalar, parseDocument } from 'yaml';
import type { ZodType } from 'zod';
import { BmsError, MAX_NESTING, isBmsError, shapeProblem } from '@openbms/core';
import { CONFIG_VERSION, configSchema, defaultConfig, type Config } from './config.js';

/**
 * The schema a config is checked with: `configSchema`, or the one an integration registry
 * composes from it (IntegrationRegistry.configSchema) when it adds sections.
 */
export type ConfigSchema = ZodType<Config>;

/** What a redacted secret reads as; sending it back means "keep the saved value". */
export const SECRET_MARKER = '********';
/** The config file `openbms start` uses when no `--config` is given. */
export const DEFAULT_CONFIG_FILE = 'openbms.yaml';
/** Largest config text accepted (a restore upload, a file on disk). */
export const MAX_CONFIG_BYTES = 256 * 1024;

/** One problem of a config, with the dotted path of the key at fault. */
export interface ConfigIssue {
  path: string;
  message: string;
}

// ---------------------------------------------------------------------- validation

function pathOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)),
    '',
  );
}

/** The schema's problems with `raw`, one per bad key (an unknown key is named in the path). */
export function configIssues(raw: unknown, schema: ConfigSchema = configSchema): ConfigIssue[] {
  const r = schema.safeParse(raw);
  if (r.success) return [];
  return r.error.issues.flatMap((i): ConfigIssue[] => {
    if (i.code === 'unrecognized_keys') {
      return i.keys.map((k) => ({ path: pathOf([...i.path, k]), message: `unknown key "${k}"` }));
    }
    let message = i.message;
    if (i.code === 'invalid_value' && 'values' in i) {
      message = `invalid value; accepted: ${(i.values as unknown[]).map(String).join(', ')}`;
    }
    return [{ path: pathOf(i.path) || '(top level)', message }];
  });
}

/** Throws CONFIG_INVALID listing every issue (details.issues: ConfigIssue[]). */
export function invalidConfig(source: string, issues: ConfigIssue[]): BmsError {
  return new BmsError(
    'CONFIG_INVALID',
    `${source} is invalid:\n  ${issues.map((i) => `${i.path}: ${i.message}`).join('\n  ')}`,
    { issues, field: issues[0]?.path },
  );
}

/** Validates a parsed config; CONFIG_INVALID with structured issues on failure. */
export function checkConfig(
  raw: unknown,
  source = 'config',
  schema: ConfigSchema = configSchema,
): Config {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  throw invalidConfig(source, configIssues(raw, schema));
}

/** Alias expansions yaml may make while building a config (its own default, made explicit). */
export const MAX_YAML_ALIASES = 100;

/**
 * A document refused before its content is checked: aliases that expand to too much data, nesting
 * deeper than MAX_NESTING, a prototype-poisoning key. `details.refused` says which (the API answers
 * these with 400, as it does for JSON bodies, and 422 for a config that reads but does not check).
 */
function refusedDocument(
  source: string,
  refused: 'aliases' | 'depth' | 'prototype_key',
  why: string,
  line?: number,
): BmsError {
  const path = line ? `(line ${line})` : '(file)';
  return new BmsError('CONFIG_INVALID', `${source} is refused: ${why}`, {
    issues: [{ path, message: why }],
    refused,
  });
}

/** Parses YAML text into a checked config. Errors name the line or the key. */
export function parseConfigText(
  text: string,
  source = 'config',
  schema: ConfigSchema = configSchema,
): { doc: Document; raw: Record<string, unknown>; config: Config } {
  if (Buffer.byteLength(text, 'utf8') > MAX_CONFIG_BYTES) {
    throw new BmsError(
      'CONFIG_INVALID',
      `${source} is larger than ${MAX_CONFIG_BYTES / 1024} kB; a config file is a few kB`,
      { issues: [{ path: '(file)', message: 'too large' }] },
    );
  }
  const doc = parseDocument(text, { prettyErrors: true });
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0].line;
    // yaml reports its own stack overflow (brackets nested thousands deep) as a parse error.
    if (err.message.includes('Maximum call stack size exceeded')) {
      throw refusedDocument(source, 'depth', `nests deeper than ${MAX_NESTING} levels`, line);
    }
    const message = `not valid YAML${line ? ` (line ${line})` : ''}: ${err.message.split('\n')[0]}`;
    throw new BmsError('CONFIG_INVALID', `${source} is ${message}`, {
      issues: [{ path: line ? `(line ${line})` : '(file)', message }],
    });
  }
  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (e) {
    // yaml throws while building the values: once aliases would expand to too many nodes
    // (its "Excessive alias count" message), and for an alias to an anchor never set.
    const why = e instanceof Error ? e.message : String(e);
    if (why.includes('Excessive alias count')) {
      throw refusedDocument(
        source,
        'aliases',
        'its aliases (*name) expand to too much data (a "billion laughs" document); write the values out',
      );
    }
    const message = `not valid YAML: ${why.split('\n')[0]}`;
    throw new BmsError('CONFIG_INVALID', `${source} is ${message}`, {
      issues: [{ path: '(file)', message }],
    });
  }
  const problem = shapeProblem(js, MAX_NESTING);
  if (problem) {
    throw refusedDocument(
      source,
      problem.reason,
      `${problem.path || '(top level)'} ${problem.message}`,
    );
  }
  const raw = js === null || js === undefined ? {} : js;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new BmsError('CONFIG_INVALID', `${source}: the top level must be a mapping of keys`, {
      issues: [{ path: '(top level)', message: 'must be a mapping (key: value lines)' }],
    });
  }
  if (!('version' in raw)) {
    throw new BmsError(
      'CONFIG_INVALID',
      `${source}: "version: ${CONFIG_VERSION}" is required at the top`,
      { issues: [{ path: 'version', message: `required (version: ${CONFIG_VERSION})` }] },
    );
  }
  const record = raw as Record<string, unknown>;
  return { doc, raw: record, config: checkConfig(record, source, schema) };
}

// ---------------------------------------------------------------------- secrets

/** Key names that hold a secret in every section (each integration may declare more). */
const SECRET_KEY =
  /^(password|passwd|pass|token|secret|api_key|apikey|user_key|client_key|private_key|key|auth|authorization)$|_(password|token|secret|key)$/i;

/**
 * Which keys of a config section are secrets, beyond the names every section hides
 * (SECRET_KEY) and passwords inside URLs. Each integration declares its own
 * (`Integration.secrets`); the settings service redacts its section with it.
 */
export interface SecretSpec {
  /** Keys whose string values are secrets wherever they occur in the section. */
  keys?: readonly string[];
  /** Keys holding a map whose every value is a secret (a webhook's headers). */
  maps?: readonly string[];
  /** Keys that are secrets only in list items of one `type` (Pushover's user key). */
  byType?: Readonly<Record<string, readonly string[]>>;
}

/** Whether `key` (of the object `owner`) holds a secret under `spec`. */
export function isSecretKey(
  key: string,
  owner: Record<string, unknown>,
  spec: SecretSpec = {},
): boolean {
  if (SECRET_KEY.test(key) || spec.keys?.includes(key)) return true;
  const type = owner['type'];
  return typeof type === 'string' && (spec.byType?.[type]?.includes(key) ?? false);
}

const URL_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^/@:\s]*):([^/@\s]*)@/i;

/**
 * A copy of `value` (one config section) with every secret replaced by SECRET_MARKER: the
 * names every section hides, URL passwords, and what `spec` declares.
 */
export function redact<T>(value: T, spec: SecretSpec = {}): T {
  const walk = (v: unknown, key: string | undefined, owner: Record<string, unknown>): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x, undefined, {}));
    if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      const secretMap = key !== undefined && (spec.maps?.includes(key) ?? false);
      for (const [k, x] of Object.entries(o)) {
        if (secretMap && typeof x === 'string') out[k] = x === '' ? x : SECRET_MARKER;
        else out[k] = walk(x, k, o);
      }
      return out;
    }
    if (typeof v === 'string' && key !== undefined) {
      if (isSecretKey(key, owner, spec)) return v === '' ? v : SECRET_MARKER;
      if (URL_PASSWORD.test(v)) return v.replace(URL_PASSWORD, `$1:${SECRET_MARKER}@`);
    }
    return v;
  };
  return walk(value, undefined, {}) as T;
}

/**
 * `incoming` with every SECRET_MARKER replaced by the value saved at the same place in
 * `saved` (list items are matched by `id` when they have one, else by position). A marker
 * where nothing is saved is an error naming the key: the user must type the secret.
 */
export function mergeSecrets(incoming: unknown, saved: unknown, path = ''): unknown {
  if (incoming === SECRET_MARKER) {
    if (typeof saved === 'string' && saved !== '') return saved;
    throw new BmsError(
      'CONFIG_INVALID',
      `${path}: "${SECRET_MARKER}" stands for the saved secret, but none is saved; type the value`,
      { issues: [{ path, message: 'no saved secret to keep; type the value' }], field: path },
    );
  }
  if (typeof incoming === 'string' && incoming.includes(`:${SECRET_MARKER}@`)) {
    const m = URL_PASSWORD.exec(incoming);
    const old = typeof saved === 'string' ? URL_PASSWORD.exec(saved) : null;
    if (m && m[2] === SECRET_MARKER) {
      if (!old) {
        throw new BmsError(
          'CONFIG_INVALID',
          `${path}: the URL's password is "${SECRET_MARKER}" but no password is saved; type it`,
          { issues: [{ path, message: 'no saved URL password to keep' }], field: path },
        );
      }
      return incoming.replace(URL_PASSWORD, `$1:${old[2]}@`);
    }
  }
  if (Array.isArray(incoming)) {
    const old = Array.isArray(saved) ? saved : [];
    return incoming.map((x, i) => {
      const id = isObject(x) ? x['id'] : undefined;
      const match =
        id !== undefined ? old.find((o) => isObject(o) && o['id'] === id) : (old[i] as unknown);
      return mergeSecrets(x, match, `${path}[${i}]`);
    });
  }
  if (isObject(incoming)) {
    const old = isObject(saved) ? saved : {};
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(incoming)) {
      out[k] = mergeSecrets(v, old[k], path ? `${path}.${k}` : k);
    }
    return out;
  }
  return incoming;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// ---------------------------------------------------------------------- the file

function errnoOf(e: unknown): string | undefined {
  const c = (e as { code?: unknown }).code;
  return typeof c === 'string' ? c : undefined;
}

/** A write failure as a coded error that says what to do; nothing was changed. */
function refusal(path: string, what: string, e: unknown): BmsError {
  const code = errnoOf(e);
  const why = (e as Error).message ?? String(e);
  const kept = 'the config file was not changed';
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new BmsError(
      'STORAGE_FULL',
      `cannot save ${path}: the disk is full (${what}); ${kept}. Free some space and save again.`,
    );
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new BmsError(
      'STORAGE_READ_ONLY',
      `cannot save ${path}: ${dirname(path)} is not writable (${code}${code === 'EROFS' ? ', read-only file system' : ''}); ${kept}. Give the user running OpenBMS write access to that directory.`,
    );
  }
  return new BmsError('STORAGE_FAILED', `cannot save ${path} (${what}): ${why}; ${kept}`);
}

/** The gateway's config file (it may not exist yet: then the defaults are what it holds). */
export class ConfigFile {
  /** Absolute path. */
  readonly path: string;
  /** What the file is checked with (an integration registry's schema when it adds sections). */
  readonly schema: ConfigSchema;

  constructor(path: string, schema: ConfigSchema = configSchema) {
    this.schema = schema;
    const abs = resolve(path);
    // Follow a symbolic link so that saving replaces the target, not the link.
    let real = abs;
    try {
      real = realpathSync(abs);
    } catch {
      // not there yet
    }
    this.path = real;
  }

  /** The `--config` file, or ./openbms.yaml when the gateway runs without one. */
  static locate(explicit?: string): ConfigFile {
    return new ConfigFile(explicit ?? DEFAULT_CONFIG_FILE);
  }

  /** The same file, checked with another schema. */
  withSchema(schema: ConfigSchema): ConfigFile {
    return schema === this.schema ? this : new ConfigFile(this.path, schema);
  }

  get backupPath(): string {
    return `${this.path}.bak`;
  }

  exists(): boolean {
    return existsSync(this.path);
  }

  /** The file's text; with no file yet, the YAML of the defaults (what saving would start from). */
  text(): string {
    if (!this.exists()) return `version: ${CONFIG_VERSION}\ndemo: true\n`;
    try {
      return readFileSync(this.path, 'utf8');
    } catch (e) {
      throw new BmsError(
        'CONFIG_INVALID',
        `cannot read config file ${this.path}: ${(e as Error).message}`,
      );
    }
  }

  /** The file as written (no defaults filled in), checked. */
  raw(): Record<string, unknown> {
    return parseConfigText(this.text(), this.path, this.schema).raw;
  }

  /** The checked config (the defaults when there is no file). */
  read(): Config {
    return this.exists()
      ? parseConfigText(this.text(), this.path, this.schema).config
      : defaultConfig();
  }

  /** Whether a save can work (directory writable; the disk may still be full). */
  writable(): { writable: boolean; reason?: string } {
    const dir = dirname(this.path);
    try {
      if (!statSync(dir).isDirectory())
        return { writable: false, reason: `${dir} is not a directory` };
      accessSync(dir, constants.W_OK);
      if (this.exists()) accessSync(this.path, constants.W_OK);
      return { writable: true };
    } catch (e) {
      return { writable: false, reason: refusal(this.path, 'check', e).message };
    }
  }

  /**
   * Checks and writes a config (a full Config or the raw sections). Sections equal to the
   * saved ones keep their text and comments. Returns the checked config.
   */
  save(config: Config | Record<string, unknown>): Config {
    const nextRaw = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
    const next = checkConfig(nextRaw, this.path, this.schema);
    let doc: Document | undefined;
    let saved: Config | undefined;
    if (this.exists()) {
      try {
        const cur = parseConfigText(this.text(), this.path, this.schema);
        doc = cur.doc;
        saved = cur.config;
      } catch (e) {
        // A broken file is replaced as a whole (the .bak keeps it).
        if (!isBmsError(e) || e.code !== 'CONFIG_INVALID') throw e;
      }
    }
    if (!doc) {
      doc = new Document({});
      doc.commentBefore = ' OpenBMS configuration (saved by the web settings page)';
    }
    const nextKeys = new Set(Object.keys(nextRaw));
    for (const key of Object.keys(nextRaw)) {
      const k = key as keyof Config;
      if (saved && isDeepStrictEqual(saved[k], next[k])) continue;
      doc.set(key, doc.createNode(nextRaw[key]));
    }
    if (isMap(doc.contents)) {
      for (const pair of [...doc.contents.items]) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        if (!nextKeys.has(key)) doc.delete(pair.key);
      }
    }
    this.write(doc.toString({ lineWidth: 0 }));
    return next;
  }

  /** Checks YAML text (a restore upload) and writes it as is, comments included. */
  saveText(text: string): Config {
    const { config } = parseConfigText(text, 'the uploaded config', this.schema);
    this.write(text.endsWith('\n') ? text : `${text}\n`);
    return config;
  }

  /** Temp file + fsync + rename; the old file becomes <file>.bak. Nothing changes on failure. */
  private write(text: string): void {
    const dir = dirname(this.path);
    const tmp = `${this.path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    const drop = (p: string): void => {
      try {
        unlinkSync(p);
      } catch {
        // already gone
      }
    };
    try {
      const fd = openSync(tmp, 'wx', 0o600);
      try {
        writeSync(fd, text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      chmodSync(tmp, 0o600);
    } catch (e) {
      drop(tmp);
      throw refusal(this.path, 'writing a temporary file', e);
    }
    if (this.exists()) {
      // The previous file is kept by a hard link (no data copied, so a full disk cannot
      // leave a half-written backup); file systems without links get a copy.
      const bakTmp = `${this.backupPath}.tmp-${process.pid}`;
      try {
        drop(bakTmp);
        try {
          linkSync(this.path, bakTmp);
        } catch {
          copyFileSync(this.path, bakTmp);
        }
        chmodSync(bakTmp, 0o600);
        renameSync(bakTmp, this.backupPath);
      } catch (e) {
        drop(bakTmp);
        drop(tmp);
        throw refusal(this.path, `keeping the previous file as ${this.backupPath}`, e);
      }
    }
    try {
      renameSync(tmp, this.path);
    } catch (e) {
      drop(tmp);
      throw refusal(this.path, 'replacing the file', e);
    }
    try {
      const d = openSync(dir, 'r');
      try {
        fsyncSync(d);
      } finally {
        closeSync(d);
      }
    } catch {
      // Some file systems cannot sync a directory; the rename is done either way.
    }
  }
}
