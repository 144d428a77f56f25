/**
 * Config sections of the Modbus TCP server (`modbus_tcp`) and client (`modbus_client`).
 * Unknown keys are errors; every message names what is accepted.
 */
import { z } from 'zod';
import { fieldProblem } from './checks.js';

const port = z
  .number({ error: 'port must be a number' })
  .int('port must be an integer')
  .min(1, 'port must be 1..65535')
  .max(65_535, 'port must be 1..65535');

export const modbusTcpConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Bind address; 0.0.0.0 serves every interface. */
    host: z.string().min(1, 'host must not be empty').default('127.0.0.1'),
    /** 5020 by default so no root is needed; 502 is the standard (privileged) port. */
    port: port.default(5020),
    /** Accept writes to the MOS registers (16, 17); everything else stays read-only. */
    writes: z.boolean().default(false),
    /**
     * Offset of local time from UTC, minutes: the day of "max SOC today" starts at local
     * midnight and its time registers are local. Default 0 (UTC).
     */
    utc_offset_min: z
      .number()
      .int('utc_offset_min must be whole minutes')
      .min(-720, 'utc_offset_min must be -720..840')
      .max(840, 'utc_offset_min must be -720..840')
      .default(0),
  })
  .strict();

export type ModbusTcpConfig = z.infer<typeof modbusTcpConfigSchema>;

/** `soc_pct`, or an element of an array metric, 0-based: `cell_mv[0]`, `temps_c[1]`. */
export function parseField(field: string): { key: string; index?: number } | string {
  const r = fieldProblem(field);
  if (!('problem' in r)) return r;
  switch (r.problem) {
    case 'format':
      return `"${field}" is not a metric key (e.g. soc_pct, cell_mv[0])`;
    case 'unknown':
      return `"${r.key}" is not in the metric catalog`;
    case 'list':
      return `"${r.key}" is a ${r.type}; use a number or boolean metric, or an element like ${r.key}[0]`;
    case 'not_list':
      return `"${r.key}" is not a list; drop the [${r.index}]`;
  }
}

export const modbusClientWriteSchema = z
  .object({
    /** Pack id, `<site>/<bus>/<address>`. */
    pack: z.string().min(1, 'pack must be a pack id like home/rs485-1/2'),
    field: z.string().superRefine((f, ctx) => {
      const r = parseField(f);
      if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r });
    }),
    /** First register (0-based protocol address) on the remote server. */
    register: z.number().int().min(0, 'register must be 0..65535').max(65_535),
    type: z.enum(['u16', 's16', 'float'], { error: 'type must be one of u16, s16, float' }),
    /** The register holds value x scale (e.g. 100 for 0.01 V steps); rounded for integers. */
    scale: z
      .number()
      .refine((n) => n !== 0 && Number.isFinite(n), 'scale must be non-zero')
      .default(1),
  })
  .strict();

export const modbusClientConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    host: z.string().min(1, 'host must not be empty'),
    port: port.default(502),
    unit_id: z.number().int().min(0).max(255, 'unit_id must be 0..255').default(1),
    interval_s: z.number().min(0.1, 'interval_s must be at least 0.1').max(86_400).default(10),
    timeout_ms: z.number().int().min(50).max(60_000).default(2000),
    /** Word order of floats: low word first (as our server, "float little endian") or high. */
    float_words: z.enum(['low_first', 'high_first']).default('low_first'),
    writes: z.array(modbusClientWriteSchema).min(1, 'writes must list at least one value'),
  })
  .strict();

export type ModbusClientConfig = z.infer<typeof modbusClientConfigSchema>;
export type ModbusClientWrite = z.infer<typeof modbusClientWriteSchema>;
