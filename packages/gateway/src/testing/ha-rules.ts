/**
 * Home Assistant's published rules for MQTT discovery configs, as data and one checker, so a
 * test can judge every retained config the gateway sends as HA would. Facts from HA's
 * developer documentation and its sensor/binary_sensor constants (device classes, their
 * units and state classes), the MQTT discovery page (topic format, required keys per
 * component) and the templating page (`value_json`); written here by us, for the classes the
 * catalog can produce plus their neighbours.
 */

/** Sensor device classes and the units HA accepts for each (`DEVICE_CLASS_UNITS`). */
export const SENSOR_UNITS: Record<string, readonly (string | null)[]> = {
  battery: ['%'],
  current: ['A', 'mA'],
  duration: ['d', 'h', 'min', 's', 'ms', 'µs'],
  energy: [
    'J',
    'kJ',
    'MJ',
    'GJ',
    'mWh',
    'Wh',
    'kWh',
    'MWh',
    'GWh',
    'TWh',
    'cal',
    'kcal',
    'Mcal',
    'Gcal',
  ],
  energy_storage: ['J', 'kJ', 'MJ', 'GJ', 'mWh', 'Wh', 'kWh', 'MWh', 'GWh', 'TWh'],
  frequency: ['Hz', 'kHz', 'MHz', 'GHz'],
  power: ['mW', 'W', 'kW', 'MW', 'GW', 'TW', 'BTU/h'],
  temperature: ['°C', '°F', 'K'],
  voltage: ['µV', 'mV', 'V', 'kV', 'MV'],
};

/** State classes HA allows with a sensor device class (`DEVICE_CLASS_STATE_CLASSES`). */
export const SENSOR_STATE_CLASSES: Record<string, readonly string[]> = {
  battery: ['measurement'],
  current: ['measurement'],
  duration: ['measurement', 'total', 'total_increasing'],
  energy: ['total', 'total_increasing'],
  energy_storage: ['measurement'],
  frequency: ['measurement'],
  power: ['measurement'],
  temperature: ['measurement'],
  voltage: ['measurement'],
};

export const STATE_CLASSES = ['measurement', 'measurement_angle', 'total', 'total_increasing'];

export const BINARY_SENSOR_CLASSES = [
  'battery',
  'battery_charging',
  'cold',
  'connectivity',
  'heat',
  'plug',
  'power',
  'problem',
  'running',
  'safety',
];

/** Keys a config of each component must have (MQTT discovery page; `~` abbreviations aside). */
export const REQUIRED: Record<string, readonly string[]> = {
  sensor: ['state_topic'],
  binary_sensor: ['state_topic'],
  switch: ['command_topic'],
  number: ['command_topic'],
  button: ['command_topic'],
  select: ['command_topic', 'options'],
};

export interface Finding {
  topic: string;
  rule: string;
}

/**
 * Checks one discovery config. `states` maps a state topic to its latest JSON payload (for
 * the template keys); `uniqueIds` collects ids across configs (a repeat is a finding).
 */
export function checkConfig(
  prefix: string,
  topic: string,
  config: Record<string, unknown>,
  states: ReadonlyMap<string, unknown>,
  uniqueIds: Map<string, string>,
): Finding[] {
  const out: Finding[] = [];
  const bad = (rule: string): void => void out.push({ topic, rule });
  const m = new RegExp(`^${prefix}/([a-z_]+)/(?:([a-zA-Z0-9_-]+)/)?([a-zA-Z0-9_-]+)/config$`).exec(
    topic,
  );
  if (!m)
    return [{ topic, rule: 'topic is not <prefix>/<component>/[<node_id>/]<object_id>/config' }];
  const component = m[1]!;
  if (!(component in REQUIRED)) bad(`unknown component ${component}`);
  for (const k of REQUIRED[component] ?? []) if (config[k] === undefined) bad(`missing ${k}`);
  const uid = config['unique_id'];
  if (typeof uid !== 'string' || uid === '') bad('missing unique_id');
  else if (uniqueIds.has(uid)) bad(`unique_id ${uid} also used by ${uniqueIds.get(uid)}`);
  else uniqueIds.set(uid, topic);
  const device = config['device'] as Record<string, unknown> | undefined;
  const ids = device?.['identifiers'];
  if (!Array.isArray(ids) || ids.length === 0 || ids.some((i) => typeof i !== 'string'))
    bad('device.identifiers must be a non-empty list of strings');
  const origin = config['origin'] as Record<string, unknown> | undefined;
  if (typeof origin?.['name'] !== 'string') bad('origin.name missing');
  const dc = config['device_class'];
  const sc = config['state_class'];
  const unit = config['unit_of_measurement'];
  if (component === 'sensor') {
    if (dc !== undefined) {
      const units = SENSOR_UNITS[dc as string];
      if (!units) bad(`device_class ${String(dc)} not known to this checker`);
      else if (!units.includes((unit as string | undefined) ?? null))
        bad(`unit ${String(unit)} not allowed for device_class ${String(dc)}`);
      const scs = SENSOR_STATE_CLASSES[dc as string];
      if (sc !== undefined && scs && !scs.includes(sc as string))
        bad(`state_class ${String(sc)} not allowed for device_class ${String(dc)}`);
    }
    if (sc !== undefined && !STATE_CLASSES.includes(sc as string)) bad(`state_class ${String(sc)}`);
  } else if (component === 'binary_sensor') {
    if (dc !== undefined && !BINARY_SENSOR_CLASSES.includes(dc as string))
      bad(`binary_sensor device_class ${String(dc)}`);
    if (sc !== undefined || unit !== undefined) bad('binary_sensor with state_class or unit');
  } else if (component === 'number') {
    const min = config['min'] as number;
    const max = config['max'] as number;
    if (!(min < max)) bad('number: min must be below max');
    if (!((config['step'] as number) > 0)) bad('number: step must be positive');
  }
  const cat = config['entity_category'];
  if (cat !== undefined && cat !== 'config' && cat !== 'diagnostic')
    bad(`entity_category ${String(cat)}`);
  if (component === 'sensor' && cat === 'config') bad('a sensor cannot be a config entity');
  // Templates: every value_json key they read is in the payload of their topic.
  const pairs: [string, string][] = [
    ['value_template', 'state_topic'],
    ['json_attributes_template', 'json_attributes_topic'],
  ];
  for (const [tk, topicKey] of pairs) {
    const tpl = config[tk];
    if (typeof tpl !== 'string') continue;
    const stateTopic = config[topicKey];
    if (typeof stateTopic !== 'string') {
      bad(`${tk} without ${topicKey}`);
      continue;
    }
    if (!states.has(stateTopic)) {
      bad(`nothing published on ${stateTopic}`);
      continue;
    }
    const payload = states.get(stateTopic) as Record<string, unknown>;
    for (const ref of tpl.matchAll(/value_json\.([a-z_][a-z0-9_]*)(?:\[(\d+)\])?/g)) {
      const v = payload?.[ref[1]!];
      if (v === undefined) bad(`${tk} reads value_json.${ref[1]}, absent from ${stateTopic}`);
      else if (ref[2] !== undefined && !(Array.isArray(v) && Number(ref[2]) < v.length))
        bad(`${tk} reads value_json.${ref[1]}[${ref[2]}], out of the array`);
      else if (
        component === 'sensor' &&
        tk === 'value_template' &&
        (unit !== undefined || sc !== undefined) &&
        typeof (ref[2] !== undefined ? (v as unknown[])[Number(ref[2])] : v) !== 'number'
      )
        bad(`numeric sensor reads a non-number value_json.${ref[1]}`);
    }
  }
  return out;
}
