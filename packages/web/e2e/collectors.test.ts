/**
 * "Add collector" in the browser (issue 15, seed 000: "scan the QR code of the device to add,
 * or enter the serial number"): collectors say hello to the cloud through the API, the plant's
 * administrator adds one by typing its serial and claim code (lower case, with the dash) after
 * a wrong code is refused with the 404 sentence, another by its QR code seen by Chromium's
 * fake camera (a YUV4MPEG2 video of the QR code, made here), and revokes the first.
 *
 * The server runs in this process (the real Fastify app and a real SQLite store, serving the
 * built console). The broker is not part of this test: its place in the server (`uplink`,
 * the UplinkPort) is taken by a small object that records what the routes tell it and says
 * which serials are connected.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Gateway, validateConfig } from '@openbms/gateway';
import { buildServer, type UplinkPort } from '@openbms/server';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import QRCode from 'qrcode';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, launchBrowser, openPage } from './harness';

const ORIGIN = { orgId: '01JD00000000000000000000CL', gatewayId: '01JD000000000000000000GWCL' };
const COST = { N: 1024, r: 8, p: 1 };
const WEB_ROOT = fileURLToPath(new URL('../dist', import.meta.url));
const SHOTS = process.env.OPENBMS_E2E_SHOTS;

/** Three collectors: typed in, scanned, and one that never said hello. */
const TYPED = {
  serial: 'OB7K2M9QX4RT',
  claim_code: 'AB12CD34',
  gateway_id: '01JD0000000000000000000GA1',
};
const SCANNED = {
  serial: 'OB3N8P0W5ZHJ',
  claim_code: 'Q7RS2TV9',
  gateway_id: '01JD0000000000000000000GA2',
};
const PASTED = {
  serial: 'OB1A2B3C4D5E',
  claim_code: 'MN0P4XY6',
  gateway_id: '01JD0000000000000000000GA3',
};

/**
 * A short YUV4MPEG2 video (what `--use-file-for-fake-video-capture` plays, in a loop) of a QR
 * code of `text`, black modules on white with the 4-module quiet zone, 4:2:0 and grey chroma.
 */
function qrVideo(text: string, path: string, w = 320, h = 240, frames = 3): void {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const scale = Math.floor(Math.min(w, h) / (n + 8));
  const x0 = Math.floor((w - n * scale) / 2);
  const y0 = Math.floor((h - n * scale) / 2);
  const luma = Buffer.alloc(w * h, 235);
  for (let r = 0; r < n; r++)
    for (let c = 0; c < n; c++) {
      if (!qr.modules.get(r, c)) continue;
      for (let y = y0 + r * scale; y < y0 + (r + 1) * scale; y++)
        luma.fill(16, y * w + x0 + c * scale, y * w + x0 + (c + 1) * scale);
    }
  const chroma = Buffer.alloc((w / 2) * (h / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), luma, chroma]);
  const header = Buffer.from(`YUV4MPEG2 W${w} H${h} F10:1 Ip A1:1 C420jpeg\n`);
  writeFileSync(path, Buffer.concat([header, ...Array<Buffer>(frames).fill(frame)]));
}

/** The uplink's place in the server: which serials are connected, what was claimed/revoked. */
const connected = new Set<string>();
const told: string[] = [];
const uplink: UplinkPort = {
  brokerUrl: () => 'mqtt://127.0.0.1:1883',
  online: (serial) => (connected.has(serial) ? true : undefined),
  claimed: async (serial) => void told.push(`claimed ${serial}`),
  revoked: async (serial) => void told.push(`revoked ${serial}`),
};

let app: Awaited<ReturnType<typeof buildServer>>;
let gateway: Gateway;
let storage: Awaited<ReturnType<typeof openSqliteStorage>>;
let dir: string;
let browser: Browser;
let url: string;
let plantId: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openbms-e2e-collectors-'));
  const video = join(dir, 'qr.y4m');
  qrVideo(`OBMS1:${SCANNED.serial}:${SCANNED.claim_code}`, video);
  storage = await openSqliteStorage({ dataDir: dir, identity: ORIGIN });
  gateway = new Gateway({ config: validateConfig({ version: 1 }), storage });
  app = await buildServer({
    storage,
    identity: ORIGIN,
    gateway,
    uplink,
    passwordCost: COST,
    webRoot: WEB_ROOT,
    captcha: { mode: 'off' },
  });
  await gateway.start();
  url = await app.listen({ host: '127.0.0.1', port: 0 });
  const post = (path: string, body: unknown, cookie?: string) =>
    fetch(`${url}/api/v1${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
      body: JSON.stringify(body),
    });
  expect((await post('/setup', ADMIN)).status).toBe(201);
  const login = await post('/auth/login', ADMIN);
  expect(login.status).toBe(200);
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const plant = await post(
    '/plants',
    {
      org_id: ORIGIN.orgId,
      name: 'Harbour Plant',
      business_type: 'residential',
      plant_type: 'pv_storage',
      time_zone: 'UTC',
    },
    cookie,
  );
  expect(plant.status).toBe(201);
  plantId = ((await plant.json()) as { id: string }).id;
  // The collectors' first hellos: the cloud now knows them, unclaimed.
  for (const c of [TYPED, SCANNED, PASTED]) {
    const hello = await post('/collectors/hello', { ...c, version: '0.1.0' });
    expect(hello.status).toBe(202);
  }
  browser = await launchBrowser([
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    `--use-file-for-fake-video-capture=${video}`,
  ]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await gateway?.stop();
  await storage?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function openAdd(page: Page) {
  await page.getByTestId('add-collector').click();
  const dialog = page.getByTestId('add-collector-dialog');
  await dialog.waitFor();
  return dialog;
}

describe('adding remote collectors in the browser', () => {
  it('adds one by typed serial and claim code after refusing a wrong code, one by QR code, and revokes', async () => {
    const { page, context, errors } = await openPage(browser, url);
    page.setDefaultTimeout(10_000);
    // Keeps the camera streams the page opens, to check that each is stopped after the scan.
    await context.addInitScript(() => {
      const open = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      const streams: MediaStream[] = [];
      Object.assign(window, { cameraStreams: streams });
      navigator.mediaDevices.getUserMedia = async (c) => {
        const s = await open(c);
        streams.push(s);
        return s;
      };
    });
    await page.goto(`/plants/${plantId}`);
    const list = page.getByTestId('remote-collectors');
    await list.getByText('No remote collector yet', { exact: false }).waitFor();

    // Typed: lower case, the code with its dash; first with a wrong code.
    let dialog = await openAdd(page);
    await dialog.getByLabel('Serial number').fill(TYPED.serial.toLowerCase());
    await dialog.getByLabel('Claim code').fill('ab12-cd35');
    await dialog.getByTestId('add-collector-submit').click();
    expect(await dialog.getByTestId('claim-error').textContent()).toBe(
      "No collector with this serial and claim code has contacted this cloud yet — check both, and that the collector's cloud.url points here.",
    );
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/add-collector-404.png` });
    // Not a claim code at all: the page says so under the field, nothing is sent.
    await dialog.getByLabel('Claim code').fill('ab12');
    await dialog.getByTestId('add-collector-submit').click();
    await dialog.getByTestId('claim_code-error').waitFor();
    await dialog.getByLabel('Claim code').fill('ab12-cd34');
    await dialog.getByTestId('add-collector-submit').click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByTestId('collector-notice').waitFor();
    const typed = list.getByTestId(`remote-${TYPED.serial}`);
    await typed.waitFor();
    expect(await typed.getAttribute('data-state')).toBe('claimed');
    expect(await typed.getAttribute('data-link')).toBe('unknown');
    expect(await typed.textContent()).toContain('0.1.0');
    // Its gateway is now one of the plant's collectors, where its batteries will be listed.
    await page.getByTestId(`collector-${TYPED.gateway_id}`).waitFor();

    // Pasting `openbms link --show --json` into the serial field fills both fields.
    dialog = await openAdd(page);
    await dialog.getByLabel('Serial number').evaluate(
      (el, text) => {
        const data = new DataTransfer();
        data.setData('text/plain', text);
        el.dispatchEvent(
          new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
        );
      },
      JSON.stringify({ serial: PASTED.serial, claim_code: PASTED.claim_code }),
    );
    expect(await dialog.getByLabel('Serial number').inputValue()).toBe(PASTED.serial);
    expect(await dialog.getByLabel('Claim code').inputValue()).toBe('MN0P-4XY6');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });

    // Scanned: the fake camera shows the collector's QR code; the fields fill, the camera stops.
    connected.add(SCANNED.serial);
    dialog = await openAdd(page);
    await dialog.getByTestId('scan-qr').click();
    await dialog.getByTestId('scan-done').waitFor();
    expect(await dialog.getByTestId('qr-scanner').count()).toBe(0);
    expect(await dialog.getByLabel('Serial number').inputValue()).toBe(SCANNED.serial);
    expect(await dialog.getByLabel('Claim code').inputValue()).toBe('Q7RS-2TV9');
    // The camera was opened once, and is stopped.
    expect(
      await page.evaluate(() =>
        (window as unknown as { cameraStreams: MediaStream[] }).cameraStreams.flatMap((s) =>
          s.getTracks().map((t) => t.readyState),
        ),
      ),
    ).toEqual(['ended']);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/add-collector-scanned.png` });
    await dialog.getByTestId('add-collector-submit').click();
    await dialog.waitFor({ state: 'detached' });
    const scanned = list.getByTestId(`remote-${SCANNED.serial}`);
    await scanned.waitFor();
    expect(await scanned.getAttribute('data-state')).toBe('claimed');
    expect(await scanned.getAttribute('data-link')).toBe('online');
    expect(told).toEqual([`claimed ${TYPED.serial}`, `claimed ${SCANNED.serial}`]);

    // Claimed already: the serial field says so.
    dialog = await openAdd(page);
    await dialog.getByLabel('Serial number').fill(TYPED.serial);
    await dialog.getByLabel('Claim code').fill(TYPED.claim_code);
    await dialog.getByTestId('add-collector-submit').click();
    await dialog.getByTestId('serial-error').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/remote-collectors.png`, fullPage: true });

    // Revoke, after the confirmation.
    await typed.getByTestId(`revoke-${TYPED.serial}`).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => typed.getAttribute('data-state')).toBe('revoked');
    expect(await typed.getByTestId(`revoke-${TYPED.serial}`).count()).toBe(0);
    expect(told).toContain(`revoked ${TYPED.serial}`);
    expect(errors).toEqual([]);
    await context.close();
  }, 45_000);

  it('says so when the camera is refused, and when a QR code is not a collector claim (in Chinese)', async () => {
    // The camera's answers come from the page here: a refusal, then a canvas showing a QR
    // code of a web address (a real video stream, decoded by the real reader).
    const foreign = QRCode.create('https://example.com/', { errorCorrectionLevel: 'M' });
    const modules = Array.from({ length: foreign.modules.size ** 2 }, (_, i) =>
      foreign.modules.data[i] ? 1 : 0,
    );
    const { page, context, errors } = await openPage(browser, url, { lang: 'zh' });
    page.setDefaultTimeout(10_000);
    await context.addInitScript(
      (m: { n: number; bits: number[] }) => {
        let calls = 0;
        navigator.mediaDevices.getUserMedia = async () => {
          if (calls++ === 0) throw new DOMException('Permission denied', 'NotAllowedError');
          const canvas = document.createElement('canvas');
          canvas.width = 320;
          canvas.height = 240;
          const ctx = canvas.getContext('2d')!;
          const scale = Math.floor(240 / (m.n + 8));
          const x0 = (320 - m.n * scale) / 2;
          const y0 = (240 - m.n * scale) / 2;
          const draw = (): void => {
            ctx.fillStyle = '#fff';
            ctx.fillRect(0, 0, 320, 240);
            ctx.fillStyle = '#000';
            m.bits.forEach((b, i) => {
              if (b)
                ctx.fillRect(
                  x0 + (i % m.n) * scale,
                  y0 + Math.floor(i / m.n) * scale,
                  scale,
                  scale,
                );
            });
          };
          draw();
          setInterval(draw, 100);
          return canvas.captureStream(10);
        };
      },
      { n: foreign.modules.size, bits: modules },
    );
    await page.goto(`/plants/${plantId}`);
    const dialog = await openAdd(page);
    await dialog.getByTestId('scan-qr').click();
    expect(await dialog.getByTestId('camera-problem').textContent()).toContain('摄像头权限被拒绝');
    await dialog.getByTestId('scan-stop').click();
    await dialog.getByTestId('scan-qr').click();
    expect(await dialog.getByTestId('not-a-claim').textContent()).toBe(
      '此二维码不是 OpenBMS 采集器认领码：“https://example.com/”。',
    );
    // It goes on looking: the fields stay empty.
    expect(await dialog.getByLabel('序列号').inputValue()).toBe('');
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/add-collector-scanner-zh.png` });
    await dialog.getByTestId('scan-stop').click();
    expect(errors).toEqual([]);
    await context.close();
  }, 30_000);
});
