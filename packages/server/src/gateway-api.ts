/**
 * What the server needs from the running gateway. The composition root (`openbms start`)
 * passes an object with these methods; tests pass a small fake. The server never reaches
 * into the scheduler or the alarm engine directly.
 */
import type { AlarmEvent } from '@openbms/storage';
// Every other server file takes the gateway's types from here.
import type { GatewayEvent, GatewayListener, PackStatus } from '@openbms/gateway';

export type { GatewayEvent, GatewayListener, PackStatus };

export interface SiteInfo {
  id: string;
  name: string;
}

export interface BusInfo {
  id: string;
  site: string;
  /** Serial path or `tcp://host:port`. */
  port: string;
  protocol: string;
  /** Ids of the packs on this bus. */
  packs: string[];
}

/** The part of the gateway's EventBus the server uses (the WebSocket subscribes to it). */
export interface GatewayEvents {
  on(listener: GatewayListener): () => void;
}

export interface GatewayApi {
  packs(): PackStatus[];
  pack(id: string): PackStatus | undefined;
  sites(): SiteInfo[];
  buses(): BusInfo[];
  /** The gateway's EventBus (snapshot, online, alarm events). */
  events: GatewayEvents;
  /** Acknowledges an alarm event; false when it is unknown or already acknowledged. */
  acknowledgeAlarm(id: number, user: string): boolean;
  activeAlarms(packId?: string): AlarmEvent[];
  alarmCounts(packId?: string): Record<string, number>;
  // Commands and parameters (safe control) come in the next step: they will be added here
  // as optional members (e.g. `control?: ControlApi`) and served by routes/control.ts,
  // registered in app.ts next to the other route modules with `access: 'operator'`.
}
