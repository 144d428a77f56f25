// The API's JSON schemas live in the browser-safe contract (packages/contract/src/api), with
// the types derived from them; routes import them from there (or through this file).
export * from '@openbms/contract/api';
