/** The last control commands of a pack with their status (GET /commands?pack=). */
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { serverText } from '../../i18n/server-text';
import type { ApiError } from '../../api/client';
import { useFmt } from '../../i18n/format';
import { Badge, Card, ErrorBox } from '../../ui';
import type { CommandView } from '@openbms/contract/api';

const TONE = { done: 'ok', refused: 'warn', failed: 'bad' } as const;

export function CommandList(props: {
  commands: CommandView[] | undefined;
  error: ApiError | undefined;
  loading: boolean;
  onRefresh: () => void;
}): ReactNode {
  const { t, i18n } = useTranslation('control');
  const fmt = useFmt();
  const list = props.commands ?? [];
  return (
    <Card
      title={t('commands.title')}
      testId="command-list"
      actions={
        <button type="button" onClick={props.onRefresh} disabled={props.loading}>
          {t('commands.refresh')}
        </button>
      }
    >
      <ErrorBox error={props.error} />
      {props.commands && list.length === 0 && <p className="muted">{t('commands.none')}</p>}
      {list.length > 0 && (
        <div className="table-wrap">
          <table className="cmd-table">
            <thead>
              <tr>
                <th>{t('commands.time')}</th>
                <th>{t('commands.action')}</th>
                <th>{t('commands.user')}</th>
                <th>{t('commands.status')}</th>
                <th>{t('commands.detail')}</th>
              </tr>
            </thead>
            <tbody>
              {list.map((c) => (
                <tr
                  key={c.id}
                  data-testid="command-row"
                  data-action={c.action}
                  data-status={c.status}
                >
                  <td className="nowrap">{fmt.dateTime(c.at)}</td>
                  <td className="nowrap">
                    {t(
                      `actions.${c.action.startsWith('calibrate.') ? 'calibrate' : c.action.replace(/\./g, '_')}`,
                      { defaultValue: c.action },
                    )}
                  </td>
                  <td>{c.user}</td>
                  <td>
                    <Badge tone={TONE[c.status]}>{t(`commands.st.${c.status}`)}</Badge>
                  </td>
                  <td className="cmd-detail">{serverText(i18n, c.text, c.detail)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
