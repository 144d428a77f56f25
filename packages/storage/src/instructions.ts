/**
 * Instructions sent to GPS trackers (issue 17, seed 003; docs/trackers.md "Instructions"):
 * locate now, restart, factory reset, arm, disarm, with the terminal's reply, and the armed
 * state a tracker last reported or was set to.
 *
 * Life of an instruction: `queued` (created by the API; waits for the tracker to be online
 * on some node, at most until `expiresAt`) → `sent` (claimed by the node that holds the
 * tracker's connection: one node only, the claim is a conditional update) → `replied` (the
 * terminal answered: its result and text) or `failed` (it refused, or no reply in time);
 * a queued one past its expiry becomes `expired`. Every move is a conditional update, so two
 * nodes (one PostgreSQL) never both send one instruction nor overwrite a final state.
 *
 * Scope: the store answers by device id; the server asks the device list (scoped by the
 * policy) first, so a device outside the caller's subtree is 404 before anything is read.
 */
import { ident, invalid, oneOf, text, time } from './validate.js';

export const INSTRUCTION_KINDS = [
  'locate',
  'restart',
  'factory_reset',
  'arm',
  'disarm',
  'air_upgrade',
] as const;
export type InstructionKind = (typeof INSTRUCTION_KINDS)[number];

export const INSTRUCTION_STATES = ['queued', 'sent', 'replied', 'failed', 'expired'] as const;
export type InstructionState = (typeof INSTRUCTION_STATES)[number];

export interface Instruction {
  /** ULID. */
  id: string;
  deviceId: string;
  /** The device's organisation when it was created. */
  orgId: string;
  kind: InstructionKind;
  state: InstructionState;
  createdAt: number;
  /** The user who asked (id) and their name as it was then. */
  createdBy: string;
  createdByName: string;
  /** A queued instruction not sent by then becomes `expired`. */
  expiresAt: number;
  sentAt?: number;
  /** The node (gateway id) that sent it. */
  sentBy?: string;
  /** When it became replied or failed. */
  repliedAt?: number;
  /** `ok`, or why not (`failure`, `not_supported`, `no_reply`, ...). */
  result?: string;
  /** What the terminal said (GT06 reply text; JT/T 808: the result or the located fix). */
  reply?: string;
}

export interface NewInstruction {
  deviceId: string;
  orgId: string;
  kind: InstructionKind;
  createdAt: number;
  createdBy: string;
  createdByName: string;
  expiresAt: number;
}

export interface InstructionOutcome {
  state: 'replied' | 'failed';
  at: number;
  result: string;
  reply?: string;
}

export interface TrackerState {
  deviceId: string;
  armed: boolean;
  /** Time of the report or reply that set it. */
  armedAt: number;
  /** `instruction`: an arm/disarm reply; `report`: the tracker's own status (0xF3, GT06 bit 0). */
  armedSource: 'instruction' | 'report';
}

/** At most this many devices per `queued` call and instructions per `list`. */
export const MAX_INSTRUCTION_DEVICES = 1000;
export const MAX_INSTRUCTIONS = 200;
/** Longest reply text kept. */
export const MAX_REPLY_CHARS = 1000;

export interface InstructionStore {
  create(i: NewInstruction): Promise<Instruction>;
  get(id: string): Promise<Instruction | undefined>;
  /** A device's instructions, newest first (at most `limit`, default 50). */
  list(deviceId: string, limit?: number): Promise<Instruction[]>;
  /** Queued instructions of these devices not expired at `now`, oldest first. */
  queued(deviceIds: readonly string[], now: number): Promise<Instruction[]>;
  /** queued (and not expired at `at`) → sent by `node`; false when another got it first. */
  claim(id: string, node: string, at: number): Promise<boolean>;
  /** sent → replied/failed; false when it was not `sent` (already final). */
  finish(id: string, outcome: InstructionOutcome): Promise<boolean>;
  /** queued with expiresAt <= now → expired; returns how many. */
  expire(now: number): Promise<number>;
  /** sent before `sentBefore` and still unanswered → failed (`no_reply`) at `at`. */
  timeOut(sentBefore: number, at: number): Promise<number>;
  /** Keeps the armed state unless a later one is stored already. */
  setArmed(s: TrackerState): Promise<void>;
  trackerState(deviceId: string): Promise<TrackerState | undefined>;
}

// ---------------------------------------------------------------- checks

export function newInstruction(value: unknown): NewInstruction {
  if (typeof value !== 'object' || value === null)
    throw invalid('instruction', 'must be an object');
  const v = value as Record<string, unknown>;
  const createdAt = Math.round(time(v['createdAt'], 'createdAt'));
  const expiresAt = Math.round(time(v['expiresAt'], 'expiresAt'));
  if (expiresAt < createdAt) throw invalid('expiresAt', 'must not be before createdAt');
  return {
    deviceId: ident(v['deviceId'], 'deviceId'),
    orgId: ident(v['orgId'], 'orgId'),
    kind: oneOf(v['kind'], 'kind', INSTRUCTION_KINDS),
    createdAt,
    createdBy: text(v['createdBy'], 'createdBy', 100),
    createdByName: text(v['createdByName'], 'createdByName', 200),
    expiresAt,
  };
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/g;

export function outcome(value: unknown): {
  state: 'replied' | 'failed';
  at: number;
  result: string;
  reply: string | null;
} {
  if (typeof value !== 'object' || value === null) throw invalid('outcome', 'must be an object');
  const v = value as Record<string, unknown>;
  const r = v['reply'];
  if (r !== undefined && r !== null && typeof r !== 'string')
    throw invalid('reply', 'must be a string');
  return {
    state: oneOf(v['state'], 'state', ['replied', 'failed'] as const),
    at: Math.round(time(v['at'], 'at')),
    result: text(v['result'], 'result', 100),
    // A terminal's text: control characters become spaces, the rest is kept up to the limit.
    reply: typeof r === 'string' ? r.replace(CONTROL_CHARS, ' ').slice(0, MAX_REPLY_CHARS) : null,
  };
}

export function deviceIds(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > MAX_INSTRUCTION_DEVICES)
    throw invalid('deviceIds', `must be an array of at most ${MAX_INSTRUCTION_DEVICES}`);
  return value.map((d) => ident(d, 'deviceIds'));
}

export function listLimit(value: unknown): number {
  const n = value ?? 50;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_INSTRUCTIONS)
    throw invalid('limit', `must be a whole number 1..${MAX_INSTRUCTIONS}`);
  return n;
}

export function trackerState(value: unknown): TrackerState {
  if (typeof value !== 'object' || value === null) throw invalid('state', 'must be an object');
  const v = value as Record<string, unknown>;
  if (typeof v['armed'] !== 'boolean') throw invalid('armed', 'must be true or false');
  return {
    deviceId: ident(v['deviceId'], 'deviceId'),
    armed: v['armed'],
    armedAt: Math.round(time(v['armedAt'], 'armedAt')),
    armedSource: oneOf(v['armedSource'], 'armedSource', ['instruction', 'report'] as const),
  };
}

// ---------------------------------------------------------------- rows

export const INSTRUCTION_COLUMNS =
  'id, device_id, org_id, kind, state, created_at, created_by, created_by_name, expires_at, sent_at, sent_by, replied_at, result, reply';

export interface InstructionRow {
  id: string;
  device_id: string;
  org_id: string;
  kind: string;
  state: string;
  created_at: number | string;
  created_by: string;
  created_by_name: string;
  expires_at: number | string;
  sent_at: number | string | null;
  sent_by: string | null;
  replied_at: number | string | null;
  result: string | null;
  reply: string | null;
}

export function instructionFromRow(r: InstructionRow): Instruction {
  const i: Instruction = {
    id: r.id,
    deviceId: r.device_id,
    orgId: r.org_id,
    kind: r.kind as InstructionKind,
    state: r.state as InstructionState,
    createdAt: Number(r.created_at),
    createdBy: r.created_by,
    createdByName: r.created_by_name,
    expiresAt: Number(r.expires_at),
  };
  if (r.sent_at !== null) i.sentAt = Number(r.sent_at);
  if (r.sent_by !== null) i.sentBy = r.sent_by;
  if (r.replied_at !== null) i.repliedAt = Number(r.replied_at);
  if (r.result !== null) i.result = r.result;
  if (r.reply !== null) i.reply = r.reply;
  return i;
}

export interface TrackerStateRow {
  device_id: string;
  armed: number | boolean;
  armed_at: number | string;
  armed_source: string;
}

export function trackerStateFromRow(r: TrackerStateRow): TrackerState {
  return {
    deviceId: r.device_id,
    armed: r.armed === true || r.armed === 1,
    armedAt: Number(r.armed_at),
    armedSource: r.armed_source as TrackerState['armedSource'],
  };
}
