/**
 * The collector's onboarding (issue 15): the serial number and claim code the owner adds this
 * box with in a fleet cloud, as text and as a QR code to scan with a phone (`GET /link`).
 */
import { useEffect, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import QRCode from 'qrcode';
import { useApi } from '../../api/hooks';
import { Badge, Card, ErrorBox, Spinner } from '../../ui';

// As @openbms/contract/gateway's claimQrText and formatClaimCode (the web takes no zod
// schemas from there): what the cloud's QR scanner reads, and the code as people read it.
const claimQrText = (serial: string, code: string): string => `OBMS1:${serial}:${code}`;
const formatClaimCode = (code: string): string => `${code.slice(0, 4)}-${code.slice(4)}`;

interface LinkView {
  serial: string;
  claim_code: string;
  claimed: boolean;
  cloud_url: string;
}

function Qr(props: { text: string; label: string }): ReactNode {
  const [svg, setSvg] = useState<string | undefined>(undefined);
  useEffect(() => {
    let live = true;
    void QRCode.toString(props.text, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' }).then(
      (s) => live && setSvg(s),
    );
    return () => {
      live = false;
    };
  }, [props.text]);
  if (!svg) return null;
  return (
    <img
      className="collector-qr"
      data-testid="collector-qr"
      alt={props.label}
      width={180}
      height={180}
      src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`}
    />
  );
}

export function CollectorSection(): ReactNode {
  const { t } = useTranslation('settings');
  const link = useApi<LinkView>('/link');
  return (
    <div className="section-body" data-testid="section-collector">
      <Card title={t('collector.title')}>
        {link.loading && <Spinner />}
        {link.error?.status === 404 && <p className="muted">{t('collector.notCollector')}</p>}
        {link.error && link.error.status !== 404 && <ErrorBox error={link.error} />}
        {link.data && (
          <>
            <p className="muted">{t('collector.intro', { url: link.data.cloud_url })}</p>
            <dl className="collector-id">
              <dt>{t('collector.serial')}</dt>
              <dd>
                <code data-testid="collector-serial">{link.data.serial}</code>
              </dd>
              <dt>{t('collector.claimCode')}</dt>
              <dd>
                <code data-testid="collector-code">{formatClaimCode(link.data.claim_code)}</code>
              </dd>
              <dt>{t('collector.status')}</dt>
              <dd>
                {link.data.claimed ? (
                  <Badge tone="ok">{t('collector.claimed')}</Badge>
                ) : (
                  <Badge tone="warn">{t('collector.unclaimed')}</Badge>
                )}
              </dd>
            </dl>
            <Qr
              text={claimQrText(link.data.serial, link.data.claim_code)}
              label={t('collector.qr')}
            />
            <p className="muted small">{t('collector.secret')}</p>
          </>
        )}
      </Card>
    </div>
  );
}
