/**
 * The Buses page (admin): the configured buses (edit, remove) and a form to add one: the
 * port (the machine's serial ports with their USB chip, or a typed path / tcp://host:port),
 * the protocol with a hint of the brands that speak it, the baud rate; Scan shows which
 * addresses answered (model, serial, cell count) while it runs; Test read shows one pack's
 * cells; the packs are named and the bus saved, polled at once without a restart.
 * Parity and stop bits are offered only where the family allows other than its own line
 * (GET /setup/protocols: generic Modbus RTU); the others show their fixed line (8N1).
 * The scan's progress comes pushed on the live socket (`scan` messages: the address being
 * asked, k of n, each pack as it answers); it is read over HTTP only while the socket is down.
 */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { BusView } from '@openbms/contract/api';
import { api, type ApiError } from '../../api/client';
import { useApi } from '../../api/hooks';
import { live, useLiveState } from '../../api/live';
import { errorText } from '../../i18n/server-text';
import { Card, ErrorBox } from '../../ui';

const BAUDS = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200];

type Parity = 'none' | 'even' | 'odd';
/** A family as GET /setup/protocols gives it: its default line and the choices it allows. */
interface Family {
  id: string;
  title: string;
  baud: number;
  data_bits: number;
  parity: Parity;
  stop_bits: 1 | 2;
  parities: Parity[];
  stop_bits_choices: (1 | 2)[];
}

/** "8N1": data bits, parity letter, stop bits. */
export const lineText = (dataBits: number, parity: Parity, stopBits: number): string =>
  `${dataBits}${parity[0]!.toUpperCase()}${stopBits}`;

interface PortInfo {
  path: string;
  manufacturer?: string;
  chip?: string;
}
interface Found {
  address: number;
  model?: string;
  serial?: string;
  cell_count?: number;
}
interface Job {
  id: string;
  state: 'running' | 'done' | 'failed';
  total: number;
  probed: number;
  current?: number;
  found: Found[];
  error?: string;
}

export default function BusesPage(): ReactNode {
  const { t, i18n } = useTranslation('buses');
  const ports = useApi<PortInfo[]>('/setup/serial-ports');
  const buses = useApi<BusView[]>('/buses');
  const families = useApi<Family[]>('/setup/protocols');
  const { state: socket } = useLiveState();
  const [site, setSite] = useState('home');
  const [busId, setBusId] = useState('rs485');
  const [port, setPort] = useState('');
  const [protocol, setProtocol] = useState<string>('pylontech');
  const [baud, setBaud] = useState<number | undefined>(undefined);
  const [parity, setParity] = useState<Parity | undefined>(undefined);
  const [stopBits, setStopBits] = useState<1 | 2 | undefined>(undefined);
  const [job, setJob] = useState<Job | undefined>(undefined);
  const [names, setNames] = useState<Record<number, string>>({});
  const [use, setUse] = useState<Record<number, boolean>>({});
  const [cells, setCells] = useState<Record<number, number[]>>({});
  const [error, setError] = useState<string | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const list = ports.data ?? [];
  useEffect(() => {
    const first = ports.data?.[0];
    if (port === '' && first) setPort(first.path);
  }, [ports.data, port]);

  const family = families.data?.find((f) => f.id === protocol);
  // A choice the new protocol does not allow goes back to the protocol's own.
  useEffect(() => {
    if (!family) return;
    if (parity !== undefined && !family.parities.includes(parity)) setParity(undefined);
    if (stopBits !== undefined && !family.stop_bits_choices.includes(stopBits))
      setStopBits(undefined);
  }, [family, parity, stopBits]);

  // The scan's progress, newest first by id: pushed on the live socket. A push may come
  // before the POST's answer names the scan, so the latest of every id is kept.
  const pushed = useRef(new Map<string, Job>());
  const jobId = job?.id;
  const take = (j: Job): void => {
    setJob((cur) => (cur && cur.id === j.id && cur.probed <= j.probed ? j : cur));
    if (j.state === 'done') {
      setUse(Object.fromEntries(j.found.map((f) => [f.address, true])));
      setNames(Object.fromEntries(j.found.map((f) => [f.address, `${busId} ${f.address}`])));
    }
  };
  useEffect(
    () =>
      live.onScan((j) => {
        pushed.current.set(j.id, j);
        if (j.id === jobId) take(j);
      }),
    // take() reads busId only for the names; a scan ends long before a rename matters.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [jobId, busId],
  );
  useEffect(() => {
    if (!jobId) return;
    const early = pushed.current.get(jobId);
    if (early) take(early);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [jobId]);
  // Without the socket (reconnecting), the scan is read over HTTP until it is back.
  useEffect(() => {
    if (!job || job.state !== 'running' || socket === 'open') return;
    const timer = setTimeout(() => {
      api<Job>(`/setup/scans/${job.id}`)
        .then(take)
        .catch((e: ApiError) => setError(errorText(i18n, e)));
    }, 1000);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [job, socket, i18n]);

  const link = () => ({
    port,
    protocol,
    ...(baud ? { baud } : {}),
    ...(parity ? { parity } : {}),
    ...(stopBits ? { stop_bits: stopBits } : {}),
  });
  const fail = (e: unknown) => setError(errorText(i18n, e as ApiError));

  const scan = async () => {
    setError(undefined);
    setNotice(undefined);
    setCells({});
    try {
      setJob(await api<Job>('/setup/scans', { body: link() }));
    } catch (e) {
      fail(e);
    }
  };
  const testRead = async (address: number) => {
    setError(undefined);
    try {
      const r = await api<{ cell_mv?: number[] }>('/setup/test-read', {
        body: { ...link(), address },
      });
      setCells((c) => ({ ...c, [address]: r.cell_mv ?? [] }));
    } catch (e) {
      fail(e);
    }
  };
  const save = async () => {
    setError(undefined);
    const packs = (job?.found ?? [])
      .filter((f) => use[f.address])
      .map((f) => ({ address: f.address, name: names[f.address] || `${busId} ${f.address}` }));
    if (packs.length === 0) return setError(t('needPack'));
    try {
      await api(`/setup/sites/${encodeURIComponent(site)}/buses/${encodeURIComponent(busId)}`, {
        method: 'PUT',
        body: { bus: { ...link(), packs } },
      });
      setNotice(t('saved', { count: packs.length }));
      setJob(undefined);
      buses.reload();
    } catch (e) {
      fail(e);
    }
  };
  const remove = async (b: BusView) => {
    setError(undefined);
    try {
      await api(`/setup/sites/${encodeURIComponent(b.site)}/buses/${encodeURIComponent(b.id)}`, {
        method: 'DELETE',
      });
      setNotice(t('removed', { bus: b.id }));
      buses.reload();
    } catch (e) {
      fail(e);
    }
  };
  const own = (buses.data ?? []).filter((b) => !b.port.startsWith('sim'));
  const known = list.some((p) => p.path === port);

  return (
    <div className="page buses-page" data-testid="buses-page">
      <h1>{t('title')}</h1>
      <p className="muted">{t('intro')}</p>
      <Card title={t('configured')} testId="bus-list">
        {own.length === 0 ? (
          <p className="muted">{t('none')}</p>
        ) : (
          <ul>
            {own.map((b) => (
              <li key={`${b.site}/${b.id}`} data-testid="bus-row" data-bus={`${b.site}/${b.id}`}>
                <strong>{b.id}</strong> · {b.port} · {b.protocol} ·{' '}
                <span className="mono" data-testid="bus-line">
                  {b.baud ?? ''} {b.parity && b.stop_bits ? lineText(8, b.parity, b.stop_bits) : ''}
                </span>{' '}
                · {t('packCount', { count: b.packs.length })}{' '}
                <button
                  type="button"
                  onClick={() => {
                    setSite(b.site);
                    setBusId(b.id);
                    setPort(b.port);
                    setProtocol(b.protocol);
                    setBaud(b.baud);
                    setParity(b.parity);
                    setStopBits(b.stop_bits);
                  }}
                >
                  {t('edit')}
                </button>{' '}
                <button type="button" className="danger-outline" onClick={() => void remove(b)}>
                  {t('remove')}
                </button>
              </li>
            ))}
          </ul>
        )}
      </Card>
      <Card title={t('add')} testId="bus-form">
        <div className="form-grid">
          <label className="field">
            <span>{t('site')}</span>
            <input value={site} data-testid="bus-site" onChange={(e) => setSite(e.target.value)} />
          </label>
          <label className="field">
            <span>{t('busId')}</span>
            <input value={busId} data-testid="bus-id" onChange={(e) => setBusId(e.target.value)} />
          </label>
          <label className="field">
            <span>{t('portPick')}</span>
            <select
              value={known ? port : ''}
              data-testid="bus-port-select"
              onChange={(e) => setPort(e.target.value)}
            >
              <option value="">{t('portOther')}</option>
              {list.map((p) => (
                <option key={p.path} value={p.path}>
                  {[p.path, p.chip ?? p.manufacturer].filter(Boolean).join(' · ')}
                </option>
              ))}
            </select>
          </label>
          {list.length === 0 && <p className="muted small">{t('noPorts')}</p>}
          <label className="field">
            <span>{t('port')}</span>
            <input value={port} data-testid="bus-port" onChange={(e) => setPort(e.target.value)} />
          </label>
          <label className="field">
            <span>{t('protocol')}</span>
            <select
              value={protocol}
              data-testid="bus-protocol"
              onChange={(e) => setProtocol(e.target.value)}
            >
              {(families.data ?? []).map((f) => (
                <option key={f.id} value={f.id}>
                  {f.id} — {t(`hints.${f.id}`, { defaultValue: f.title })}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>{t('baud')}</span>
            <select
              value={baud ?? ''}
              data-testid="bus-baud"
              onChange={(e) => setBaud(e.target.value ? Number(e.target.value) : undefined)}
            >
              <option value="">{t('baudDefault')}</option>
              {BAUDS.map((b) => (
                <option key={b} value={b}>
                  {b}
                </option>
              ))}
            </select>
          </label>
          {family && family.parities.length > 1 && (
            <label className="field">
              <span>{t('parity')}</span>
              <select
                value={parity ?? ''}
                data-testid="bus-parity"
                onChange={(e) => setParity((e.target.value || undefined) as Parity | undefined)}
              >
                <option value="">
                  {t('lineDefault', { value: t(`parities.${family.parity}`) })}
                </option>
                {family.parities.map((p) => (
                  <option key={p} value={p}>
                    {t(`parities.${p}`)}
                  </option>
                ))}
              </select>
            </label>
          )}
          {family && family.stop_bits_choices.length > 1 && (
            <label className="field">
              <span>{t('stopBits')}</span>
              <select
                value={stopBits ?? ''}
                data-testid="bus-stop-bits"
                onChange={(e) =>
                  setStopBits(e.target.value ? (Number(e.target.value) as 1 | 2) : undefined)
                }
              >
                <option value="">{t('lineDefault', { value: family.stop_bits })}</option>
                {family.stop_bits_choices.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </label>
          )}
        </div>
        {family && (
          <p className="muted small" data-testid="bus-line-hint">
            {family.parities.length > 1 || family.stop_bits_choices.length > 1
              ? t('lineChoice', {
                  line: lineText(
                    family.data_bits,
                    parity ?? family.parity,
                    stopBits ?? family.stop_bits,
                  ),
                })
              : t('lineFixed', {
                  line: lineText(family.data_bits, family.parity, family.stop_bits),
                })}
          </p>
        )}
        <div className="form-actions">
          <button
            type="button"
            className="primary"
            data-testid="bus-scan"
            disabled={port === '' || job?.state === 'running'}
            onClick={() => void scan()}
          >
            {t('scan')}
          </button>
        </div>
        {job && (
          <div data-testid="scan-progress" data-state={job.state}>
            <p role="status">
              {job.state === 'running'
                ? job.current !== undefined
                  ? t('scanningAt', {
                      address: job.current,
                      k: job.probed + 1,
                      total: job.total,
                      count: job.found.length,
                    })
                  : t('scanning', { probed: job.probed, total: job.total })
                : job.state === 'done'
                  ? t('scanDone', { count: job.found.length })
                  : t('scanFailed', { error: job.error ?? '' })}
            </p>
            {job.found.length > 0 && (
              <table className="table">
                <thead>
                  <tr>
                    <th>{t('use')}</th>
                    <th>{t('address')}</th>
                    <th>{t('model')}</th>
                    <th>{t('serial')}</th>
                    <th>{t('cells')}</th>
                    <th>{t('name')}</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {job.found.map((f) => (
                    <tr key={f.address} data-testid="found-pack" data-address={f.address}>
                      <td>
                        <input
                          type="checkbox"
                          checked={use[f.address] ?? false}
                          aria-label={t('use')}
                          onChange={(e) => setUse((u) => ({ ...u, [f.address]: e.target.checked }))}
                        />
                      </td>
                      <td>{f.address}</td>
                      <td>{f.model ?? '—'}</td>
                      <td>{f.serial ?? '—'}</td>
                      <td data-testid="found-cells">{f.cell_count ?? '—'}</td>
                      <td>
                        <input
                          value={names[f.address] ?? ''}
                          aria-label={t('name')}
                          data-testid="found-name"
                          onChange={(e) => setNames((n) => ({ ...n, [f.address]: e.target.value }))}
                        />
                      </td>
                      <td>
                        <button
                          type="button"
                          data-testid="found-test"
                          onClick={() => void testRead(f.address)}
                        >
                          {t('testRead')}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {Object.entries(cells).map(([a, mv]) => (
              <p key={a} data-testid="test-cells" data-count={mv.length}>
                {t('testCells', { address: a, cells: mv.map((v) => `${v}`).join(' ') })}
              </p>
            ))}
            {job.state === 'done' && job.found.length > 0 && (
              <div className="form-actions">
                <button
                  type="button"
                  className="primary"
                  data-testid="bus-save"
                  onClick={() => void save()}
                >
                  {t('save')}
                </button>
              </div>
            )}
          </div>
        )}
        {notice && (
          <p className="notice" role="status" data-testid="bus-notice">
            {notice}
          </p>
        )}
        {error && <ErrorBox error={error} />}
      </Card>
    </div>
  );
}
