/**
 * The Records tab (seed 004's on-board data and alarm records, seed 002's history events):
 * Read pulls the BMS's records page by page (each page is one request; the gateway takes the
 * bus between polls for it), Stop ends the reading after the page in flight, Clear empties
 * the list here, Export saves what was read as CSV (core's recordsCsv, the API's own format),
 * Erase deletes the records on the BMS (confirmed; only where the protocol allows it).
 * A family without records says so plainly and points to the records OpenBMS keeps itself.
 */
import { recordsCsv, wallText, type BmsRecord } from '@openbms/core';
import type {
  Capabilities,
  CommandOutcome,
  RecordsPageView,
  RecordView,
} from '@openbms/contract/api';
import { useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { serverText } from '../../i18n/server-text';
import { Link } from 'wouter';
import { api, packPath, type ApiError } from '../../api/client';
import { useApi } from '../../api/hooks';
import { useAuth } from '../../app/auth';
import { useFmt } from '../../i18n/format';
import { Badge, Card, Confirm, ErrorBox, Spinner, Tabs } from '../../ui';
import type { TabProps } from '../../app/pack-tab';
import './control.css';

/** The most records one Read collects before it stops by itself. */
export const READ_LIMIT = 500;

type Kind = 'all' | 'data' | 'alarm';

export default function RecordsTab(props: TabProps): ReactNode {
  const { pack } = props;
  const caps = useApi<Capabilities>(`${packPath(pack.id)}/capabilities`);
  if (caps.error) return <ErrorBox error={caps.error} />;
  const c = caps.data;
  if (!c) return <Spinner />;
  if (!c.operations.records) return <Unsupported packId={pack.id} protocol={c.protocol} />;
  return <Records pack={pack} caps={c} />;
}

function Unsupported(props: { packId: string; protocol: string }): ReactNode {
  const { t } = useTranslation('control');
  const tab = (id: string) => `/packs/${encodeURIComponent(props.packId)}/${id}`;
  return (
    <Card title={t('records.title')} testId="records-tab">
      <p className="records-lead" data-testid="records-unsupported">
        {t('records.unsupported', { protocol: props.protocol })}
      </p>
      <p className="muted">{t('records.why', { protocol: props.protocol })}</p>
      <p>{t('records.instead')}</p>
      <p className="records-links">
        <Link href={tab('history')}>{t('records.history')}</Link>
        <Link href={tab('alarms')}>{t('records.alarms')}</Link>
        <Link href="/files">{t('records.files')}</Link>
      </p>
    </Card>
  );
}

function Records(props: TabProps & { caps: Capabilities }): ReactNode {
  const { pack, caps } = props;
  const { t, i18n } = useTranslation('control');
  const fmt = useFmt();
  const { can } = useAuth();
  const base = packPath(pack.id);
  const [records, setRecords] = useState<RecordView[]>([]);
  const [reading, setReading] = useState(false);
  const [done, setDone] = useState<'end' | 'stopped' | 'limit' | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [kind, setKind] = useState<Kind>('all');
  const [zone, setZone] = useState<string | undefined>(undefined);
  const [eraseOpen, setEraseOpen] = useState(false);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const stop = useRef(false);
  const perRead = caps.records?.per_read ?? 10;
  const gated = caps.unverified['clear_records'] !== undefined && !caps.allow_unverified;
  const eraseWhy = !caps.operations.clear_records
    ? t('notSupported', { protocol: caps.protocol })
    : !can('operator')
      ? t('needsOperator')
      : gated
        ? t('unverified', { why: caps.unverified['clear_records'] })
        : undefined;

  const read = async (): Promise<void> => {
    stop.current = false;
    setReading(true);
    setDone(undefined);
    setError(undefined);
    setNotice(undefined);
    setRecords([]);
    const got: RecordView[] = [];
    let next: number | null = 0;
    try {
      while (next !== null) {
        if (stop.current) {
          setDone('stopped');
          return;
        }
        if (got.length >= READ_LIMIT) {
          setDone('limit');
          return;
        }
        const page: RecordsPageView = await api<RecordsPageView>(
          `${base}/records?start=${next}&count=${perRead}`,
        );
        got.push(...page.records);
        setRecords([...got]);
        setZone(page.time_zone);
        next = page.next;
      }
      setDone('end');
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setReading(false);
    }
  };

  const exportCsv = (): void => {
    const url = URL.createObjectURL(
      new Blob([recordsCsv(shown as BmsRecord[])], { type: 'text/csv;charset=utf-8' }),
    );
    const a = document.createElement('a');
    a.href = url;
    a.download = `${pack.id.replace(/[^A-Za-z0-9_.-]+/g, '-')}-records${kind === 'all' ? '' : `-${kind}`}.csv`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };

  const erase = async (): Promise<void> => {
    setEraseOpen(false);
    setError(undefined);
    try {
      const o = await api<CommandOutcome>(`${base}/commands/records-clear`, {
        body: { kind: 'all', confirm: pack.name },
      });
      setRecords([]);
      setDone(undefined);
      setNotice(
        t('records.erased', { detail: serverText(i18n, o.command.text, o.command.detail) }),
      );
    } catch (e) {
      setError(e as ApiError);
    }
  };

  const shown = kind === 'all' ? records : records.filter((r) => r.kind === kind);
  const count = (k: Kind): number =>
    k === 'all' ? records.length : records.filter((r) => r.kind === k).length;
  const status = reading
    ? t('records.reading', { count: records.length })
    : done === 'end'
      ? t('records.end', { count: records.length })
      : done === 'stopped'
        ? t('records.stopped', { count: records.length })
        : done === 'limit'
          ? t('records.limit', { count: records.length })
          : t('records.notRead');

  return (
    <Card
      title={t('records.title')}
      testId="records-tab"
      actions={
        <>
          <button
            type="button"
            className="primary"
            disabled={reading}
            onClick={() => void read()}
            data-testid="records-read"
          >
            {t('records.read')}
          </button>
          <button
            type="button"
            disabled={!reading}
            onClick={() => (stop.current = true)}
            data-testid="records-stop"
          >
            {t('records.stop')}
          </button>
          <button
            type="button"
            disabled={reading || records.length === 0}
            onClick={() => {
              setRecords([]);
              setDone(undefined);
            }}
            data-testid="records-clear"
          >
            {t('records.clear')}
          </button>
          <button
            type="button"
            disabled={reading || shown.length === 0}
            onClick={exportCsv}
            data-testid="records-export"
          >
            {t('records.export')}
          </button>
          <button
            type="button"
            className="danger-outline"
            disabled={reading || eraseWhy !== undefined}
            onClick={() => setEraseOpen(true)}
            aria-describedby={eraseWhy ? 'erase-why' : undefined}
            data-testid="records-erase"
          >
            {t('records.erase')}
          </button>
        </>
      }
    >
      <p
        className="muted"
        role="status"
        data-testid="records-status"
        data-count={records.length}
        data-done={done ?? ''}
      >
        {status}
        {zone ? ` · ${t('records.zone', { zone })}` : ''}
      </p>
      {eraseWhy && (
        <p id="erase-why" className="muted small" data-testid="erase-why">
          {t('records.eraseWhy', { why: eraseWhy })}
        </p>
      )}
      {notice && (
        <p className="notice" role="status" data-testid="records-notice">
          {notice}
        </p>
      )}
      <ErrorBox error={error} />
      <Tabs
        label={t('records.kinds')}
        tabs={(['all', 'data', 'alarm'] as const).map((k) => ({
          id: k,
          label: `${t(`records.kind.${k}`)} (${count(k)})`,
        }))}
        value={kind}
        onChange={(k) => setKind(k)}
        panelId="records-panel"
      />
      <div id="records-panel" role="tabpanel" className="table-wrap">
        {shown.length === 0 ? (
          <p className="muted" data-testid="records-empty">
            {t('records.empty')}
          </p>
        ) : (
          <table className="records-table" data-testid="records-table">
            <thead>
              <tr>
                <th>#</th>
                <th>{t('records.col.time')}</th>
                <th>{t('records.col.kind')}</th>
                <th>{t('records.col.voltage')}</th>
                <th>{t('records.col.current')}</th>
                <th>{t('records.col.soc')}</th>
                <th>{t('records.col.cells')}</th>
                <th>{t('records.col.temps')}</th>
                <th>{t('records.col.alarms')}</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((r) => (
                <tr key={r.index} data-testid="record-row" data-index={r.index} data-kind={r.kind}>
                  <td>{r.index}</td>
                  <td
                    className="nowrap"
                    title={r.ms !== undefined ? fmt.dateTime(r.ms) : undefined}
                  >
                    {r.wall_ms !== undefined ? wallText(r.wall_ms) : t('records.noTime')}
                  </td>
                  <td>
                    <Badge tone={r.kind === 'alarm' ? 'warn' : 'muted'}>
                      {t(`records.one.${r.kind}`)}
                    </Badge>
                    {r.event && (
                      <span className="muted small">
                        {' '}
                        {t(`records.event.${r.event.split(' ')[0]}`, { defaultValue: r.event })}
                      </span>
                    )}
                  </td>
                  <td className="num">{fmt.unit(r.voltage_v, 'V', 2)}</td>
                  <td className="num">{fmt.unit(r.current_a, 'A', 2)}</td>
                  <td className="num">{fmt.pct(r.soc_pct, 1)}</td>
                  <td className="num nowrap">
                    {r.min_cell_mv !== undefined && r.max_cell_mv !== undefined
                      ? `${r.min_cell_mv}–${r.max_cell_mv} mV`
                      : '—'}
                  </td>
                  <td className="num nowrap">
                    {r.min_temp_c !== undefined && r.max_temp_c !== undefined
                      ? `${fmt.num(r.min_temp_c, 1)}–${fmt.num(r.max_temp_c, 1)} °C`
                      : '—'}
                  </td>
                  <td data-testid="record-alarms">
                    {(r.alarms ?? []).length === 0
                      ? '—'
                      : (r.alarms ?? [])
                          .map(
                            (a) =>
                              `${t(`alarmNames:${a.code}`, { defaultValue: a.code })}${a.level ? ` L${a.level}` : ''}`,
                          )
                          .join(', ')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <Confirm
        open={eraseOpen}
        danger
        title={t('records.eraseTitle', { pack: pack.name })}
        confirmLabel={t('records.erase')}
        typeToConfirm={pack.name}
        onConfirm={() => void erase()}
        onCancel={() => setEraseOpen(false)}
      >
        <p>{t('records.eraseBody')}</p>
      </Confirm>
    </Card>
  );
}
