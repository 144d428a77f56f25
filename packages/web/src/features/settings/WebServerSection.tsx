/**
 * The web server (`http`): where OpenBMS listens. This computer only (127.0.0.1, the
 * default) or every network interface (0.0.0.0) so phones and other computers on the LAN
 * can open the console, or one address; and the port. Applied at the next start.
 */
import { useEffect, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Card } from '../../ui';
import { SaveResult, useSave, useSettings } from './common';
import type { Obj } from './types';

type Mode = 'local' | 'all' | 'other';

const modeOf = (host: string): Mode =>
  host === '127.0.0.1' || host === 'localhost' ? 'local' : host === '0.0.0.0' ? 'all' : 'other';

export function WebServerSection(): ReactNode {
  const { t } = useTranslation('settings');
  const { view } = useSettings();
  const saved = (view?.http ?? {}) as Obj;
  const savedHost = typeof saved['host'] === 'string' ? saved['host'] : '127.0.0.1';
  const savedPort = typeof saved['port'] === 'number' ? saved['port'] : 8080;
  const [mode, setMode] = useState<Mode>(modeOf(savedHost));
  const [other, setOther] = useState(modeOf(savedHost) === 'other' ? savedHost : '');
  const [port, setPort] = useState(String(savedPort));
  useEffect(() => {
    setMode(modeOf(savedHost));
    setOther(modeOf(savedHost) === 'other' ? savedHost : '');
    setPort(String(savedPort));
  }, [savedHost, savedPort]);
  const save = useSave('http', undefined);
  const readOnly = view !== undefined && !view.writable;
  const portNum = Number(port);
  const portBad = !/^\d+$/.test(port.trim()) || portNum < 1 || portNum > 65535;
  const host = mode === 'local' ? '127.0.0.1' : mode === 'all' ? '0.0.0.0' : other.trim();
  const hostBad = mode === 'other' && host === '';
  const choice = (m: Mode, label: string) => (
    <label className="check">
      <input
        type="radio"
        name="http-host"
        checked={mode === m}
        disabled={readOnly}
        data-testid={`http-host-${m}`}
        onChange={() => setMode(m)}
      />
      <span>{label}</span>
    </label>
  );
  return (
    <div className="section-body" data-testid="section-web">
      <Card title={t('web.title')}>
        <p className="muted">{t('web.intro')}</p>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (portBad || hostBad || readOnly) return;
            void save.run({ ...saved, host, port: portNum });
          }}
        >
          <fieldset className="subgroup">
            <legend>{t('web.listen')}</legend>
            {choice('local', t('web.local'))}
            {choice('all', t('web.all'))}
            {choice('other', t('web.other'))}
            {mode === 'other' && (
              <input
                type="text"
                value={other}
                aria-label={t('web.other')}
                disabled={readOnly}
                data-testid="http-host-text"
                onChange={(e) => setOther(e.target.value)}
              />
            )}
            {hostBad && <p className="field-error">{t('web.hostMissing')}</p>}
          </fieldset>
          <label className="field">
            <span>{t('web.port')}</span>
            <input
              type="text"
              inputMode="numeric"
              value={port}
              disabled={readOnly}
              data-testid="http-port"
              onChange={(e) => setPort(e.target.value)}
            />
          </label>
          {portBad && <p className="field-error">{t('web.portBad')}</p>}
          <p className="muted small">{t('web.restartHint')}</p>
          <div className="form-actions">
            <button
              type="submit"
              className="primary"
              disabled={save.pending || readOnly}
              data-testid="save"
            >
              {save.pending ? t('saving') : t('common:save')}
            </button>
          </div>
          <SaveResult result={save.result} error={save.error} />
        </form>
      </Card>
    </div>
  );
}
