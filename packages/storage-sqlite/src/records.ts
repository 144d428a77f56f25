/**
 * The records module of the SQLite adapter: alarm events, the audit log, users and tokens.
 * One file per store; this one gathers them and their migrations.
 */
export { RECORDS_MIGRATIONS } from './records-migrations.js';
export { SqliteAlarms } from './records-alarms.js';
export { SqliteAudit } from './records-audit.js';
export { SqliteUsers, type TokenInfo } from './records-users.js';
export { SqliteOrgs } from './records-orgs.js';
export { SqliteAccounts } from './records-accounts.js';
export { SqliteDevices } from './records-devices.js';
export { SqlitePlants } from './records-plants.js';
export { SqlitePoints } from './records-points.js';
export { SqlitePositions } from './records-positions.js';
export { SqliteInstructions } from './records-instructions.js';
export { SqliteGeofences } from './records-geofences.js';
export { SqliteRemoteCollectors } from './records-remote-collectors.js';
