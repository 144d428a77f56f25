/** Instructions sent to GPS trackers and their armed state (issue 17, docs/trackers.md "Instructions"). */
import type { FromSchema } from 'json-schema-to-ts';
import { errorSchema } from './common.js';

export const INSTRUCTION_KIND_VALUES = [
  'locate',
  'restart',
  'factory_reset',
  'arm',
  'disarm',
  'air_upgrade',
] as const;

/** Seconds a queued instruction waits for an offline tracker: default, least and most. */
export const INSTRUCTION_EXPIRY_S = { default: 600, min: 10, max: 86_400 } as const;

export const instructionBody = {
  type: 'object',
  required: ['kind'],
  additionalProperties: false,
  properties: {
    kind: {
      type: 'string',
      enum: INSTRUCTION_KIND_VALUES,
      description:
        'locate: report a fix now; restart; factory_reset; arm / disarm: the anti-theft alarm (operator); air_upgrade: refused (firmware updates are issue 16).',
    },
    expires_in_s: {
      type: 'integer',
      minimum: INSTRUCTION_EXPIRY_S.min,
      maximum: INSTRUCTION_EXPIRY_S.max,
      default: INSTRUCTION_EXPIRY_S.default,
      description: 'How long it waits for an offline tracker before it expires (seconds).',
    },
  },
} as const;
export type InstructionBody = FromSchema<typeof instructionBody>;

export const instructionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'kind', 'state', 'created_at', 'created_by', 'expires_at'],
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: INSTRUCTION_KIND_VALUES },
    state: {
      type: 'string',
      enum: ['queued', 'sent', 'replied', 'failed', 'expired'],
      description:
        'queued: waits for the tracker to be online; sent: waits for its reply; replied / failed: the answer (or no_reply); expired: never sent.',
    },
    created_at: { type: 'integer', description: 'ms since the epoch' },
    created_by: { type: 'string', description: 'The user who asked.' },
    expires_at: { type: 'integer' },
    sent_at: { type: 'integer' },
    replied_at: { type: 'integer' },
    result: {
      type: 'string',
      description: 'ok, or why not: failure, message_error, not_supported, no_reply, send_failed.',
    },
    reply: { type: 'string', description: 'What the tracker answered (text, or the located fix).' },
  },
} as const;
export type InstructionView = FromSchema<typeof instructionSchema>;

export const instructionListSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['armed', 'instructions'],
  properties: {
    armed: {
      type: ['boolean', 'null'],
      description: 'The anti-theft state last reported or set; null: never known.',
    },
    armed_at: { type: 'integer' },
    armed_source: { type: 'string', enum: ['instruction', 'report'] },
    instructions: {
      type: 'array',
      description: 'Newest first (at most 50).',
      items: instructionSchema,
    },
  },
} as const;
export type InstructionList = FromSchema<typeof instructionListSchema>;

export const instructionRefused = {
  ...errorSchema,
  description:
    'Refused (COMMAND_REFUSED): air_upgrade (firmware updates come with issue 16), or the device is not a GPS tracker. Nothing was queued.',
} as const;
