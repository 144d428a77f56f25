/** The plant's fields (create and edit): each shows the server's refusal naming it. */
import { useId, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { ApiError } from '../../api/client';
import { businessTypeSchema, plantTypeSchema, type PlantView } from '@openbms/contract/api';
import { Field, FormErrorBox, browserZone, zones } from '../../ui/fields';

type BusinessType = PlantView['business_type'];
type PlantType = PlantView['plant_type'];

export interface PlantDraft {
  name: string;
  business_type: BusinessType;
  plant_type: PlantType;
  lat: string;
  lon: string;
  time_zone: string;
}

const FIELDS = ['name', 'business_type', 'plant_type', 'lat', 'lon', 'time_zone'] as const;

export const draftOf = (p: PlantView | undefined): PlantDraft => ({
  name: p?.name ?? '',
  business_type: p?.business_type ?? 'residential',
  plant_type: p?.plant_type ?? 'energy_storage',
  lat: p?.lat !== undefined ? String(p.lat) : '',
  lon: p?.lon !== undefined ? String(p.lon) : '',
  time_zone: p?.time_zone ?? browserZone(),
});

/** The body fields of a draft: a blank coordinate is left out (the server wants both or neither). */
export function toBody(d: PlantDraft): {
  name: string;
  business_type: BusinessType;
  plant_type: PlantType;
  time_zone: string;
  lat?: number;
  lon?: number;
} {
  const num = (s: string) => (s.trim() === '' ? undefined : Number(s));
  const lat = num(d.lat);
  const lon = num(d.lon);
  return {
    name: d.name.trim(),
    business_type: d.business_type,
    plant_type: d.plant_type,
    time_zone: d.time_zone.trim(),
    ...(lat !== undefined ? { lat } : {}),
    ...(lon !== undefined ? { lon } : {}),
  };
}

export function PlantForm(props: {
  initial?: PlantView;
  error: ApiError | undefined;
  submitLabel: string;
  owner?: ReactNode;
  extra?: ReactNode;
  onSubmit: (d: PlantDraft) => Promise<void>;
}): ReactNode {
  const { t } = useTranslation('plants');
  const [d, setD] = useState<PlantDraft>(() => draftOf(props.initial));
  const [busy, setBusy] = useState(false);
  const listId = useId();
  const set = <K extends keyof PlantDraft>(k: K, v: PlantDraft[K]) => setD({ ...d, [k]: v });
  const error = props.error;
  return (
    <form
      className="plant-form"
      data-testid="plant-form"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        try {
          await props.onSubmit(d);
        } finally {
          setBusy(false);
        }
      }}
    >
      {props.owner}
      <Field
        label={t('name')}
        field="name"
        error={error}
        maxLength={100}
        value={d.name}
        onChange={(e) => set('name', e.target.value)}
        required
      />
      <label className="field">
        <span>{t('businessType')}</span>
        <select
          name="business_type"
          value={d.business_type}
          aria-invalid={error?.field === 'business_type' || undefined}
          onChange={(e) => set('business_type', e.target.value as BusinessType)}
        >
          {businessTypeSchema.enum.map((k) => (
            <option key={k} value={k}>
              {t(`businessTypes.${k}`)}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>{t('plantType')}</span>
        <select
          name="plant_type"
          value={d.plant_type}
          aria-invalid={error?.field === 'plant_type' || undefined}
          onChange={(e) => set('plant_type', e.target.value as PlantType)}
        >
          {plantTypeSchema.enum.map((k) => (
            <option key={k} value={k}>
              {t(`plantTypes.${k}`)}
            </option>
          ))}
        </select>
      </label>
      <Field
        label={t('lat')}
        field="lat"
        error={error}
        type="number"
        step="any"
        min={-90}
        max={90}
        value={d.lat}
        onChange={(e) => set('lat', e.target.value)}
      />
      <Field
        label={t('lon')}
        field="lon"
        error={error}
        type="number"
        step="any"
        min={-180}
        max={180}
        value={d.lon}
        onChange={(e) => set('lon', e.target.value)}
      />
      <Field
        label={t('timeZone')}
        field="time_zone"
        error={error}
        list={listId}
        autoComplete="off"
        maxLength={64}
        value={d.time_zone}
        onChange={(e) => set('time_zone', e.target.value)}
        required
      />
      <datalist id={listId}>
        {zones().map((z) => (
          <option key={z} value={z} />
        ))}
      </datalist>
      <FormErrorBox error={error} fields={FIELDS} />
      <div className="plant-form-actions">
        <button type="submit" className="primary" disabled={busy} data-testid="plant-submit">
          {props.submitLabel}
        </button>
        {props.extra}
      </div>
    </form>
  );
}
