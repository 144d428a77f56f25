/**
 * Reading a QR code from the camera (seed 000: "scan the QR code of the device to add"). The
 * browser's own Shape Detection API (BarcodeDetector) when it reads QR codes, else jsQR (pure
 * JavaScript, loaded on first use only: desktop Chrome on Linux and Windows, Firefox and
 * older Safari have no detector). Both read a <video> showing `getUserMedia`'s stream.
 */

/** Reads the text of a QR code in the video's current frame (undefined: none seen). */
export type QrReader = (video: HTMLVideoElement) => Promise<string | undefined>;

interface Detector {
  detect(source: HTMLVideoElement): Promise<{ rawValue: string }[]>;
}
interface DetectorClass {
  new (opts?: { formats?: string[] }): Detector;
  getSupportedFormats?: () => Promise<string[]>;
}

/** The widest frame jsQR is given (a larger one is scaled down: faster, and reads as well). */
const MAX_SIDE = 640;

async function nativeReader(): Promise<QrReader | undefined> {
  const Det = (globalThis as { BarcodeDetector?: DetectorClass }).BarcodeDetector;
  if (!Det) return undefined;
  try {
    const formats = (await Det.getSupportedFormats?.()) ?? [];
    if (!formats.includes('qr_code')) return undefined;
    const detector = new Det({ formats: ['qr_code'] });
    return async (video) => {
      const found = await detector.detect(video);
      return found.find((f) => f.rawValue.trim() !== '')?.rawValue;
    };
  } catch {
    return undefined;
  }
}

async function jsqrReader(): Promise<QrReader> {
  const { default: jsQR } = await import('jsqr');
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2D canvas');
  return async (video) => {
    const w = video.videoWidth;
    const h = video.videoHeight;
    if (!w || !h) return undefined;
    const scale = Math.min(1, MAX_SIDE / Math.max(w, h));
    canvas.width = Math.round(w * scale);
    canvas.height = Math.round(h * scale);
    ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
    const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
    return jsQR(img.data, img.width, img.height, { inversionAttempts: 'attemptBoth' })?.data;
  };
}

/** The best reader this browser has. */
export async function qrReader(): Promise<QrReader> {
  return (await nativeReader()) ?? (await jsqrReader());
}

/** Why the camera could not start, as a key of the strings (`camera.<key>`). */
export type CameraProblem = 'refused' | 'absent' | 'insecure' | 'busy' | 'failed';

export function cameraProblem(e: unknown): CameraProblem {
  const name = (e as { name?: unknown } | undefined)?.name;
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'refused';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'absent';
  if (name === 'InsecureContext') return 'insecure';
  if (name === 'NotReadableError' || name === 'AbortError') return 'busy';
  return 'failed';
}

/** The back camera (a phone's), or whichever the device has. */
export async function openCamera(): Promise<MediaStream> {
  // Outside a secure context (http:// other than localhost) the API is not there at all.
  if (typeof navigator.mediaDevices?.getUserMedia !== 'function') {
    throw Object.assign(new Error('no camera API'), { name: 'InsecureContext' });
  }
  return navigator.mediaDevices.getUserMedia({
    video: { facingMode: 'environment' },
    audio: false,
  });
}
