/**
 * Pieces the gateway seam's messages share: the wire version, ids and times, and the records
 * that travel inside events and results (an alarm event, a command status).
 */
import type { Reading } from '@openbms/core';
import { z } from 'zod';
import { SEVERITIES } from '../config/enums.js';

/**
 * The seam's wire version, in every envelope, command and result. It changes when a field
 * changes meaning or a new required field appears; optional fields may be added within a
 * version (receivers ignore what they do not know).
 */
export const SEAM_VERSION = 1;

export const versionSchema = z.literal(SEAM_VERSION, {
  error: `v must be ${SEAM_VERSION} (the seam version this side speaks)`,
});

/** A gateway, organisation, user or record id (ULIDs; anything up to 64 characters). */
export const idSchema = z.string().min(1, 'must not be empty').max(64, 'at most 64 characters');

/** A pack id within its gateway (`<site>/<bus>/<address>`), or `gateway` for the gateway itself. */
export const packIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'at most 200 characters');

/** A time, ms since the epoch. */
export const msSchema = z.number().nonnegative('must be ms since the epoch');

/** The canonical snapshot (core's `Reading`): an object whose keys are catalog metrics. */
export const readingSchema = z.custom<Reading>(
  (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  'must be a snapshot object',
);

/** An alarm event as the storage port holds it (`AlarmEvent`). */
export const alarmEventWireSchema = z.object({
  id: idSchema,
  localId: z.number().int().min(1),
  orgId: idSchema,
  gatewayId: idSchema,
  packId: packIdSchema,
  code: z.string().min(1).max(100),
  severity: z.enum(SEVERITIES),
  level: z.number().int().optional(),
  origin: z.enum(['bms', 'rule', 'gateway']),
  ruleId: z.string().optional(),
  raisedAt: msSchema,
  clearedAt: msSchema.optional(),
  acknowledgedAt: msSchema.optional(),
  acknowledgedBy: z.string().optional(),
  value: z.number().optional(),
  message: z.string(),
});
export type AlarmEventWire = z.infer<typeof alarmEventWireSchema>;

export const COMMAND_STATES = ['done', 'refused', 'failed'] as const;
export type CommandState = (typeof COMMAND_STATES)[number];

/** A sentence as a key and its parameters (core's ServerText). */
export const serverTextSchema = z.object({
  key: z.string().min(1).max(100),
  params: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
});

/** A control command's status as the gateway's command log keeps it. */
export const commandStatusWireSchema = z.object({
  /** The gateway's own number for the command (the API's command id). */
  id: z.number().int().min(1),
  packId: packIdSchema,
  /** The audit action (`mos.charge`, `parameter.write`...). */
  action: z.string().min(1).max(100),
  /** Who asked: a user name, or an integration (`mqtt`, `modbus`). */
  user: z.string().min(1).max(64),
  /** The principal's user id, when an account asked. */
  userId: idSchema.optional(),
  at: msSchema,
  status: z.enum(COMMAND_STATES),
  detail: z.string(),
  /** The detail as a key and parameters, for the console to translate. */
  text: serverTextSchema.optional(),
});
export type CommandStatusWire = z.infer<typeof commandStatusWireSchema>;
