/** /metrics text of a real Gateway (simulated bus, two packs), parsed back. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../gateway.js';
import { simGateway } from '../../testing/modbus.js';
import { renderMetrics } from './index.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the text format: every sample belongs to a family declared before it. */
function parse(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.trimEnd().split('\n')) {
    const t = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter)$/.exec(line);
    if (t) {
      expect(types.has(t[1]!), `TYPE twice: ${t[1]}`).toBe(false);
      types.set(t[1]!, t[2]!);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    expect(m, line).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const l of (m![2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    expect(types.has(m![1]!), `sample before TYPE: ${line}`).toBe(true);
    const value = Number(m![3]);
    expect(Number.isNaN(value) && m![3] !== 'NaN', line).toBe(false);
    samples.push({ name: m![1]!, labels, value });
  }
  return { types, samples };
}

let gw: Gateway;
let stop: () => Promise<void>;
beforeAll(async () => {
  ({ gw, stop } = await simGateway('pylontech', [2, 3]));
});
afterAll(async () => {
  await stop?.();
});

describe('prometheus metrics', () => {
  it('has per-pack gauges labelled pack and site with the API values, and health counters', () => {
    const packs = gw.packs();
    const { types, samples } = parse(renderMetrics(gw));
    const get = (name: string, pack: string): number | undefined =>
      samples.find((s) => s.name === name && s.labels.pack === pack)?.value;
    for (const p of packs) {
      const s = p.snapshot!;
      expect(get('openbms_pack_voltage_volts', p.id)).toBe(s.voltage_v);
      expect(get('openbms_pack_current_amperes', p.id)).toBe(s.current_a);
      expect(get('openbms_pack_soc_percent', p.id)).toBe(s.soc_pct);
      expect(get('openbms_pack_temperature_max_celsius', p.id)).toBe(s.max_temp_c);
      expect(get('openbms_pack_temperature_min_celsius', p.id)).toBe(s.min_temp_c);
      expect(get('openbms_pack_cell_voltage_delta_volts', p.id)).toBeCloseTo(
        s.delta_cell_mv! / 1000,
        9,
      );
      expect(get('openbms_pack_online', p.id)).toBe(1);
      expect(get('openbms_pack_polls_total', p.id)).toBeGreaterThan(0);
      expect(get('openbms_pack_poll_failures_total', p.id)).toBe(p.link.failures);
      expect(get('openbms_pack_retries_total', p.id)).toBe(p.link.retries);
      expect(
        samples.filter((x) => x.name === 'openbms_cell_voltage_volts' && x.labels.pack === p.id),
      ).toHaveLength(s.cell_mv!.length);
    }
    for (const s of samples.filter((x) => x.name.startsWith('openbms_pack_'))) {
      expect(s.labels.site).toBe('s');
    }
    expect(types.get('openbms_pack_polls_total')).toBe('counter');
    expect(types.get('openbms_pack_voltage_volts')).toBe('gauge');
    const lag = samples.find((s) => s.name === 'openbms_store_buffered_samples');
    expect(lag?.value).toBe(gw.writerStatus().buffered);
    expect(samples.some((s) => s.name === 'openbms_store_written_samples_total')).toBe(true);
  });

  it('escapes label values and renders a pack with no snapshot as online 0 only', () => {
    const text = renderMetrics({
      packs: () => [
        {
          id: 'a"b\\c\nd',
          name: 'x',
          site: 'site "1"',
          bus: 'b',
          address: 1,
          protocol: 'jk',
          chemistry: 'lfp',
          online: false,
          link: {
            polls: 0,
            failures: 3,
            requests: 3,
            replies: 0,
            retries: 1,
            timeouts: 3,
            checksum_errors: 0,
          },
        },
      ],
      activeAlarms: () => [{ packId: 'a"b\\c\nd', severity: 'fault' }],
    });
    const { samples } = parse(text);
    const online = samples.find((s) => s.name === 'openbms_pack_online')!;
    expect(online.labels).toEqual({ pack: 'a"b\\c\nd', site: 'site "1"' });
    expect(online.value).toBe(0);
    expect(samples.some((s) => s.name === 'openbms_pack_voltage_volts')).toBe(false);
    expect(samples.find((s) => s.name === 'openbms_active_alarms')?.labels.severity).toBe('fault');
    expect(samples.find((s) => s.name === 'openbms_pack_timeouts_total')?.value).toBe(3);
  });
});
