/**
 * Contract suite of the instruction store (issue 17, storage instructions.ts): created queued,
 * listed newest first per device, claimed by one node only and not after its expiry, a final
 * state never overwritten, expiry and the reply timeout, the armed state kept unless a later
 * one is stored, and bad input refused naming the field.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InstructionStore, NewInstruction } from '../../index.js';
import { expectCode } from './records.js';

type Stores = { instructions: InstructionStore; close(): unknown };
type Opener = () => Stores | Promise<Stores>;

const T0 = Date.UTC(2026, 11, 7, 8, 0, 0);
const DEV_A = '01JD00000000000000000DEVA1';
const DEV_B = '01JD00000000000000000DEVB1';
const ORG = '01JD00000000000000000ORG01';

const ask = (deviceId: string, i: number, more: Partial<NewInstruction> = {}): NewInstruction => ({
  deviceId,
  orgId: ORG,
  kind: 'locate',
  createdAt: T0 + i * 1000,
  createdBy: '01JD00000000000000000USER1',
  createdByName: 'ann',
  expiresAt: T0 + i * 1000 + 600_000,
  ...more,
});

export function instructionContract(name: string, open: Opener): void {
  describe(`${name}: InstructionStore contract`, () => {
    let s: Stores;
    let st: InstructionStore;
    beforeEach(async () => {
      s = await open();
      st = s.instructions;
    });
    afterEach(async () => {
      await s.close();
    });

    it('creates queued instructions and lists a device’s newest first', async () => {
      const a = await st.create(ask(DEV_A, 0));
      const b = await st.create(ask(DEV_A, 1, { kind: 'arm' }));
      await st.create(ask(DEV_B, 2));
      expect(a).toMatchObject({
        deviceId: DEV_A,
        orgId: ORG,
        kind: 'locate',
        state: 'queued',
        createdAt: T0,
        createdByName: 'ann',
        expiresAt: T0 + 600_000,
      });
      expect(a.sentAt).toBeUndefined();
      expect((await st.list(DEV_A)).map((i) => i.id)).toEqual([b.id, a.id]);
      expect((await st.list(DEV_A, 1)).map((i) => i.id)).toEqual([b.id]);
      expect(await st.get(a.id)).toEqual(a);
      expect(await st.get('01JD00000000000000000NOPE0')).toBeUndefined();
    });

    it('hands queued instructions of the devices asked, oldest first, until their expiry', async () => {
      const a0 = await st.create(ask(DEV_A, 0));
      const a1 = await st.create(ask(DEV_A, 1));
      const b = await st.create(ask(DEV_B, 2));
      expect((await st.queued([DEV_A], T0 + 5000)).map((i) => i.id)).toEqual([a0.id, a1.id]);
      expect((await st.queued([DEV_A, DEV_B], T0 + 5000)).map((i) => i.id)).toEqual([
        a0.id,
        a1.id,
        b.id,
      ]);
      expect(await st.queued([], T0)).toEqual([]);
      // a0 expires at T0 + 600 s; a1 one second later
      expect((await st.queued([DEV_A], T0 + 600_000)).map((i) => i.id)).toEqual([a1.id]);
    });

    it('lets one node claim an instruction, once, and never after its expiry', async () => {
      const a = await st.create(ask(DEV_A, 0));
      expect(await st.claim(a.id, 'node-1', T0 + 10)).toBe(true);
      expect(await st.claim(a.id, 'node-2', T0 + 11)).toBe(false);
      expect(await st.get(a.id)).toMatchObject({
        state: 'sent',
        sentAt: T0 + 10,
        sentBy: 'node-1',
      });
      expect(await st.queued([DEV_A], T0 + 20)).toEqual([]);
      const late = await st.create(ask(DEV_A, 1));
      expect(await st.claim(late.id, 'node-1', late.expiresAt)).toBe(false);
    });

    it('finishes a sent instruction once with its result and reply', async () => {
      const a = await st.create(ask(DEV_A, 0));
      const outcome = { state: 'replied' as const, at: T0 + 50, result: 'ok', reply: 'OK\r\nDONE' };
      expect(await st.finish(a.id, outcome)).toBe(false); // still queued: not sent
      await st.claim(a.id, 'node-1', T0 + 10);
      expect(await st.finish(a.id, outcome)).toBe(true);
      expect(await st.finish(a.id, { state: 'failed', at: T0 + 60, result: 'failure' })).toBe(
        false,
      );
      expect(await st.get(a.id)).toMatchObject({
        state: 'replied',
        repliedAt: T0 + 50,
        result: 'ok',
        reply: 'OK  DONE', // control characters of a terminal's text become spaces
      });
      const long = await st.create(ask(DEV_A, 1));
      await st.claim(long.id, 'node-1', T0 + 1010);
      await st.finish(long.id, {
        state: 'replied',
        at: T0 + 1020,
        result: 'ok',
        reply: 'x'.repeat(5000),
      });
      expect((await st.get(long.id))!.reply).toHaveLength(1000);
    });

    it('expires queued instructions and fails unanswered ones', async () => {
      const a = await st.create(ask(DEV_A, 0, { expiresAt: T0 + 1000 }));
      const b = await st.create(ask(DEV_A, 1));
      const c = await st.create(ask(DEV_B, 2));
      await st.claim(b.id, 'node-1', T0 + 1500);
      await st.claim(c.id, 'node-1', T0 + 3000);
      expect(await st.expire(T0 + 999)).toBe(0);
      expect(await st.expire(T0 + 1000)).toBe(1);
      expect(await st.timeOut(T0 + 2000, T0 + 62_000)).toBe(1);
      expect((await st.get(a.id))!.state).toBe('expired');
      expect(await st.get(b.id)).toMatchObject({
        state: 'failed',
        result: 'no_reply',
        repliedAt: T0 + 62_000,
      });
      expect((await st.get(c.id))!.state).toBe('sent');
    });

    it('keeps the armed state unless a later one is stored', async () => {
      expect(await st.trackerState(DEV_A)).toBeUndefined();
      await st.setArmed({
        deviceId: DEV_A,
        armed: true,
        armedAt: T0 + 100,
        armedSource: 'instruction',
      });
      await st.setArmed({ deviceId: DEV_A, armed: false, armedAt: T0 + 50, armedSource: 'report' });
      expect(await st.trackerState(DEV_A)).toEqual({
        deviceId: DEV_A,
        armed: true,
        armedAt: T0 + 100,
        armedSource: 'instruction',
      });
      await st.setArmed({
        deviceId: DEV_A,
        armed: false,
        armedAt: T0 + 200,
        armedSource: 'report',
      });
      expect(await st.trackerState(DEV_A)).toMatchObject({ armed: false, armedSource: 'report' });
      expect(await st.trackerState(DEV_B)).toBeUndefined();
    });

    it('refuses bad input naming the field', async () => {
      await expectCode(
        () => st.create({ ...ask(DEV_A, 0), kind: 'selfdestruct' as never }),
        'REQUEST_INVALID',
        'kind',
      );
      await expectCode(
        () => st.create({ ...ask(DEV_A, 0), expiresAt: T0 - 1 }),
        'REQUEST_INVALID',
        'expiresAt',
      );
      await expectCode(
        () => st.create({ ...ask(DEV_A, 0), deviceId: '' }),
        'REQUEST_INVALID',
        'deviceId',
      );
      await expectCode(() => st.list(DEV_A, 0), 'REQUEST_INVALID', 'limit');
      await expectCode(
        () => st.finish(DEV_A, { state: 'queued' as never, at: T0, result: 'ok' }),
        'REQUEST_INVALID',
        'state',
      );
      await expectCode(
        () =>
          st.setArmed({
            deviceId: DEV_A,
            armed: 'yes' as never,
            armedAt: T0,
            armedSource: 'report',
          }),
        'REQUEST_INVALID',
        'armed',
      );
    });
  });
}
