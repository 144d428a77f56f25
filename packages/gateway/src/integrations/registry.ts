/**
 * The list of integrations a gateway runs, and what follows from it: the config schema
 * (a section not in `configSchema` is added from its descriptor), the sections a settings
 * change applies, and the checks across sections. The gateway's runner and the settings
 * service both iterate it; `builtin.ts` holds the one list of built-in integrations.
 */
import { BmsError } from '@openbms/core';
import { z } from 'zod';
import { configSchema, type Config } from '../config.js';
import { checkConfig, invalidConfig, redact, type ConfigSchema } from '../config-file.js';
import type { AnyIntegration } from './integration.js';

export class IntegrationRegistry {
  /** The config schema with every registered section (built-in ones are already in it). */
  readonly configSchema: ConfigSchema;
  private readonly list: readonly AnyIntegration[];
  private readonly keys: readonly string[];

  /** INTERNAL (a wiring bug) when two integrations share a section or a schema disagrees. */
  constructor(integrations: readonly AnyIntegration[]) {
    const seen = new Set<string>();
    const extra: Record<string, z.ZodOptional<z.ZodType>> = {};
    const base: Record<string, z.ZodType> = configSchema.shape;
    for (const i of integrations) {
      if (seen.has(i.section)) {
        throw new BmsError('INTERNAL', `two integrations use the config section "${i.section}"`);
      }
      seen.add(i.section);
      const known = base[i.section];
      if (known === undefined) {
        extra[i.section] = i.schema.optional();
      } else if (!(known instanceof z.ZodOptional) || known.unwrap() !== i.schema) {
        // One schema per section: the descriptor must use the one the config holds.
        throw new BmsError(
          'INTERNAL',
          `integration "${i.section}": its schema is not the config's optional "${i.section}" schema`,
        );
      }
    }
    // The output is a Config with more (optional) keys; zod types a shape of computed keys as
    // a bare record, hence the cast.
    this.configSchema = Object.keys(extra).length
      ? (configSchema.safeExtend(extra) as unknown as ConfigSchema)
      : configSchema;
    this.keys = [...Object.keys(base), ...Object.keys(extra)];
    for (const i of integrations) {
      for (const r of i.reads ?? []) {
        if (!this.keys.includes(r)) {
          throw new BmsError(
            'INTERNAL',
            `integration "${i.section}" reads an unknown section "${r}"`,
          );
        }
      }
    }
    this.list = [...integrations];
  }

  /** Every integration, in the order they start (and show on the settings page). */
  all(): readonly AnyIntegration[] {
    return this.list;
  }

  get(section: string): AnyIntegration | undefined {
    return this.list.find((i) => i.section === section);
  }

  /** The integrations' own sections. */
  sections(): string[] {
    return this.list.map((i) => i.section);
  }

  /** Every top-level key of the config but `version`. */
  configKeys(): string[] {
    return this.keys.filter((k) => k !== 'version');
  }

  /**
   * The sections a settings change is applied for while running: each integration's own
   * (a `restart` one answers that it needs a restart) and the sections they read.
   */
  liveSections(): string[] {
    const out = this.sections();
    for (const i of this.list) for (const r of i.reads ?? []) if (!out.includes(r)) out.push(r);
    return out;
  }

  /** The integrations a change of `section` concerns: its own and those that read it. */
  affectedBy(section: string): AnyIntegration[] {
    return this.list.filter((i) => i.section === section || (i.reads ?? []).includes(section));
  }

  /**
   * A section's value with its secrets behind the marker: what its integration declares,
   * plus the names every section hides and URL passwords (config-file.ts `redact`).
   */
  redact<T>(section: string, value: T): T {
    return redact(value, this.get(section)?.secrets);
  }

  /** A registry with more integrations after these (tests, plug-ins). */
  with(...more: AnyIntegration[]): IntegrationRegistry {
    return new IntegrationRegistry([...this.list, ...more]);
  }

  /** Checks a whole config with the composed schema; CONFIG_INVALID (details.issues). */
  validate(raw: unknown, source = 'config'): Config {
    return checkConfig(raw, source, this.configSchema);
  }

  /** The integrations' checks across sections (the tunnel's bus); CONFIG_INVALID on any. */
  checkReferences(config: Config, source: string): void {
    const issues = this.list.flatMap((i) => i.check?.(config) ?? []);
    if (issues.length > 0) throw invalidConfig(source, issues);
  }
}
