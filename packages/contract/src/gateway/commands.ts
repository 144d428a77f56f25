/**
 * Commands to a gateway and their results, as they cross the seam. A command names its
 * transaction (`txn`, chosen by the sender, unique per command: a ULID), the gateway, the pack,
 * the operation with its arguments, and the principal it runs for. The gateway runs a
 * transaction at most once: a command that arrives again with a txn already seen is answered
 * with the result of the first (or refused when its content differs), so a sender that timed
 * out may send the very same command again to learn what happened.
 *
 * The result says `done`, `refused` (nothing was changed, on purpose: validation, interlock,
 * capability, confirmation, device refusal) or `failed` (something may have been sent: a
 * transport error, a read-back mismatch, a write that failed part-way), with the error's code
 * and details, the command's status as the gateway's log keeps it, and what reading back
 * showed. The gateway's own safe write path (validation, interlocks, exclusive slot,
 * read-back, audit) runs for every command whatever sends it.
 */
import { z } from 'zod';
import { INVERTER_MODES } from '../api/control.js';
import {
  COMMAND_STATES,
  commandStatusWireSchema,
  idSchema,
  packIdSchema,
  versionSchema,
} from './common.js';

/** Who a command runs for: the principal the sender checked (user id, name, organisation). */
export const commandPrincipalSchema = z.object({
  /** Absent when no account asked (an integration acting under its name). */
  userId: idSchema.optional(),
  username: z.string().min(1).max(64),
  /** The organisation the principal acted in (the gateway's). */
  orgId: idSchema,
});
export type CommandPrincipal = z.infer<typeof commandPrincipalSchema>;

const head = {
  v: versionSchema,
  txn: idSchema,
  gatewayId: idSchema,
  packId: packIdSchema,
  principal: commandPrincipalSchema,
};

const confirmArgs = z.object({ confirm: z.string().min(1).max(200) });

export const gatewayCommandSchema = z.discriminatedUnion('op', [
  z.object({
    ...head,
    op: z.literal('parameters.write'),
    args: z.object({
      values: z.record(z.string().min(1).max(100), z.number()),
      /** Validate and plan only; nothing is written or audited. */
      dry_run: z.boolean().optional(),
    }),
  }),
  z.object({
    ...head,
    op: z.literal('mos.set'),
    args: z.object({ which: z.enum(['charge', 'discharge']), on: z.boolean() }),
  }),
  z.object({ ...head, op: z.literal('soc.set'), args: z.object({ pct: z.number() }) }),
  z.object({
    ...head,
    op: z.literal('clock.set'),
    /** `ms` absent: the gateway's own time. */
    args: z.object({ ms: z.number().optional() }),
  }),
  z.object({ ...head, op: z.literal('parameters.restore_defaults'), args: confirmArgs }),
  z.object({ ...head, op: z.literal('pack.restart'), args: confirmArgs }),
  z.object({ ...head, op: z.literal('pack.factory_reset'), args: confirmArgs }),
  z.object({ ...head, op: z.literal('parameters.restore_profile'), args: confirmArgs }),
  z.object({ ...head, op: z.literal('pack.shutdown'), args: confirmArgs }),
  z.object({
    ...head,
    op: z.literal('records.clear'),
    args: z.object({ kind: z.enum(['data', 'alarm', 'all']), confirm: confirmArgs.shape.confirm }),
  }),
  z.object({
    ...head,
    op: z.literal('inverter_protocol.set'),
    args: z.object({
      can: z.number().int().min(0).max(255).optional(),
      rs485: z.number().int().min(0).max(255).optional(),
      mode: z.enum(INVERTER_MODES).optional(),
    }),
  }),
  z.object({
    ...head,
    op: z.literal('calibrate'),
    /** `value`: the true value from a reference meter, for the kinds that take one. */
    args: z.object({ kind: z.string().min(1).max(40), value: z.number().optional() }),
  }),
  z.object({
    ...head,
    /** packId: the event's pack (`gateway` for the gateway's own alarms). */
    op: z.literal('alarm.ack'),
    args: z.object({ alarm: z.number().int().min(1) }),
  }),
]);

export type GatewayCommand = z.infer<typeof gatewayCommandSchema>;
export type CommandOp = GatewayCommand['op'];
export type CommandOf<O extends CommandOp> = Extract<GatewayCommand, { op: O }>;

/** The operations, in the order of the schema's options. */
export const COMMAND_OPS = gatewayCommandSchema.options.map(
  (o) => o.shape.op.value,
) as readonly CommandOp[];

/** A parameter write's answer: per parameter what it was, what was asked, what reading back gave. */
export const writeResultWireSchema = z.object({
  dryRun: z.boolean(),
  results: z.array(
    z.object({
      id: z.string(),
      old: z.number().optional(),
      requested: z.number(),
      readback: z.number().optional(),
      ok: z.boolean(),
    }),
  ),
  /** The ids sent (in the order sent), or that would be on a dry run. */
  changed: z.array(z.string()),
});
export type WriteResultWire = z.infer<typeof writeResultWireSchema>;

export const commandResultSchema = z.object({
  v: versionSchema,
  txn: idSchema,
  gatewayId: idSchema,
  packId: packIdSchema,
  /** The operation as the command named it (a refused malformed command may name none we know). */
  op: z.string().min(1).max(100),
  status: z.enum(COMMAND_STATES),
  /** The error code (core's ErrorCode) of a refused or failed command. */
  code: z.string().min(1).max(64).optional(),
  /** What happened, in words (the error's message when it was not done). */
  detail: z.string(),
  /** The error's details (the field at fault, the rules broken, what was rolled back...). */
  details: z.record(z.string(), z.unknown()).optional(),
  /** The command's status as the gateway's log keeps it (absent for dry runs and acks). */
  command: commandStatusWireSchema.optional(),
  /** What reading back showed, e.g. `{charge_mos: false}`. */
  readback: z.record(z.string(), z.unknown()).optional(),
  /** `parameters.write`: the per-parameter result. */
  write: writeResultWireSchema.optional(),
});
export type CommandResult = z.infer<typeof commandResultSchema>;
