import { alarmContract, auditContract, userContract } from './testing/contract/records.js';
import { MemoryAlarms, MemoryAudit, MemoryUsers, memoryStorage } from './testing/memory.js';
import { describe, expect, it } from 'vitest';

const noop = (): void => undefined;

alarmContract('memory', () => ({ alarms: new MemoryAlarms(), close: noop }));
auditContract('memory', () => ({ audit: new MemoryAudit(), close: noop }));
userContract('memory', () => ({ users: new MemoryUsers(), close: noop }));

describe('memoryStorage', () => {
  it('gives fresh stores that share nothing with earlier ones', () => {
    const a = memoryStorage();
    a.users.create({ username: 'admin', role: 'admin', createdAt: 1 }, 'h');
    a.alarms.raise({
      packId: 'p',
      code: 'cell_ov',
      severity: 'protection',
      origin: 'bms',
      raisedAt: 1,
      message: '',
    });
    a.audit.append({ at: 1, user: 'admin', action: 'login', result: 'ok' });
    const b = memoryStorage();
    expect([b.users.count(), b.alarms.list().length, b.audit.list().length]).toEqual([0, 0, 0]);
  });
});
