/**
 * Shared shapes of the gateway: packs as configured, their live status, and the events
 * every part (store writer, alarm engine, server WebSocket, integrations) listens to.
 */
import type { Chemistry, Reading } from '@openbms/core';
import type { AlarmEvent } from '@openbms/storage';
import type { LinkStats } from '@openbms/transport';

/** A pack as configured (or discovered). `id` is stable: `<site>/<bus>/<address>`. */
export interface PackRef {
  id: string;
  name: string;
  site: string;
  bus: string;
  address: number;
  protocol: string;
  chemistry: Chemistry;
  variant?: string;
  /**
   * What parameter writes are held to beyond the chemistry (config `design_ah`,
   * `max_charge_c`, `max_discharge_c`); absent members take the pack's own design capacity
   * and the default ceilings (1 C charge, 2 C discharge).
   */
  limits?: { designAh?: number; maxChargeC?: number; maxDischargeC?: number };
  /**
   * Config `allow_unverified`: commands whose wire format rests on one source are sent
   * (default: refused, see the family's `control.unverified`).
   */
  allowUnverified?: boolean;
}

/** Live status of a pack, as the API lists it. */
export interface PackStatus extends PackRef {
  online: boolean;
  /** Last successful poll, ms; undefined before the first. */
  lastSeen?: number;
  snapshot?: Reading;
  /** Counters of this pack's transactions. */
  link: Pick<LinkStats, 'requests' | 'replies' | 'retries' | 'timeouts' | 'checksum_errors'> & {
    polls: number;
    failures: number;
    lastError?: string;
  };
}

export type GatewayEvent =
  | { type: 'snapshot'; packId: string; ts: number; snapshot: Reading }
  | { type: 'online'; packId: string; ts: number; online: boolean; reason?: string }
  | { type: 'alarm'; state: 'raised' | 'cleared' | 'acknowledged'; event: AlarmEvent };

export type GatewayListener = (e: GatewayEvent) => void;

/** A tiny synchronous event bus: listeners run in order; one throwing does not stop others. */
export class EventBus {
  private readonly listeners = new Set<GatewayListener>();
  private readonly errors: (err: unknown) => void;

  constructor(onListenerError: (err: unknown) => void = () => undefined) {
    this.errors = onListenerError;
  }

  on(l: GatewayListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  emit(e: GatewayEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        this.errors(err);
      }
    }
  }
}
