/**
 * Config section `broker` (`openbms cloud`, issue 15; docs/collectors.md): where the fleet
 * cloud's collectors connect. Without `url` the cloud runs its own MQTT broker (aedes, in
 * process) on `port`; with `url` it uses an external one (Mosquitto, EMQX...) and ingests through
 * a shared subscription, so several nodes share the work. Unknown keys are errors.
 */
import { z } from 'zod';

const port = z
  .number({ error: 'port must be a number' })
  .int('port must be an integer')
  .min(0, 'port must be 0..65535 (0 = any free port)')
  .max(65_535, 'port must be 0..65535 (0 = any free port)');

const mqttUrl = (field: string) =>
  z
    .string({ error: `${field} must be a URL like mqtt://broker.example.com:1883` })
    .regex(
      /^mqtts?:\/\/[^/\s]+$/,
      `${field} must be mqtt://host[:port] or mqtts://host[:port] (no path)`,
    );

export const brokerConfigSchema = z
  .object({
    /** The embedded broker's port: default 1883, or 8883 with `tls`. */
    port: port.optional(),
    /** The embedded broker's bind address (default: every interface). */
    host: z.string().min(1, 'host must not be empty').optional(),
    /** The embedded broker speaks MQTT over TLS with this certificate and key (PEM files). */
    tls: z
      .object({
        cert: z.string({ error: 'tls.cert must be the path of a PEM file' }).min(1),
        key: z.string({ error: 'tls.key must be the path of a PEM file' }).min(1),
      })
      .strict()
      .optional(),
    /** An external broker (scale-out): no embedded broker runs; the node connects here. */
    url: mqttUrl('url').optional(),
    /** The external broker's user name and password for this node (url only). */
    username: z.string().min(1).max(256).optional(),
    password: z.string().min(1).max(256).optional(),
    /**
     * What collectors are told to connect to. Default: the external `url`, else
     * mqtt(s)://<http.host, or this machine's name when that is 0.0.0.0>:<port>.
     */
    public_url: mqttUrl('public_url').optional(),
  })
  .strict();
export type BrokerConfig = z.infer<typeof brokerConfigSchema>;
