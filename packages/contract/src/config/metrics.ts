import { z } from 'zod';

/** `metrics:` section: whether the server mounts GET /metrics (Prometheus text format). */
export const metricsConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Require a token (the server's auth) to scrape; false serves it to anyone who can reach it. */
    auth: z.boolean().default(true),
  })
  .strict();

export type MetricsConfig = z.infer<typeof metricsConfigSchema>;
