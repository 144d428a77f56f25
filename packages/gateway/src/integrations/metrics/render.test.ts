/**
 * /metrics text of a real Gateway (simulated bus, two packs), parsed back, and checked by
 * Prometheus's own linter (`promtool check metrics`, Debian package prometheus).
 */
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../gateway.js';
import { simGateway } from '../../testing/modbus.js';
import { GatewayMetrics, renderMetrics } from './index.js';

const hasPromtool = spawnSync('promtool', ['--version']).status === 0;

/** `promtool check metrics` on a text: its exit code and what it says. */
function promtool(text: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('promtool', ['check', 'metrics']);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, out }));
    p.stdin.end(text);
  });
}

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
    if (line === '') continue;
    const t = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter|histogram|summary)$/.exec(line);
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
    // Prometheus reads NaN in any case (prom-client writes "Nan").
    expect(Number.isNaN(value) && !/^nan$/i.test(m![3]!), line).toBe(false);
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
  it('has per-pack gauges labelled pack and site with the API values, and health counters', async () => {
    const packs = gw.packs();
    const { types, samples } = parse(await renderMetrics(gw));
    const get = (name: string, pack: string): number | undefined =>
      samples.find((s) => s.name === name && s.labels.pack === pack)?.value;
    for (const p of packs) {
      const s = p.snapshot!;
      expect(get('openbms_pack_voltage_volts', p.id)).toBe(s.voltage_v);
      expect(get('openbms_pack_current_amperes', p.id)).toBe(s.current_a);
      expect(get('openbms_pack_soc_ratio', p.id)).toBeCloseTo(s.soc_pct! / 100, 9);
      expect(get('openbms_pack_remaining_charge_coulombs', p.id)).toBeCloseTo(
        s.remaining_ah! * 3600,
        6,
      );
      const temps = samples.filter(
        (x) => x.name === 'openbms_pack_temperature_celsius' && x.labels.pack === p.id,
      );
      expect(temps.filter((x) => /^\d+$/.test(x.labels.sensor!)).map((x) => x.value)).toEqual(
        s.temps_c,
      );
      expect(temps.map((x) => x.labels.sensor)).toContain('1');
      const mos = samples.filter((x) => x.name === 'openbms_pack_mos_on' && x.labels.pack === p.id);
      expect(Object.fromEntries(mos.map((x) => [x.labels.mos, x.value]))).toEqual({
        charge: s.charge_mos ? 1 : 0,
        discharge: s.discharge_mos ? 1 : 0,
      });
      const info = samples.find((x) => x.name === 'openbms_pack_info' && x.labels.pack === p.id);
      expect(info?.labels).toMatchObject({
        name: p.name,
        protocol: 'pylontech',
        site: 's',
        bus: 'b',
        address: String(p.address),
      });
      // Alarm gauges are there at 0 for every severity when nothing is active.
      const alarms = samples.filter(
        (x) => x.name === 'openbms_active_alarms' && x.labels.pack === p.id,
      );
      expect(alarms.map((x) => x.labels.severity).sort()).toEqual([
        'fault',
        'protection',
        'warning',
      ]);
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

  it('escapes label values and renders a pack with no snapshot as online 0 only', async () => {
    const text = await renderMetrics({
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
    const alarms = samples.filter((s) => s.name === 'openbms_active_alarms');
    expect(alarms.map((a) => [a.labels.severity, a.value])).toEqual([
      ['warning', 0],
      ['protection', 0],
      ['fault', 1],
    ]);
    expect(samples.find((s) => s.name === 'openbms_pack_timeouts_total')?.value).toBe(3);
  });
});

describe('promtool', () => {
  it.skipIf(!hasPromtool)(
    hasPromtool
      ? 'promtool check metrics passes on the full exposition (process and Node.js metrics too)'
      : 'SKIPPED, promtool is not installed (apt-get install prometheus)',
    async () => {
      const m = new GatewayMetrics(
        {
          packs: () => gw.packs(),
          writerStatus: () => gw.writerStatus(),
          activeAlarms: () => gw.activeAlarms(),
        },
        { process: true },
      );
      const text = await m.render();
      const r = await promtool(text);
      expect(r.out).toBe('');
      expect(r.code).toBe(0);
      const { samples, types } = parse(text);
      expect(samples.find((x) => x.name === 'openbms_build_info')?.labels.version).toMatch(
        /^\d+\.\d+\.\d+/,
      );
      expect(samples.some((x) => x.name === 'process_resident_memory_bytes')).toBe(true);
      expect(samples.some((x) => x.name === 'nodejs_heap_size_used_bytes')).toBe(true);
      console.log(
        `promtool check metrics: ${types.size} families, ${samples.length} samples, 0 problems`,
      );
      // The linter does fail on what it should (a non-base unit), so the pass above means something.
      const bad = await promtool(
        '# HELP x_milliseconds t\n# TYPE x_milliseconds gauge\nx_milliseconds 1\n',
      );
      expect(bad.code).not.toBe(0);
      expect(bad.out).toMatch(/base unit/);
    },
  );
});
