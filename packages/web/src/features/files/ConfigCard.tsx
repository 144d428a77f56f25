/**
 * Config backup (download the YAML file) and restore (upload one; the server checks it
 * first and answers 422 with the keys at fault, or what it saved, applied and what waits
 * for a restart). Administrators only, as the API demands.
 */
import type { RestoreResult, SettingsView } from '@openbms/contract/api';
import { useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { api, apiPath, type ApiError } from '../../api/client';
import { useAction, useApi } from '../../api/hooks';
import { Card, Confirm, ErrorBox } from '../../ui';
import { DownloadLink } from './ExportCard';

/** The part of GET /settings this card shows. */
type SettingsInfo = Pick<SettingsView, 'path' | 'exists' | 'writable' | 'writable_reason'>;

const MAX_BYTES = 256 * 1024;

function issuesOf(e: ApiError | undefined): { path: string; message: string }[] {
  if (!e || e.status !== 422 || !Array.isArray(e.details)) return [];
  return (e.details as unknown[])
    .filter((i): i is Record<string, unknown> => typeof i === 'object' && i !== null)
    .map((i) => ({ path: String(i.path ?? ''), message: String(i.message ?? '') }));
}

export function ConfigCard(): ReactNode {
  const { t } = useTranslation('files');
  const info = useApi<SettingsInfo>('/settings');
  const input = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<{ name: string; text: string } | undefined>(undefined);
  const [confirming, setConfirming] = useState(false);
  const [pickError, setPickError] = useState<string | undefined>(undefined);
  const restore = useAction((text: string) =>
    api<RestoreResult>('/config/restore', { method: 'POST', raw: text, contentType: 'text/yaml' }),
  );
  const issues = issuesOf(restore.error);
  const r = restore.result;

  if (info.error && !info.data) {
    return (
      <Card title={t('config.title')} testId="config">
        <p className="muted" data-testid="config-unavailable">
          {t('config.unavailable', { reason: info.error.message })}
        </p>
      </Card>
    );
  }

  return (
    <Card title={t('config.title')} testId="config">
      {info.data && (
        <p>
          {t('config.file')}: <code className="f-path">{info.data.path}</code>
          {!info.data.exists && <span className="muted"> — {t('config.notSaved')}</span>}
        </p>
      )}
      <div className="f-config">
        <section>
          <h3>{t('config.backup')}</h3>
          <p className="f-warning" role="note">
            {t('config.backupWarning')}
          </p>
          <DownloadLink href={apiPath('/config/backup')} testId="config-backup" primary>
            {t('common:download')}
          </DownloadLink>
        </section>
        <section>
          <h3>{t('config.restore')}</h3>
          {/* A button of ours opens the hidden picker: the native one's "Choose File / No file
              chosen" is in the browser's language, not the page's. */}
          <p>
            <button
              type="button"
              onClick={() => input.current?.click()}
              disabled={restore.pending}
              data-testid="config-choose"
            >
              {t('config.choose')}
            </button>
            <input
              ref={input}
              type="file"
              className="sr-only"
              tabIndex={-1}
              aria-hidden="true"
              accept=".yaml,.yml,text/yaml,application/yaml,application/x-yaml"
              data-testid="config-file"
              onChange={async (e) => {
                const f = e.target.files?.[0];
                restore.reset();
                setPickError(undefined);
                if (!f) return;
                if (f.size > MAX_BYTES) {
                  setPickError(t('config.tooBig'));
                  e.target.value = '';
                  return;
                }
                setFile({ name: f.name, text: await f.text() });
                setConfirming(true);
              }}
            />
          </p>
          <ErrorBox error={pickError} />
        </section>
      </div>

      {r && (
        <div className="f-result" role="status" data-testid="restore-result">
          <p className="notice">{t('config.saved')}</p>
          <p>
            {r.applied.length > 0
              ? t('config.applied', { list: r.applied.join(', ') })
              : t('config.nothingApplied')}
          </p>
          {r.restart_required && (
            <p className="f-warning">
              {r.pending_restart && r.pending_restart.length > 0
                ? t('config.restart', { list: r.pending_restart.join(', ') })
                : t('config.restartAny')}
            </p>
          )}
          {(r.failed ?? []).map((f) => (
            <p key={f.section} className="error-box">
              {t('config.failed', { section: f.section, error: f.error })}
            </p>
          ))}
        </div>
      )}
      {restore.error && (
        <div className="error-box" role="alert" data-testid="restore-error">
          {issues.length > 0 ? (
            <>
              <p>{t('config.invalid')}</p>
              <ul className="f-issues">
                {issues.map((i, n) => (
                  <li key={n}>
                    <code>{i.path}</code>: {i.message}
                  </li>
                ))}
              </ul>
            </>
          ) : (
            restore.error.message
          )}
        </div>
      )}

      <Confirm
        open={confirming}
        danger
        title={t('config.confirmTitle')}
        confirmLabel={t('config.restoreButton')}
        onCancel={() => {
          setConfirming(false);
          setFile(undefined);
          if (input.current) input.current.value = '';
        }}
        onConfirm={async () => {
          setConfirming(false);
          if (input.current) input.current.value = '';
          if (file) await restore.run(file.text);
          info.reload();
        }}
      >
        {file && <p>{t('config.confirmBody', { name: file.name })}</p>}
      </Confirm>
    </Card>
  );
}
