import { alarmContract, auditContract, userContract } from './testing/contract/records.js';
import {
  MemoryAlarms,
  MemoryAudit,
  MemoryUsers,
  TEST_ORIGIN,
  memoryStorage,
} from './testing/memory.js';
import { localScope } from './index.js';
import { describe, expect, it } from 'vitest';

const noop = (): void => undefined;

alarmContract('memory', () => ({ alarms: new MemoryAlarms(), close: noop }));
auditContract('memory', () => ({ audit: new MemoryAudit(), close: noop }));
userContract('memory', () => ({ users: new MemoryUsers(), close: noop }));

describe('memoryStorage', () => {
  it('gives fresh stores that share nothing with earlier ones', async () => {
    const a = memoryStorage();
    await a.users.create(TEST_ORIGIN, { username: 'admin', role: 'admin', createdAt: 1 }, 'h');
    await a.alarms.raise(TEST_ORIGIN, {
      packId: 'p',
      code: 'cell_ov',
      severity: 'protection',
      origin: 'bms',
      raisedAt: 1,
      message: '',
    });
    await a.audit.append(TEST_ORIGIN, { at: 1, user: 'admin', action: 'login', result: 'ok' });
    const b = memoryStorage();
    const s = localScope(TEST_ORIGIN);
    expect([
      await b.users.count(s),
      (await b.alarms.list(s)).length,
      (await b.audit.list(s)).length,
    ]).toEqual([0, 0, 0]);
  });
});
