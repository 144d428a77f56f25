/**
 * Setting up a bus from the console (issue 12): the machine's serial ports, a scan of the
 * addresses on a port with progress (what answered: model, serial, cell count), and a test
 * read of one pack. Requests are checked strictly (zod, unknown keys refused). A port a
 * running bus polls is refused: its scheduler owns it (RS485 is half-duplex).
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { BmsError, type Reading } from '@openbms/core';
import { PROTOCOLS, getProtocol, lineChoices, lineIssues } from '@openbms/protocols';
import {
  createTransport,
  listSerialPorts,
  readPack,
  type SerialPortInfo,
  type Transport,
} from '@openbms/transport';
import { defaultScanAddresses } from '../scheduler/discovery.js';

const BAUDS = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] as const;

/** A serial device path (/dev/ttyUSB0, a pty link, COM3) or tcp://host:port; no spaces. */
const endpointSchema = z
  .string()
  .min(1)
  .max(200)
  .refine(
    (s) =>
      /^tcp:\/\/[A-Za-z0-9.-]+:\d{1,5}$/.test(s) ||
      /^\/[A-Za-z0-9._/-]+$/.test(s) ||
      /^COM\d{1,3}$/.test(s),
    { message: 'a serial device path (/dev/ttyUSB0, COM3) or tcp://host:port' },
  );

const linkFields = {
  port: endpointSchema,
  protocol: z.enum(PROTOCOLS.map((p) => p.id) as [string, ...string[]]),
  variant: z.string().min(1).max(40).optional(),
  baud: z
    .number()
    .int()
    .refine((b) => (BAUDS as readonly number[]).includes(b), {
      message: `one of ${BAUDS.join(', ')}`,
    })
    .optional(),
  /** Only where the family allows other than its own (see `protocols()`). */
  parity: z
    .enum(['none', 'even', 'odd'], { error: 'parity must be one of none, even, odd' })
    .optional(),
  stop_bits: z
    .union([z.literal(1), z.literal(2)], { error: 'stop_bits must be the number 1 or 2' })
    .optional(),
  timeout_ms: z.number().int().min(50).max(5000).optional(),
};

export const scanRequestSchema = z
  .object({
    ...linkFields,
    addresses: z.array(z.number().int().min(0).max(255)).min(1).max(64).optional(),
  })
  .strict();
export const testReadRequestSchema = z
  .object({ ...linkFields, address: z.number().int().min(0).max(255) })
  .strict();

export type ScanRequest = z.infer<typeof scanRequestSchema>;
export type TestReadRequest = z.infer<typeof testReadRequestSchema>;

/** The line a scan or test read opens the port with. */
export interface LineSettings {
  baud: number;
  dataBits: 7 | 8;
  parity: 'none' | 'even' | 'odd';
  stopBits: 1 | 2;
}

/** A family as the bus form offers it: its default line and the choices it allows. */
export interface ProtocolChoice {
  id: string;
  title: string;
  baud: number;
  data_bits: 7 | 8;
  parity: 'none' | 'even' | 'odd';
  stop_bits: 1 | 2;
  parities: readonly ('none' | 'even' | 'odd')[];
  stop_bits_choices: readonly (1 | 2)[];
  multi_drop: boolean;
}

/** One pack that answered a scan: what a person recognises it by. */
export interface ScanFound {
  address: number;
  model?: string;
  serial?: string;
  cell_count?: number;
  voltage_v?: number;
  soc_pct?: number;
}

export interface ScanJob {
  id: string;
  port: string;
  protocol: string;
  state: 'running' | 'done' | 'failed';
  /** Addresses to try, tried so far, and those that answered. */
  total: number;
  probed: number;
  /** The address being asked now (while running). */
  current?: number;
  found: ScanFound[];
  error?: string;
}

function check<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  throw new BmsError(
    'REQUEST_INVALID',
    `${what}: ${issues.map((i) => `${i.path || '(body)'}: ${i.message}`).join('; ')}`,
    { issues },
  );
}

function summary(address: number, r: Reading): ScanFound {
  const f: ScanFound = { address };
  const model = r.info?.model ?? r.info?.device_name;
  if (model) f.model = model;
  if (r.info?.serial) f.serial = r.info.serial;
  const cells = r.cell_count ?? r.cell_mv?.length;
  if (cells !== undefined) f.cell_count = cells;
  if (r.voltage_v !== undefined) f.voltage_v = r.voltage_v;
  if (r.soc_pct !== undefined) f.soc_pct = r.soc_pct;
  return f;
}

export interface BusSetupOptions {
  /** Ports the running buses poll: refused for a scan or a test read. */
  busyPorts: () => string[];
  listPorts?: () => Promise<SerialPortInfo[]>;
  openTransport?: (endpoint: string, line: LineSettings) => Transport;
}

/** Scans and test reads, one at a time per port; jobs are kept until the 20th newer one. */
export class BusSetup {
  private readonly jobs = new Map<string, ScanJob>();
  private readonly runs = new Map<string, Promise<void>>();
  private readonly portsInUse = new Set<string>();
  private readonly scanListeners = new Set<(job: ScanJob) => void>();

  constructor(private readonly o: BusSetupOptions) {}

  ports(): Promise<SerialPortInfo[]> {
    return (this.o.listPorts ?? listSerialPorts)();
  }

  /**
   * Every change of every scan (started, each address asked and answered, ended), for a push
   * channel (the server's live socket sends them to admins). A listener that throws breaks no scan
   * (its error is swallowed).
   */
  onScan(l: (job: ScanJob) => void): () => void {
    this.scanListeners.add(l);
    return () => this.scanListeners.delete(l);
  }

  private emit(job: ScanJob): void {
    const copy = { ...job, found: [...job.found] };
    for (const l of this.scanListeners) {
      try {
        l(copy);
      } catch {
        // a listener's failure is its own
      }
    }
  }

  /** The families a bus can speak, each with its default line and the line choices it allows. */
  protocols(): ProtocolChoice[] {
    return PROTOCOLS.map((def) => {
      const c = lineChoices(def);
      return {
        id: def.id,
        title: def.title,
        baud: def.link.baud,
        data_bits: def.link.dataBits,
        parity: def.link.parity,
        stop_bits: def.link.stopBits,
        parities: c.parity,
        stop_bits_choices: c.stopBits,
        multi_drop: def.capabilities.multiDrop,
      };
    });
  }

  private claim(port: string): void {
    if (this.o.busyPorts().includes(port))
      throw new BmsError(
        'COMMAND_REFUSED',
        `${port} is polled by a running bus: its scheduler owns the port (remove or edit that bus first)`,
        { field: 'port' },
      );
    if (this.portsInUse.has(port))
      throw new BmsError('COMMAND_REFUSED', `a scan or test read is already using ${port}`, {
        field: 'port',
      });
    this.portsInUse.add(port);
  }

  private async open(req: z.infer<typeof scanRequestSchema>): Promise<Transport> {
    const def = getProtocol(req.protocol);
    if (req.variant !== undefined && !def.variants.includes(req.variant))
      throw new BmsError(
        'REQUEST_INVALID',
        `variant: "${req.variant}" is not a ${def.id} variant (${def.variants.join(', ') || 'none'})`,
        { issues: [{ path: 'variant', message: 'unknown variant' }] },
      );
    const issues = lineIssues(def, {
      ...(req.parity !== undefined ? { parity: req.parity } : {}),
      ...(req.stop_bits !== undefined ? { stopBits: req.stop_bits } : {}),
    });
    if (issues.length > 0)
      throw new BmsError(
        'REQUEST_INVALID',
        issues.map((i) => `${i.field}: ${i.message}`).join('; '),
        {
          issues: issues.map((i) => ({ path: i.field, message: i.message })),
        },
      );
    const line = {
      baud: req.baud ?? def.link.baud,
      dataBits: def.link.dataBits,
      parity: req.parity ?? def.link.parity,
      stopBits: req.stop_bits ?? def.link.stopBits,
    };
    const t = this.o.openTransport
      ? this.o.openTransport(req.port, line)
      : createTransport(req.port, line);
    await t.open();
    return t;
  }

  /** Starts a scan; its progress is `scan(id)`. Refusals (bad request, busy port) throw. */
  async startScan(body: unknown): Promise<ScanJob> {
    const req = check(scanRequestSchema, body, 'scan');
    const def = getProtocol(req.protocol);
    const addresses = req.addresses ?? defaultScanAddresses(def);
    this.claim(req.port);
    let transport: Transport;
    try {
      transport = await this.open(req);
    } catch (e) {
      this.portsInUse.delete(req.port);
      throw e;
    }
    const job: ScanJob = {
      id: randomUUID(),
      port: req.port,
      protocol: def.id,
      state: 'running',
      total: addresses.length,
      probed: 0,
      found: [],
    };
    this.jobs.set(job.id, job);
    while (this.jobs.size > 20) {
      const old = this.jobs.keys().next().value!;
      this.jobs.delete(old);
      this.runs.delete(old);
    }
    const run = (async () => {
      try {
        for (const address of addresses) {
          job.current = address;
          this.emit(job);
          try {
            const r = await readPack(
              transport,
              def,
              req.variant !== undefined ? { address, variant: req.variant } : { address },
              { timeoutMs: req.timeout_ms ?? 300, retries: 0 },
            );
            job.found.push(summary(address, r.reading));
            this.emit(job); // shown as it answers, before the next address is asked
          } catch (e) {
            if (e instanceof BmsError && e.code === 'TRANSPORT_CLOSED') throw e;
            // silent or garbled: nothing answered there
          }
          job.probed++;
        }
        job.state = 'done';
      } catch (e) {
        job.state = 'failed';
        job.error = e instanceof Error ? e.message : String(e);
      } finally {
        delete job.current;
        await transport.close().catch(() => undefined);
        this.portsInUse.delete(req.port);
        this.emit(job);
      }
    })();
    this.runs.set(job.id, run);
    return { ...job, found: [...job.found] };
  }

  /** The scan once it has ended (done or failed). */
  async settled(id: string): Promise<ScanJob> {
    await this.runs.get(id);
    return this.scan(id);
  }

  scan(id: string): ScanJob {
    const job = this.jobs.get(id);
    if (!job) throw new BmsError('NOT_FOUND', `no scan ${id}`);
    return { ...job, found: [...job.found] };
  }

  /** One full read cycle of one pack: the snapshot, to show its cells before saving. */
  async testRead(body: unknown): Promise<Reading> {
    const req = check(testReadRequestSchema, body, 'test read');
    const def = getProtocol(req.protocol);
    this.claim(req.port);
    try {
      const transport = await this.open(req);
      try {
        const r = await readPack(
          transport,
          def,
          req.variant !== undefined
            ? { address: req.address, variant: req.variant }
            : { address: req.address },
          { timeoutMs: req.timeout_ms ?? 500, retries: 1 },
        );
        return r.reading;
      } finally {
        await transport.close().catch(() => undefined);
      }
    } finally {
      this.portsInUse.delete(req.port);
    }
  }
}
