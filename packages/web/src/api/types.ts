/** The API's JSON shapes (see packages/server/src/views.ts and /api/docs). */
import type { Reading } from '@openbms/core';

export type Snapshot = Reading;

export interface LinkView {
  requests: number;
  replies: number;
  retries: number;
  timeouts: number;
  checksum_errors: number;
  polls: number;
  failures: number;
  last_error?: string;
}

export interface PackView {
  id: string;
  name: string;
  site: string;
  bus: string;
  address: number;
  protocol: string;
  chemistry: 'lfp' | 'nmc';
  variant?: string;
  online: boolean;
  last_seen: number | null;
  snapshot: Snapshot | null;
  link: LinkView;
}

export interface AlarmView {
  id: number;
  pack_id: string;
  code: string;
  severity: 'warning' | 'protection' | 'fault';
  level?: number;
  origin: 'bms' | 'rule' | 'gateway';
  rule_id?: string;
  raised_at: number;
  cleared_at?: number;
  acknowledged_at?: number;
  acknowledged_by?: string;
  value?: number;
  message: string;
}

export interface SiteView {
  id: string;
  name: string;
}

export interface BusView {
  id: string;
  site: string;
  port: string;
  protocol: string;
  packs: string[];
}

export type Role = 'admin' | 'operator' | 'viewer';

export interface Me {
  username: string;
  role: Role;
  via: 'session' | 'api';
}

export interface HistorySeries {
  t: number[];
  avg: number[];
  min: number[];
  max: number[];
}

export interface HistoryView {
  pack_id: string;
  resolution: 'raw' | '1m' | '15m' | '1h';
  from: number;
  to: number;
  series: Record<string, HistorySeries>;
}
