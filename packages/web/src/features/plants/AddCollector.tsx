/**
 * "Add collector" (seed 000, issue 15; docs/collectors.md "Linking a collector"): a plant's
 * administrator adds a remote collector by its serial number and claim code, typed, pasted
 * (the JSON of `openbms link --show --json`) or read from the QR code of the collector's
 * console with the camera. `POST /collectors/claim`; the collector gets its credentials at
 * its next hello and starts sending its batteries.
 */
import { useEffect, useRef, useState, type ClipboardEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import {
  CLAIM_CODE_PATTERN,
  formatClaimCode,
  normalizeClaimCode,
  normalizeSerial,
  parseClaim,
  SERIAL_PATTERN,
  type RemoteCollectorView,
} from '@openbms/contract/api';
import { api, type ApiError } from '../../api/client';
import { Field, FormErrorBox, type FormError } from '../../ui/fields';
import { Modal } from '../../ui/Modal';
import { cameraProblem, openCamera, qrReader, type CameraProblem } from './qr';

type Claim = { serial: string; claim_code: string };

export function AddCollectorDialog(props: {
  plantId: string;
  onAdded: (c: RemoteCollectorView) => void;
  onClose: () => void;
}): ReactNode {
  const { t } = useTranslation('plants');
  const [serial, setSerial] = useState('');
  const [code, setCode] = useState('');
  const [scanning, setScanning] = useState(false);
  const [scanned, setScanned] = useState(false);
  const [error, setError] = useState<FormError>(undefined);
  const [pending, setPending] = useState(false);

  const fill = (c: Claim): void => {
    setSerial(c.serial);
    setCode(formatClaimCode(c.claim_code));
    setError(undefined);
  };
  // A paste of `openbms link --show --json` (or of the QR text) fills both fields.
  const onPaste = (e: ClipboardEvent<HTMLInputElement>): void => {
    const c = parseClaim(e.clipboardData.getData('text'));
    if (!c) return;
    e.preventDefault();
    fill(c);
  };
  const submit = async (): Promise<void> => {
    const s = normalizeSerial(serial);
    const c = normalizeClaimCode(code);
    if (!SERIAL_PATTERN.test(s)) return setError({ field: 'serial', message: t('add.badSerial') });
    if (!CLAIM_CODE_PATTERN.test(c))
      return setError({ field: 'claim_code', message: t('add.badCode') });
    setError(undefined);
    setPending(true);
    try {
      const view = await api<RemoteCollectorView>('/collectors/claim', {
        body: { serial: s, claim_code: c, plant_id: props.plantId },
      });
      props.onAdded(view);
    } catch (e) {
      const err = e as ApiError;
      // One answer for an unknown serial and a wrong code (the server gives no oracle).
      if (err.status === 404) setError({ message: t('add.notFound') });
      else if (err.status === 409) setError({ field: 'serial', message: t('add.claimed') });
      else setError(err);
    } finally {
      setPending(false);
    }
  };
  return (
    <Modal
      title={t('add.title')}
      onClose={props.onClose}
      testId="add-collector-dialog"
      className="collector-dialog"
    >
      <form
        className="collector-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <p className="muted">{t('add.intro')}</p>
        <Field
          label={t('add.serial')}
          field="serial"
          error={error}
          value={serial}
          placeholder="OB…"
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          maxLength={200}
          onPaste={onPaste}
          onChange={(e) => setSerial(e.target.value)}
          required
        />
        <Field
          label={t('add.code')}
          field="claim_code"
          error={error}
          value={code}
          placeholder="XXXX-XXXX"
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          maxLength={200}
          onPaste={onPaste}
          onChange={(e) => setCode(e.target.value)}
          onBlur={() => {
            const c = normalizeClaimCode(code);
            if (CLAIM_CODE_PATTERN.test(c)) setCode(formatClaimCode(c));
          }}
          required
        />
        {scanning ? (
          <Scanner
            onClaim={(c) => {
              fill(c);
              setScanning(false);
              setScanned(true);
            }}
            onStop={() => setScanning(false)}
          />
        ) : (
          <p className="collector-scan-row">
            <button
              type="button"
              data-testid="scan-qr"
              onClick={() => (setScanning(true), setScanned(false))}
            >
              {t('add.scan')}
            </button>{' '}
            {scanned && (
              <span className="notice" role="status" data-testid="scan-done">
                {t('add.scanned')}
              </span>
            )}
          </p>
        )}
        {error && !('code' in error) && error.field === undefined ? (
          <div className="error-box" role="alert" data-testid="claim-error">
            {error.message}
          </div>
        ) : (
          <FormErrorBox error={error} fields={['serial', 'claim_code']} />
        )}
        <div className="dialog-actions">
          <button type="button" onClick={props.onClose}>
            {t('cancel')}
          </button>
          <button
            type="submit"
            className="primary"
            disabled={pending}
            data-testid="add-collector-submit"
          >
            {t('add.submit')}
          </button>
        </div>
      </form>
    </Modal>
  );
}

/**
 * The camera's picture while it looks for a QR code. It stops the camera when it unmounts
 * (a claim read, Stop, or the dialog closed). A QR code that is not an OpenBMS claim is
 * named and the search goes on.
 */
function Scanner(props: { onClaim: (c: Claim) => void; onStop: () => void }): ReactNode {
  const { t } = useTranslation('plants');
  const video = useRef<HTMLVideoElement>(null);
  const [problem, setProblem] = useState<CameraProblem | undefined>(undefined);
  const [foreign, setForeign] = useState<string | undefined>(undefined);
  const [looking, setLooking] = useState(false);
  const onClaim = useRef(props.onClaim);
  onClaim.current = props.onClaim;
  useEffect(() => {
    let stream: MediaStream | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let live = true;
    const stop = (): void => stream?.getTracks().forEach((tr) => tr.stop());
    void (async () => {
      try {
        stream = await openCamera();
      } catch (e) {
        if (live) setProblem(cameraProblem(e));
        return;
      }
      const v = video.current;
      if (!live || !v) return stop();
      v.srcObject = stream;
      await v.play().catch(() => undefined);
      const read = await qrReader().catch(() => undefined);
      if (!read) return live ? setProblem('failed') : undefined;
      if (live) setLooking(true);
      const look = async (): Promise<void> => {
        if (!live) return;
        let text: string | undefined;
        try {
          text = v.readyState >= 2 ? await read(v) : undefined;
        } catch {
          // A frame that cannot be read: the next one may.
        }
        if (!live) return;
        if (text !== undefined) {
          const claim = parseClaim(text);
          if (claim) {
            stop();
            return onClaim.current(claim);
          }
          setForeign(text.length > 60 ? `${text.slice(0, 60)}…` : text);
        }
        timer = setTimeout(() => void look(), 150);
      };
      void look();
    })();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
      stop();
    };
  }, []);
  return (
    <div className="collector-scanner" data-testid="qr-scanner" data-looking={looking}>
      {problem ? (
        <div className="error-box" role="alert" data-testid="camera-problem">
          {t(`add.camera.${problem}`)}
        </div>
      ) : (
        <>
          <video ref={video} className="collector-video" muted playsInline />
          <p className="muted">{t('add.scanHint')}</p>
        </>
      )}
      {foreign !== undefined && (
        <div className="error-box" role="alert" data-testid="not-a-claim">
          {t('add.notClaim', { text: foreign })}
        </div>
      )}
      <button type="button" onClick={props.onStop} data-testid="scan-stop">
        {t('add.stopScan')}
      </button>
    </div>
  );
}
