export * from './mileage.js';
export * from './ingest.js';
export * from './listener.js';
export * from './servers.js';
export * from './alarm-map.js';
export * from './geofence.js';
