/**
 * Prometheus text exposition (format 0.0.4) of the gateway: per-pack gauges labelled
 * `pack` and `site`, per-pack link counters, and the sample writer's health.
 *
 * Written by hand rather than with prom-client: the output is a dozen metric families
 * rendered from a snapshot on each scrape, with no registry, histograms or process
 * collectors needed, and the format (HELP/TYPE lines, escaped label values) is small.
 * Names and units of the pack gauges come from the metric catalog (STYLE.md point 6):
 * the catalog unit picks the base-unit suffix and the factor (mV -> volts).
 */
import { metric } from '@openbms/core';
import type { AlarmEvent } from '@openbms/storage';
import type { PackStatus } from '../../types.js';
import type { WriterStatus } from '../../writer.js';

/** What renderMetrics reads; a Gateway fits as is. */
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
  '%': ['percent', 1],
  '°C': ['celsius', 1],
  Ah: ['ampere_hours', 1],
};

/** Pack gauges, by catalog key (name = openbms_pack_<stem>_<unit suffix>). */
const PACK_GAUGES: readonly [key: string, stem: string][] = [
  ['voltage_v', 'voltage'],
  ['current_a', 'current'],
  ['power_w', 'power'],
  ['soc_pct', 'soc'],
  ['soh_pct', 'soh'],
  ['remaining_ah', 'remaining_capacity'],
  ['max_temp_c', 'temperature_max'],
  ['min_temp_c', 'temperature_min'],
  ['max_cell_mv', 'cell_voltage_max'],
  ['min_cell_mv', 'cell_voltage_min'],
  ['delta_cell_mv', 'cell_voltage_delta'],
  ['cycles', 'cycles'],
];

type Labels = Record<string, string>;

const escape = (v: string): string =>
  v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const helpText = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

const num = (v: number): string =>
  Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v);

class Out {
  private readonly lines: string[] = [];
  family(name: string, type: 'gauge' | 'counter', help: string, samples: [Labels, number][]): void {
    if (!samples.length) return;
    this.lines.push(`# HELP ${name} ${helpText(help)}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of samples) {
      const l = Object.entries(labels)
        .map(([k, x]) => `${k}="${escape(x)}"`)
        .join(',');
      this.lines.push(`${name}${l ? `{${l}}` : ''} ${num(v)}`);
    }
  }
  text(): string {
    return this.lines.join('\n') + '\n';
  }
}

/** The content type to serve it with. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function renderMetrics(src: MetricsSource): string {
  const out = new Out();
  const packs = src.packs();
  const id = (p: PackStatus): Labels => ({ pack: p.id, site: p.site });

  out.family(
    'openbms_pack_online',
    'gauge',
    '1 while the gateway hears the pack',
    packs.map((p) => [id(p), p.online ? 1 : 0]),
  );
  out.family(
    'openbms_pack_last_seen_timestamp_seconds',
    'gauge',
    'Time of the last successful poll',
    packs.flatMap((p) => (p.lastSeen === undefined ? [] : [[id(p), p.lastSeen / 1000]])),
  );
  for (const [key, stem] of PACK_GAUGES) {
    const def = metric(key);
    if (!def) continue;
    const [suffix, factor] = def.unit ? (UNITS[def.unit] ?? ['', 1]) : ['', 1];
    const name = `openbms_pack_${stem}${suffix ? `_${suffix}` : ''}`;
    out.family(
      name,
      'gauge',
      def.label,
      packs.flatMap((p) => {
        const v = (p.snapshot as Record<string, unknown> | undefined)?.[key];
        return typeof v === 'number' ? [[id(p), v * factor] as [Labels, number]] : [];
      }),
    );
  }
  out.family(
    'openbms_cell_voltage_volts',
    'gauge',
    metric('cell_mv')?.label ?? 'Cell voltages',
    packs.flatMap((p) =>
      (p.snapshot?.cell_mv ?? []).map(
        (mv, i) => [{ ...id(p), cell: String(i + 1) }, mv / 1000] as [Labels, number],
      ),
    ),
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
    out.family(
      name,
      'counter',
      help,
      packs.map((p) => [id(p), Number(p.link[k] ?? 0)]),
    );
  }

  if (src.activeAlarms) {
    const counts = new Map<string, number>();
    for (const a of src.activeAlarms()) {
      const k = `${a.packId}\u0000${a.severity}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const site = new Map(packs.map((p) => [p.id, p.site]));
    out.family(
      'openbms_active_alarms',
      'gauge',
      'Active alarms by severity',
      [...counts].map(([k, n]) => {
        const [pack, severity] = k.split('\u0000') as [string, string];
        return [{ pack, site: site.get(pack) ?? '', severity }, n];
      }),
    );
  }

  const w = src.writerStatus?.();
  if (w) {
    out.family(
      'openbms_store_buffered_samples',
      'gauge',
      'Samples waiting to be stored (store lag)',
      [[{}, w.buffered]],
    );
    out.family('openbms_store_written_samples_total', 'counter', 'Samples stored', [
      [{}, w.written],
    ]);
    out.family(
      'openbms_store_dropped_samples_total',
      'counter',
      'Samples dropped because the buffer was full',
      [[{}, w.dropped]],
    );
    out.family('openbms_store_failing', 'gauge', '1 while the last store attempt failed', [
      [{}, w.lastError ? 1 : 0],
    ]);
  }
  return out.text();
}
