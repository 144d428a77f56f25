/** The `cloud:` section: https (http only to this computer), defaults, unknown keys refused. */
import { describe, expect, it } from 'vitest';
import { cloudConfigSchema } from './cloud.js';

const issue = (v: unknown): string => {
  const r = cloudConfigSchema.safeParse(v);
  return r.success ? '' : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
};

describe('cloud config', () => {
  it('takes an https URL with the defaults, and http to localhost', () => {
    expect(cloudConfigSchema.parse({ url: 'https://cloud.example.com' })).toEqual({
      url: 'https://cloud.example.com',
      outbox_max_mb: 256,
      drain_batches_per_s: 4,
      hello_interval_s: 30,
    });
    expect(issue({ url: 'http://127.0.0.1:8080' })).toBe('');
    expect(issue({ url: 'http://localhost:8080' })).toBe('');
  });

  it('refuses what is not an https URL, naming the key', () => {
    expect(issue({ url: 'http://cloud.example.com' })).toMatch(/^url: url must use https/);
    expect(issue({ url: 'mqtt://cloud.example.com' })).toMatch(/^url: url must be an https URL/);
    expect(issue({ url: 'cloud.example.com' })).toMatch(/^url: url must be the cloud's https URL/);
    expect(issue({ url: 'https://u:p@cloud.example.com' })).toMatch(/user name or password/);
    expect(issue({})).toMatch(/^url:/);
    expect(issue({ url: 'https://c.example.com', outbox_max_mb: 0 })).toMatch(
      /^outbox_max_mb: outbox_max_mb must be at least 1/,
    );
    expect(issue({ url: 'https://c.example.com', hello_interval_s: '5' })).toMatch(
      /^hello_interval_s: hello_interval_s must be a number of seconds/,
    );
    expect(issue({ url: 'https://c.example.com', hello_interval_s: 0.5 })).toMatch(
      /^hello_interval_s: hello_interval_s must be a whole number/,
    );
    expect(issue({ url: 'https://c.example.com', urll: 'x' })).toMatch(/urll/);
  });
});
