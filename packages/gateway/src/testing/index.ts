/**
 * The gateway's test helpers other packages' tests use (`@openbms/gateway/testing`, resolved
 * to this file by vitest and tsconfig.test.json only: `src/testing/` is not built).
 */
export { simulatedBuses, type SimulatedBuses } from './sim-buses.js';
export { opensslIn, selfSignedCert, type TestCert } from './tls.js';
export { HttpReceiver } from './notify.js';
export { BROKER, Watcher, namespace } from './mqtt.js';
export { JsonWireLink } from './json-wire.js';
export { TestBroker, freePort } from './mosquitto.js';
