export {
  GatewayMetrics,
  renderMetrics,
  METRICS_CONTENT_TYPE,
  type MetricsSource,
} from './render.js';
export { metricsConfigSchema, type MetricsConfig } from './schema.js';
