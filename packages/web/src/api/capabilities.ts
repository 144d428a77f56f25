/**
 * What GET /packs/{id}/capabilities and the command routes answer: the shapes the parameter
 * table (features/params) and the control tab (features/control) both read.
 */
import type { ParameterGroup, ParameterKind } from '@openbms/core';

/** A writable parameter as GET /packs/{id}/capabilities lists it. */
export interface ParamInfo {
  id: string;
  label: string;
  unit: string;
  min: number;
  max: number;
  step: number;
  group: ParameterGroup;
  kind: ParameterKind;
  level?: number;
  safe_min?: number;
  safe_max?: number;
}

export interface Capabilities {
  pack_id: string;
  protocol: string;
  chemistry: string;
  /** What the whole-set rules judge the pack by (as the server checks). */
  limits?: {
    cell_count?: number;
    design_ah?: number;
    max_charge_c: number;
    max_discharge_c: number;
  };
  operations: Record<string, boolean>;
  parameters: ParamInfo[];
}

export interface CommandView {
  id: number;
  pack_id: string;
  action: string;
  user: string;
  at: number;
  status: 'done' | 'refused' | 'failed';
  detail: string;
}

export interface CommandOutcome {
  command: CommandView;
  readback?: Record<string, unknown>;
}
