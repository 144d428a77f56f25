/**
 * The `cloud:` section of the config file: this site is a collector of a fleet cloud
 * (issue 15; docs/collectors.md "Config").
 *
 * ```yaml
 * cloud:
 *   url: https://cloud.example.com   # the cloud's web address (http only for localhost)
 *   outbox_max_mb: 256               # the outbox's bound on disk; 1..100000
 *   drain_batches_per_s: 4           # at most this many `up` messages a second; 1..100
 *   hello_interval_s: 30             # between hellos until claimed (a claim takes effect then); 1..3600
 * ```
 */
import { z } from 'zod';

/** The outbox's bound when the config says nothing, MB. */
export const DEFAULT_OUTBOX_MAX_MB = 256;
/** How many `up` messages a collector publishes a second at most when it says nothing. */
export const DEFAULT_DRAIN_BATCHES_PER_S = 4;

/** Seconds between a collector's hellos until it is claimed, when the config says nothing. */
export const DEFAULT_HELLO_INTERVAL_S = 30;

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** The cloud's URL: https, or http to this computer (tests, a cloud on the same box). */
export const cloudUrlSchema = z
  .string({ error: "url must be the cloud's https URL" })
  .superRefine((v, ctx) => {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: `url must be the cloud's https URL, e.g. https://cloud.example.com (got "${v}")`,
      });
      return;
    }
    const local = LOCAL_HOSTS.has(u.hostname) || /^127\./.test(u.hostname);
    if (u.protocol === 'https:' || (u.protocol === 'http:' && local)) {
      if (u.username || u.password)
        ctx.addIssue({ code: 'custom', message: 'url must not hold a user name or password' });
      return;
    }
    ctx.addIssue({
      code: 'custom',
      message:
        u.protocol === 'http:'
          ? 'url must use https (http only for localhost / 127.0.0.1)'
          : `url must be an https URL (got ${u.protocol.replace(/:$/, '')})`,
    });
  });

export const cloudConfigSchema = z
  .object({
    url: cloudUrlSchema,
    outbox_max_mb: z
      .number({ error: 'outbox_max_mb must be a number of MB' })
      .min(1, 'outbox_max_mb must be at least 1')
      .max(100_000, 'outbox_max_mb must be at most 100000')
      .default(DEFAULT_OUTBOX_MAX_MB),
    drain_batches_per_s: z
      .number({ error: 'drain_batches_per_s must be a number' })
      .int('drain_batches_per_s must be a whole number')
      .min(1, 'drain_batches_per_s must be at least 1')
      .max(100, 'drain_batches_per_s must be at most 100')
      .default(DEFAULT_DRAIN_BATCHES_PER_S),
    hello_interval_s: z
      .number({ error: 'hello_interval_s must be a number of seconds' })
      .int('hello_interval_s must be a whole number of seconds')
      .min(1, 'hello_interval_s must be at least 1')
      .max(3600, 'hello_interval_s must be at most 3600')
      .default(DEFAULT_HELLO_INTERVAL_S),
  })
  .strict();

export type CloudConfig = z.infer<typeof cloudConfigSchema>;
