/**
 * The `mqtt:` section of the config file (zod v4, strict: unknown keys are errors).
 */
import { z } from 'zod';
import { orgRoleSchema } from '../api/orgs.js';
import { isMqttTopic, MQTT_FIELDS } from './checks.js';

export { MQTT_FIELDS } from './checks.js';

const topicPart = z.string().min(1).max(128).refine(isMqttTopic, {
  error: 'must be an MQTT topic without wildcards (+, #) and without a leading or trailing "/"',
});

const tlsSchema = z
  .object({
    /** Paths of PEM files. */
    ca: z.string().min(1).optional(),
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    /** Accept any server certificate (self-signed brokers). Not for the internet. */
    insecure: z.boolean().default(false),
  })
  .strict()
  .refine((t) => (t.cert === undefined) === (t.key === undefined), {
    error: 'tls: cert and key go together (a client certificate needs its key)',
  });

export const mqttConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    url: z
      .string()
      .regex(
        /^(mqtt|mqtts|tcp|ssl|ws|wss):\/\/[^\s]+$/,
        'must be a broker URL such as mqtt://127.0.0.1:1883 or mqtts://broker:8883',
      )
      .default('mqtt://127.0.0.1:1883'),
    username: z.string().min(1).optional(),
    password: z.string().optional(),
    client_id: z.string().min(1).max(128).optional(),
    /**
     * MQTT protocol version: 5 (command results carry the request's correlation data and go
     * to its response topic too) or 4 (3.1.1, for brokers that do not speak 5).
     */
    protocol_version: z
      .union([z.literal(4), z.literal(5)], { error: 'protocol_version must be 4 or 5' })
      .default(5),
    base_topic: topicPart.default('openbms'),
    tls: tlsSchema.optional(),
    qos: z
      .union([z.literal(0), z.literal(1), z.literal(2)], { error: 'qos must be 0, 1 or 2' })
      .default(0),
    /** Retain the per-pack state messages (availability and discovery are always retained). */
    retain: z.boolean().default(false),
    interval_s: z.number().min(0.2).max(86_400).default(5),
    /** Catalog keys to publish in the state JSON (default: all the device reports, no raw). */
    fields: z
      .array(
        z.string().refine((f) => MQTT_FIELDS.includes(f), {
          error: (iss) =>
            `unknown field "${String(iss.input)}"; accepted: ${MQTT_FIELDS.join(', ')}`,
        }),
      )
      .min(1)
      .optional(),
    /**
     * Publish as this role of the gateway's organisation (seed 000's roles): only the points
     * that role sees under the organisation's point groups (docs/fleet.md "Point groups"), in
     * state, discovery and every payload. Absent: every point.
     */
    points_as: z
      .enum(orgRoleSchema.enum, {
        error: (iss) =>
          `unknown role "${String(iss.input)}"; accepted: ${orgRoleSchema.enum.join(', ')}`,
      })
      .optional(),
    /** Seed 001 payloads, so dashboards built for the dongle keep working. */
    compat: z
      .object({
        heartbeat: z.boolean().default(false),
        daily_max: z.boolean().default(false),
        /** `bat`: cells as {"bat": {"0": mV, ...}}; `b0`: cells as "b0".."bN" keys. */
        pack: z.enum(['off', 'bat', 'b0']).default('off'),
      })
      .strict()
      .prefault({}),
    homeassistant: z
      .object({
        enabled: z.boolean().default(true),
        discovery_prefix: topicPart.default('homeassistant'),
        /** HA's birth/last-will topic; discovery is re-sent when it says `online`. */
        status_topic: topicPart.optional(),
      })
      .strict()
      .prefault({}),
    commands: z
      .object({
        enabled: z.boolean().default(false),
        mos: z.boolean().default(true),
        soc: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  // MQTT sends a password only with a user name: without one the broker (and mqtt.js)
  // would drop the connection with no reason given.
  .refine((c) => c.password === undefined || c.password === '' || c.username !== undefined, {
    path: ['username'],
    error: 'a password needs a username (MQTT sends no password without one)',
  });

export type MqttConfig = z.infer<typeof mqttConfigSchema>;
/** What a config file may hold (defaults not yet applied). */
export type MqttConfigInput = z.input<typeof mqttConfigSchema>;

/** Parses a raw `mqtt:` section; throws a ZodError naming the key path on a bad value. */
export function parseMqttConfig(raw: unknown): MqttConfig {
  return mqttConfigSchema.parse(raw ?? {});
}
