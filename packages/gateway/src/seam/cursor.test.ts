import { describe, expect, it } from 'vitest';
import { StreamCursor } from './cursor.js';

const RUN1 = '01JD0000000000000000000RN1';
const RUN2 = '01JD0000000000000000000RN2';
const at = (seq: number, run = RUN1, gatewayId = 'GW1') => ({ gatewayId, run, seq });

describe('StreamCursor (a consumer of envelopes across a network)', () => {
  it('takes the next seq, drops redeliveries, counts what a gap missed', () => {
    const c = new StreamCursor();
    expect(c.accept(at(5))).toEqual({ kind: 'next' }); // joined mid-stream
    expect(c.accept(at(6))).toEqual({ kind: 'next' });
    expect(c.accept(at(6))).toEqual({ kind: 'duplicate' });
    expect(c.accept(at(4))).toEqual({ kind: 'duplicate' });
    expect(c.accept(at(9))).toEqual({ kind: 'gap', missed: 2 });
    expect(c.accept(at(8))).toEqual({ kind: 'duplicate' }); // late, after the gap was handled
    expect(c.position('GW1')).toEqual({ run: RUN1, seq: 9 });
  });

  it('follows a new run (the gateway restarted) and drops late envelopes of the old one', () => {
    const c = new StreamCursor();
    c.accept(at(40));
    expect(c.accept(at(1, RUN2))).toEqual({ kind: 'restart' });
    expect(c.accept(at(41, RUN1))).toEqual({ kind: 'duplicate' });
    expect(c.accept(at(2, RUN2))).toEqual({ kind: 'next' });
  });

  it('keeps gateways apart and resumes from a kept position', () => {
    const c = new StreamCursor();
    c.accept(at(3, RUN1, 'GW1'));
    expect(c.accept(at(3, RUN1, 'GW2'))).toEqual({ kind: 'next' });
    const again = new StreamCursor();
    again.resume('GW1', { run: RUN1, seq: 3 });
    expect(again.accept(at(3))).toEqual({ kind: 'duplicate' });
    expect(again.accept(at(5))).toEqual({ kind: 'gap', missed: 1 });
  });
});
