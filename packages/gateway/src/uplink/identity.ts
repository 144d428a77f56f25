/**
 * A collector's identity (docs/collectors.md "Linking a collector to a cloud"): its serial
 * number and claim code, made from crypto randomness on its first start, and the broker
 * credentials the cloud gives it once claimed. Kept in `<data dir>/collector.json`, mode 0600
 * (the claim code and the password are secrets: never logged).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { CLAIM_CODE_PATTERN, serialSchema } from '@openbms/contract/gateway';
import { BmsError } from '@openbms/core';

export const COLLECTOR_FILE = 'collector.json';

/** Crockford's base-32 alphabet (no I, L, O, U). */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** `n` characters of Crockford base 32, each from 5 random bits. */
export function randomCrockford(n: number): string {
  const bytes = randomBytes(n);
  let s = '';
  for (const b of bytes) s += CROCKFORD[b & 31];
  return s;
}

export const makeSerial = (): string => `OB${randomCrockford(10)}`;
export const makeClaimCode = (): string => randomCrockford(8);

const credentialsSchema = z.object({
  username: z.string().min(1),
  password: z.string().min(1),
  broker: z.string().min(1),
  org_id: z.string().optional(),
  plant_id: z.string().optional(),
});
export type CollectorCredentials = z.infer<typeof credentialsSchema>;

const fileSchema = z.object({
  serial: serialSchema,
  claim_code: z.string().regex(CLAIM_CODE_PATTERN, 'must be 8 characters of 0-9 A-Z'),
  credentials: credentialsSchema.optional(),
});
export type CollectorIdentity = z.infer<typeof fileSchema>;

/** The identity kept in `dataDir`, undefined when there is none yet. */
export function readCollectorIdentity(dataDir: string): CollectorIdentity | undefined {
  const path = join(dataDir, COLLECTOR_FILE);
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new BmsError('CONFIG_INVALID', `${path} is not valid JSON: ${(e as Error).message}`);
  }
  const r = fileSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new BmsError('CONFIG_INVALID', `${path}: ${i.path.join('.') || '(file)'} ${i.message}`, {
      field: i.path.join('.'),
    });
  }
  return r.data;
}

/** Writes the identity (0600, through a temporary file so a crash leaves the old one whole). */
export function writeCollectorIdentity(dataDir: string, id: CollectorIdentity): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, COLLECTOR_FILE);
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(id, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** The identity in `dataDir`, made (and kept) now when there is none. */
export function ensureCollectorIdentity(dataDir: string): CollectorIdentity {
  const found = readCollectorIdentity(dataDir);
  if (found) return found;
  const made = { serial: makeSerial(), claim_code: makeClaimCode() };
  writeCollectorIdentity(dataDir, made);
  return made;
}
