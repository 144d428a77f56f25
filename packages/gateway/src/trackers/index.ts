export * from './mileage.js';
export * from './ingest.js';
export * from './listener.js';
export * from './servers.js';
export * from './alarm-map.js';
export * from './geofence.js';
export * from './bms.js';
/** The registry the tracker servers register their pass-through links in (`tracker://<serial>`). */
export { trackerEndpoint, virtualLinks, VirtualLinks } from '@openbms/transport';
