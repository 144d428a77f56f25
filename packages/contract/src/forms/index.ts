/**
 * The config sections as plain JSON Schema, for the web console's settings forms: every
 * limit a form enforces (minimum, maximum, whole numbers, lengths, patterns, accepted
 * values) and every default it starts from is read here, from the schema the gateway checks
 * the saved file with. `schemas.gen.ts` is produced from the zod schemas by zod's own
 * `z.toJSONSchema` and compared with them by `forms.test.ts` (`npx vitest run
 * packages/contract -u` rewrites it after a schema change), so the web bundles these few kB
 * of data instead of zod and its schemas, and still cannot drift from them.
 */
import type { JsonSchema } from './json-schema.js';
import { FORM_SCHEMAS, type FormSection } from './schemas.gen.js';

export { FORM_SCHEMAS, type FormSection, type JsonSchema };
export {
  CHANNEL_TYPES,
  NOTIFY_EVENTS,
  SEVERITIES,
  type ChannelType,
  type NotifyEvent,
  type Severity,
} from '../config/enums.js';
export {
  fieldProblem,
  isHttpUrl,
  isMqttTopic,
  isTimeZone,
  MQTT_FIELDS,
  WRITABLE_METRIC_TYPES,
  type FieldProblem,
} from '../config/checks.js';
export { parseCidr } from '../config/cidr.js';

/** What a form field checks, read from the schema at its path. */
export interface FieldLimits {
  min?: number;
  max?: number;
  /** The value must be greater than this (zod's `positive()`: 0). */
  above?: number;
  /** The value must be less than this. */
  below?: number;
  integer?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: RegExp;
  /** The accepted values, when the schema lists them. */
  values?: readonly (string | number | boolean | null)[];
}

/** Path segments of "tls.ca", "writes[0].register", "quiet_hours.from". */
function segments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[1] !== undefined) out.push(m[1]);
  }
  return out;
}

/** The branches of a union, or the schema itself. */
const branches = (s: JsonSchema): readonly JsonSchema[] => s.anyOf ?? s.oneOf ?? [s];

/** The sub-schema at `path` (object keys and array items; unions searched in order). */
export function schemaAt(schema: JsonSchema, path: string): JsonSchema | undefined {
  let cur: JsonSchema | undefined = schema;
  for (const seg of segments(path)) {
    if (cur === undefined) return undefined;
    let next: JsonSchema | undefined;
    for (const b of branches(cur)) {
      next = typeof seg === 'number' ? b.items : b.properties?.[seg];
      if (next !== undefined) break;
    }
    cur = next;
  }
  return cur;
}

/** The limits of the value at `path` (empty when the schema says nothing there). */
export function limitsAt(schema: JsonSchema, path: string): FieldLimits {
  const node = schemaAt(schema, path);
  if (node === undefined) return {};
  const out: FieldLimits = {};
  // A union of constants (qos: 0, 1 or 2) lists its values like an enum.
  const consts = node.anyOf?.every((b) => b.const !== undefined)
    ? node.anyOf.map((b) => b.const as string | number | boolean | null)
    : undefined;
  // Otherwise the limits of a union are those of its number or string branch.
  const leaf =
    consts === undefined
      ? (branches(node).find((b) => b.type !== 'boolean' && b.type !== 'array') ?? node)
      : node;
  if (leaf.minimum !== undefined) out.min = leaf.minimum;
  if (leaf.maximum !== undefined) out.max = leaf.maximum;
  if (leaf.exclusiveMinimum !== undefined) out.above = leaf.exclusiveMinimum;
  if (leaf.exclusiveMaximum !== undefined) out.below = leaf.exclusiveMaximum;
  if (leaf.type === 'integer') out.integer = true;
  if (leaf.minLength !== undefined) out.minLength = leaf.minLength;
  if (leaf.maxLength !== undefined) out.maxLength = leaf.maxLength;
  if (leaf.pattern !== undefined) out.pattern = new RegExp(leaf.pattern);
  const values = consts ?? leaf.enum ?? (leaf.const !== undefined ? [leaf.const] : undefined);
  if (values !== undefined) out.values = values;
  return out;
}

/**
 * The value a new section starts from: every default of the schema, nested objects that
 * have a default filled in with their own properties' defaults (as zod fills them).
 */
export function defaultsOf(schema: JsonSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    if (prop.default === undefined) continue;
    const d = prop.default;
    out[key] =
      d !== null && typeof d === 'object' && !Array.isArray(d) && prop.properties
        ? { ...defaultsOf(prop), ...(d as Record<string, unknown>) }
        : d;
  }
  return out;
}

/** The schema of one notification channel type (a branch of `notifications`' items). */
export function channelSchema(type: string): JsonSchema {
  const items = FORM_SCHEMAS.notifications.items ?? {};
  const found = branches(items).find((b) => b.properties?.['type']?.const === type);
  return found ?? {};
}
