/** tracker:// endpoints: opened from the registry, closed when their provider goes. */
import { describe, expect, it } from 'vitest';
import { Listeners } from './transport.js';
import { createTransport } from './open.js';
import { parseTrackerUrl, virtualLinks, VirtualLinks, VirtualTransport } from './virtual.js';

function provider() {
  const data = new Listeners<[Uint8Array]>();
  const closed = new Listeners<[]>();
  const sent: number[][] = [];
  return {
    sent,
    link: {
      send: (b: Uint8Array) => void sent.push([...b]),
      onData: (fn: (c: Uint8Array) => void) => data.add(fn),
      onClose: (fn: () => void) => closed.add(fn),
    },
    receive: (b: number[]) => data.emit(Uint8Array.from(b)),
    end: () => closed.emit(),
  };
}

describe('virtual links (tracker://)', () => {
  it('parses the endpoint and refuses a malformed one', () => {
    expect(parseTrackerUrl('tracker://13800000001')).toBe('13800000001');
    expect(parseTrackerUrl('/dev/ttyUSB0')).toBeUndefined();
    expect(() => parseTrackerUrl('tracker://a b')).toThrow(/tracker:\/\/<serial>/);
    expect(createTransport('tracker://x1', { baud: 9600 })).toBeInstanceOf(VirtualTransport);
  });

  it('fails to open while the tracker is not connected', async () => {
    const t = new VirtualTransport('tracker://nobody', new VirtualLinks());
    await expect(t.open()).rejects.toMatchObject({ code: 'TRANSPORT_OPEN_FAILED' });
  });

  it('carries bytes both ways and closes when the provider goes', async () => {
    const reg = new VirtualLinks();
    const p = provider();
    const off = reg.register('tracker://T1', p.link);
    const t = new VirtualTransport('tracker://t1', reg);
    await t.open();
    const got: number[] = [];
    t.onData((c) => got.push(...c));
    let closedWith: Error | undefined;
    t.onClose((e) => (closedWith = e));
    await t.write(Uint8Array.from([1, 2]));
    p.receive([3, 4]);
    expect(p.sent).toEqual([[1, 2]]);
    expect(got).toEqual([3, 4]);
    p.end();
    off();
    expect(closedWith).toMatchObject({ code: 'TRANSPORT_CLOSED' });
    expect(t.isOpen).toBe(false);
    await expect(t.write(Uint8Array.from([5]))).rejects.toMatchObject({ code: 'TRANSPORT_CLOSED' });
    await expect(t.open()).rejects.toMatchObject({ code: 'TRANSPORT_OPEN_FAILED' });
  });

  it('unregisters only its own link (a tracker back on a new connection stays)', () => {
    const a = provider();
    const b = provider();
    const offA = virtualLinks.register('tracker://same', a.link);
    const offB = virtualLinks.register('tracker://same', b.link);
    offA();
    expect(virtualLinks.get('tracker://same')).toBe(b.link);
    offB();
    expect(virtualLinks.has('tracker://same')).toBe(false);
  });
});
