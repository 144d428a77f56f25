/**
 * Listing serial ports without udevadm: a sysfs tree made in a temporary directory as the
 * kernel lays it out (a USB adapter's tty under its interface under the USB device, an 8250
 * placeholder, a real on-board port, a virtual console without a device).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listSerialPorts, sysfsSerialPorts } from './serial.js';

const base = mkdtempSync(join(tmpdir(), 'openbms-sysfs-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

function tree(): string {
  const devices = join(base, 'devices');
  const usb = join(devices, 'pci0000:00/usb1/1-1');
  const iface = join(usb, '1-1:1.0');
  mkdirSync(join(iface, 'ttyUSB0'), { recursive: true });
  writeFileSync(join(usb, 'idVendor'), '1A86\n');
  writeFileSync(join(usb, 'idProduct'), '7523\n');
  writeFileSync(join(usb, 'manufacturer'), 'QinHeng\n');
  writeFileSync(join(usb, 'serial'), 'A1B2\n');
  mkdirSync(join(devices, 'platform/serial8250'), { recursive: true });
  mkdirSync(join(devices, 'pnp0/00:00'), { recursive: true });
  const cls = join(base, 'class/tty');
  for (const [name, target] of [
    ['ttyUSB0', join(iface, 'ttyUSB0')],
    ['ttyS1', join(devices, 'platform/serial8250')],
    ['ttyS0', join(devices, 'pnp0/00:00')],
  ] as const) {
    mkdirSync(join(cls, name), { recursive: true });
    symlinkSync(target, join(cls, name, 'device'));
  }
  mkdirSync(join(cls, 'tty1'), { recursive: true });
  return cls;
}

describe('serial ports from sysfs (no udevadm)', () => {
  it('lists ports with a device behind them, names the USB chip, skips placeholders and consoles', () => {
    expect(sysfsSerialPorts(tree(), '/dev')).toEqual([
      { path: '/dev/ttyS0' },
      {
        path: '/dev/ttyUSB0',
        vendorId: '1a86',
        productId: '7523',
        manufacturer: 'QinHeng',
        serialNumber: 'A1B2',
        chip: 'QinHeng CH340',
      },
    ]);
  });

  it('gives an empty list for a machine without the tty class', () => {
    expect(sysfsSerialPorts(join(base, 'nothing-here'))).toEqual([]);
  });

  it('lists this machine’s ports with or without udevadm, never failing', async () => {
    const ports = await listSerialPorts();
    expect(Array.isArray(ports)).toBe(true);
    for (const p of ports) expect(p.path).toMatch(/^\/dev\//);
  });
});
