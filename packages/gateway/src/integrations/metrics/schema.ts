// The `metrics:` section's schema lives in the browser-safe contract (packages/contract).
export { metricsConfigSchema, type MetricsConfig } from '@openbms/contract';
