/**
 * The API contract: JSON schemas (what the server validates, serializes and documents) and
 * the TypeScript types derived from them. No zod here: the web bundles only plain objects.
 */
export * from './common.js';
export * from './packs.js';
export * from './energy.js';
export * from './alarms.js';
export * from './auth.js';
export * from './control.js';
export * from './settings.js';
export * from './notifications.js';
export * from './exports.js';
export * from './integrations.js';
export {
  CHANNEL_TYPES,
  NOTIFY_EVENTS,
  SEVERITIES,
  type ChannelType,
  type NotifyEvent,
  type Severity,
} from '../config/enums.js';
export * from './live.js';
// The collector serial and claim code helpers (zod-free) for the web's "Add collector".
export * from '../gateway/claim.js';
export * from './orgs.js';
export * from './devices.js';
export * from './plants.js';
export * from './points.js';
export * from './positions.js';
export * from './instructions.js';
export * from './geofences.js';
export * from './renewals.js';
export * from './collectors.js';
