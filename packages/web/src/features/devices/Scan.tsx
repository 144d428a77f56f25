/**
 * Scanning a device's bar code with the camera (seed 003: "enter the ID number by scanning the
 * barcode"), through the browser's own Shape Detection API (BarcodeDetector) and getUserMedia:
 * no library, because the browsers that lack the detector (desktop Firefox, Safari before 17)
 * get no button at all rather than a heavy decoder download.
 */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorBox } from '../../ui';
import { Modal } from '../../ui/Modal';

interface Detector {
  detect(source: HTMLVideoElement): Promise<{ rawValue: string }[]>;
}
type DetectorClass = new (opts?: { formats?: string[] }) => Detector;

const detectorClass = (): DetectorClass | undefined =>
  (globalThis as { BarcodeDetector?: DetectorClass }).BarcodeDetector;

/** Whether this browser can scan: a detector and a camera API (a secure context). */
export const canScan = (): boolean =>
  detectorClass() !== undefined && typeof navigator.mediaDevices?.getUserMedia === 'function';

export function ScanDialog(props: { onCode: (code: string) => void; onClose: () => void }) {
  const { t } = useTranslation('devices');
  const video = useRef<HTMLVideoElement>(null);
  const [error, setError] = useState<string | undefined>(undefined);
  const onCode = useRef(props.onCode);
  onCode.current = props.onCode;
  useEffect(() => {
    const Det = detectorClass();
    if (!Det) return;
    let stream: MediaStream | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let live = true;
    const detector = new Det();
    const look = async (): Promise<void> => {
      const v = video.current;
      if (!live || !v) return;
      try {
        if (v.readyState >= 2) {
          const found = await detector.detect(v);
          const code = found.find((f) => f.rawValue.trim() !== '')?.rawValue.trim();
          if (code && live) return onCode.current(code);
        }
      } catch {
        // A frame the detector cannot read: try the next one.
      }
      if (live) timer = setTimeout(() => void look(), 250);
    };
    navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } }).then(
      (s) => {
        stream = s;
        if (!live || !video.current) return s.getTracks().forEach((tr) => tr.stop());
        video.current.srcObject = s;
        void video.current.play().catch(() => undefined);
        void look();
      },
      (e: Error) => setError(t('scanFailed', { error: e.message })),
    );
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
      stream?.getTracks().forEach((tr) => tr.stop());
    };
  }, [t]);
  return (
    <Modal
      className="device-dialog"
      title={t('scanTitle')}
      onClose={props.onClose}
      testId="scan-dialog"
    >
      <p className="muted">{t('scanHint')}</p>
      <video ref={video} className="scan-video" muted playsInline />
      <ErrorBox error={error} />
      <div className="dialog-actions">
        <button type="button" onClick={props.onClose}>
          {t('close')}
        </button>
      </div>
    </Modal>
  );
}

export function ScanButton(props: { onCode: (code: string) => void }): ReactNode {
  const { t } = useTranslation('devices');
  const [open, setOpen] = useState(false);
  if (!canScan()) return null;
  return (
    <>
      <button type="button" onClick={() => setOpen(true)} data-testid="scan">
        {t('scan')}
      </button>
      {open && (
        <ScanDialog
          onClose={() => setOpen(false)}
          onCode={(c) => {
            setOpen(false);
            props.onCode(c);
          }}
        />
      )}
    </>
  );
}
