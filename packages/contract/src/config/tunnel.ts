/**
 * Config section `tunnel`: one bus exposed as a raw TCP port for vendor PC software.
 * Off unless an admin enables it. Unknown keys are errors; every message says what is accepted.
 */
import { z } from 'zod';
import { parseCidr } from './cidr.js';

export const tunnelConfigSchema = z
  .object({
    enabled: z.boolean({ error: 'enabled must be true or false' }).default(false),
    /** The bus to expose, `<site>/<bus>` as in the sites section. */
    bus: z
      .string({ error: 'bus must be a bus id like home/rs485-1' })
      .regex(/^[^/\s]+\/[^/\s]+$/, 'bus must be "<site>/<bus>", e.g. home/rs485-1'),
    /** Bind address; 0.0.0.0 serves every interface (then use `allow`). */
    host: z.string().min(1, 'host must not be empty').default('127.0.0.1'),
    /** 6790 as seed 001's dongle; 0 picks any free port (tests). */
    port: z
      .number({ error: 'port must be a number' })
      .int('port must be an integer')
      .min(0, 'port must be 0..65535 (0 = any free port)')
      .max(65_535, 'port must be 0..65535 (0 = any free port)')
      .default(6790),
    /** No byte either way for this long ends the session (seed 001: 120 s). */
    timeout_s: z
      .number({ error: 'timeout_s must be a number of seconds' })
      .positive('timeout_s must be more than 0')
      .max(86_400, 'timeout_s must be at most 86400 (one day)')
      .default(120),
    /** Source addresses allowed to connect: IPv4 addresses or CIDR blocks. Empty: any. */
    allow: z
      .array(
        z.string().refine((s) => parseCidr(s) !== undefined, {
          error: (i) =>
            `allow: "${String(i.input)}" is not an IPv4 address or CIDR block (e.g. 192.168.1.0/24)`,
        }),
      )
      .default([]),
  })
  .strict();

export type TunnelConfig = z.infer<typeof tunnelConfigSchema>;
