/**
 * Prometheus exposition of the gateway through prom-client: per-pack gauges labelled `pack`
 * and `site` in base units (volts, amperes, watts, celsius, coulombs, ratios), per-sensor
 * temperatures, MOSFET states, pack and build info, link counters, alarm gauges (present at
 * 0), the sample writer's health and, with `process: true`, prom-client's process and
 * Node.js metrics. Values are read from the gateway at each scrape (`collect`), nothing is
 * kept between scrapes. `promtool check metrics` passes on the output (render.test.ts).
 * Names and units of the pack gauges come from the metric catalog (STYLE.md point 6): the
 * catalog unit picks the base-unit suffix and the factor (mV -> volts, Ah -> coulombs).
 */
import { metric } from '@openbms/core';
import type { AlarmEvent } from '@openbms/storage';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { PackStatus } from '../../types.js';
import { GATEWAY_VERSION } from '../../version.js';
import type { WriterStatus } from '../../writer.js';

/** What the metrics read; a Gateway fits as is. */
export interface MetricsSource {
  packs(): PackStatus[];
  writerStatus?(): WriterStatus;
  activeAlarms?(): Pick<AlarmEvent, 'packId' | 'severity'>[];
}

/** Catalog unit -> Prometheus base-unit suffix and the factor into it. */
const UNITS: Record<string, [string, number]> = {
  V: ['volts', 1],
  mV: ['volts', 0.001],
  A: ['amperes', 1],
  W: ['watts', 1],
  '%': ['ratio', 0.01],
  '°C': ['celsius', 1],
  // Charge: the SI unit is the coulomb (1 Ah = 3600 C).
  Ah: ['coulombs', 3600],
};

/** Pack gauges, by catalog key (name = openbms_pack_<stem>_<unit suffix>). */
const PACK_GAUGES: readonly [key: string, stem: string][] = [
  ['voltage_v', 'voltage'],
  ['current_a', 'current'],
  ['power_w', 'power'],
  ['soc_pct', 'soc'],
  ['soh_pct', 'soh'],
  ['remaining_ah', 'remaining_charge'],
  ['full_ah', 'full_charge'],
  ['max_temp_c', 'temperature_max'],
  ['min_temp_c', 'temperature_min'],
  ['max_cell_mv', 'cell_voltage_max'],
  ['min_cell_mv', 'cell_voltage_min'],
  ['delta_cell_mv', 'cell_voltage_delta'],
  ['cycles', 'cycles'],
];

/** Named temperature sensors besides the numbered ones (`temps_c`). */
const NAMED_TEMPS: readonly [key: 'mos_temp_c' | 'board_temp_c' | 'env_temp_c', sensor: string][] =
  [
    ['mos_temp_c', 'mos'],
    ['board_temp_c', 'board'],
    ['env_temp_c', 'env'],
  ];

const SEVERITIES = ['warning', 'protection', 'fault'] as const;

/** The content type of the text format prom-client writes. */
export const METRICS_CONTENT_TYPE = new Registry().contentType;

const PACK = ['pack', 'site'] as const;

const TOTAL_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * The gateway's metrics on their own registry. `process` adds prom-client's default
 * process and Node.js metrics (one registry per gateway: they keep a small event-loop timer).
 */
export class GatewayMetrics {
  readonly registry = new Registry();

  constructor(
    private readonly src: MetricsSource,
    opts: { process?: boolean } = {},
  ) {
    const r = this.registry;
    if (opts.process) {
      collectDefaultMetrics({ register: r });
      // prom-client names three gauges `*_total`, which Prometheus keeps for counters
      // (promtool refuses them); their per-type siblings (`nodejs_active_handles` etc.) stay.
      for (const name of TOTAL_GAUGES) r.removeSingleMetric(name);
    }
    const packs = (): PackStatus[] => src.packs();
    const id = (p: PackStatus) => ({ pack: p.id, site: p.site });
    const gauge = <L extends string>(
      name: string,
      help: string,
      labelNames: readonly L[],
      fill: (set: (labels: Partial<Record<L, string>>, v: number) => void) => void,
    ): void => {
      new Gauge({
        name,
        help,
        labelNames,
        registers: [r],
        collect() {
          this.reset();
          fill((labels, v) => this.set(labels, v));
        },
      });
    };

    gauge('openbms_build_info', 'The gateway build (value 1)', ['version', 'nodejs'], (set) =>
      set({ version: GATEWAY_VERSION, nodejs: process.versions.node }, 1),
    );
    gauge(
      'openbms_pack_info',
      'Identity of each configured pack (value 1)',
      ['pack', 'site', 'bus', 'address', 'name', 'protocol', 'serial'],
      (set) => {
        for (const p of packs()) {
          set(
            {
              ...id(p),
              bus: p.bus,
              address: String(p.address),
              name: p.name,
              protocol: p.protocol,
              serial: p.snapshot?.info?.serial ?? '',
            },
            1,
          );
        }
      },
    );
    gauge('openbms_pack_online', '1 while the gateway hears the pack', PACK, (set) => {
      for (const p of packs()) set(id(p), p.online ? 1 : 0);
    });
    gauge(
      'openbms_pack_last_seen_timestamp_seconds',
      'Time of the last successful poll',
      PACK,
      (set) => {
        for (const p of packs()) if (p.lastSeen !== undefined) set(id(p), p.lastSeen / 1000);
      },
    );
    for (const [key, stem] of PACK_GAUGES) {
      const def = metric(key);
      if (!def) continue;
      const [suffix, factor] = def.unit ? (UNITS[def.unit] ?? ['', 1]) : ['', 1];
      gauge(`openbms_pack_${stem}${suffix ? `_${suffix}` : ''}`, def.label, PACK, (set) => {
        for (const p of packs()) {
          const v = (p.snapshot as Record<string, unknown> | undefined)?.[key];
          if (typeof v === 'number') set(id(p), v * factor);
        }
      });
    }
    gauge(
      'openbms_cell_voltage_volts',
      `${metric('cell_mv')?.label ?? 'Cell voltages'} (cell numbered from 1)`,
      [...PACK, 'cell'],
      (set) => {
        for (const p of packs()) {
          (p.snapshot?.cell_mv ?? []).forEach((mv, i) =>
            set({ ...id(p), cell: String(i + 1) }, mv / 1000),
          );
        }
      },
    );
    gauge(
      'openbms_pack_temperature_celsius',
      'Temperature per sensor: 1..N in the order the device reports them, or mos, board, env',
      [...PACK, 'sensor'],
      (set) => {
        for (const p of packs()) {
          const s = p.snapshot;
          (s?.temps_c ?? []).forEach((c, i) => set({ ...id(p), sensor: String(i + 1) }, c));
          for (const [k, sensor] of NAMED_TEMPS) {
            const v = s?.[k];
            if (typeof v === 'number') set({ ...id(p), sensor }, v);
          }
        }
      },
    );
    gauge(
      'openbms_pack_mos_on',
      '1 while the MOSFET (charge or discharge) is on',
      [...PACK, 'mos'],
      (set) => {
        for (const p of packs()) {
          for (const mos of ['charge', 'discharge'] as const) {
            const v = p.snapshot?.[`${mos}_mos`];
            if (typeof v === 'boolean') set({ ...id(p), mos }, v ? 1 : 0);
          }
        }
      },
    );

    // Link health, per pack (counters since the gateway started).
    const counters: [keyof PackStatus['link'], string, string][] = [
      ['polls', 'openbms_pack_polls_total', 'Read cycles completed'],
      ['failures', 'openbms_pack_poll_failures_total', 'Read cycles that failed'],
      ['requests', 'openbms_pack_requests_total', 'Requests sent'],
      ['retries', 'openbms_pack_retries_total', 'Requests retried'],
      ['timeouts', 'openbms_pack_timeouts_total', 'Requests that timed out'],
      ['checksum_errors', 'openbms_pack_checksum_errors_total', 'Replies with a bad checksum'],
    ];
    for (const [k, name, help] of counters) {
      new Counter({
        name,
        help,
        labelNames: PACK,
        registers: [r],
        collect() {
          this.reset();
          for (const p of packs()) this.inc(id(p), Number(p.link[k] ?? 0));
        },
      });
    }

    if (src.activeAlarms) {
      const active = src.activeAlarms.bind(src);
      // Every pack and severity has a sample, 0 when nothing is active: a rule on the series
      // sees the alarm clear, instead of the series vanishing.
      gauge('openbms_active_alarms', 'Active alarms by severity', [...PACK, 'severity'], (set) => {
        const counts = new Map<string, number>();
        for (const a of active()) {
          const k = `${a.packId}\u0000${a.severity}`;
          counts.set(k, (counts.get(k) ?? 0) + 1);
        }
        for (const p of packs()) {
          for (const severity of SEVERITIES) {
            set({ ...id(p), severity }, counts.get(`${p.id}\u0000${severity}`) ?? 0);
          }
        }
      });
    }

    if (src.writerStatus) {
      const w = src.writerStatus.bind(src);
      gauge(
        'openbms_store_buffered_samples',
        'Samples waiting to be stored (store lag)',
        [],
        (set) => set({}, w().buffered),
      );
      new Counter({
        name: 'openbms_store_written_samples_total',
        help: 'Samples stored',
        registers: [r],
        collect() {
          this.reset();
          this.inc(w().written);
        },
      });
      new Counter({
        name: 'openbms_store_dropped_samples_total',
        help: 'Samples dropped because the buffer was full',
        registers: [r],
        collect() {
          this.reset();
          this.inc(w().dropped);
        },
      });
      gauge('openbms_store_failing', '1 while the last store attempt failed', [], (set) =>
        set({}, w().lastError ? 1 : 0),
      );
    }
  }

  /** The text exposition (Prometheus 0.0.4). */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}

/** The gateway's metrics as text, without process metrics (tests, one-off renders). */
export function renderMetrics(src: MetricsSource): Promise<string> {
  return new GatewayMetrics(src).render();
}
