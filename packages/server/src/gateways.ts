/**
 * The gateways a server serves, by id: the single box's own (its in-process link) and, in the
 * fleet cloud, every collector's (remote links). Routes never hold "the" gateway: they ask the
 * policy (policy.ts) which gateways a principal may see and address them by id.
 */
import { BmsError } from '@openbms/core';
import type { GatewayEnvelope } from '@openbms/contract/gateway';
import type { GatewayLink } from '@openbms/gateway';

/** Told of every gateway that is registered or removed after it subscribed. */
export interface RegistryListener {
  added(link: GatewayLink): void;
  removed(gatewayId: string): void;
}

export class GatewayRegistry {
  private readonly byId = new Map<string, GatewayLink>();
  private readonly listeners = new Set<RegistryListener>();

  constructor(links: readonly GatewayLink[]) {
    for (const l of links) {
      if (this.byId.has(l.gatewayId)) {
        throw new BmsError('CONFIG_INVALID', `gateway ${l.gatewayId} is registered twice`, {
          field: 'gateways',
        });
      }
      this.byId.set(l.gatewayId, l);
    }
  }

  /**
   * Serves one more gateway (a collector claimed, or found at start). CONFLICT when the id is
   * registered already.
   */
  add(link: GatewayLink): void {
    if (this.byId.has(link.gatewayId)) {
      throw new BmsError('CONFLICT', `gateway ${link.gatewayId} is registered already`);
    }
    this.byId.set(link.gatewayId, link);
    for (const l of this.listeners) l.added(link);
  }

  /** Stops serving a gateway (a collector revoked); false when it was not registered. */
  remove(gatewayId: string): boolean {
    if (!this.byId.delete(gatewayId)) return false;
    for (const l of this.listeners) l.removed(gatewayId);
    return true;
  }

  /**
   * Subscribes to the envelopes of every gateway, those registered now and those added later;
   * a removed gateway's subscription ends. Returns the unsubscribe (of all of them).
   */
  subscribeAll(listener: (e: GatewayEnvelope) => void): () => void {
    const offs = new Map<string, () => void>();
    const watcher: RegistryListener = {
      added: (link) => offs.set(link.gatewayId, link.subscribe(listener)),
      removed: (id) => {
        offs.get(id)?.();
        offs.delete(id);
      },
    };
    try {
      for (const link of this.byId.values()) watcher.added(link);
    } catch (e) {
      for (const off of offs.values()) off();
      throw e;
    }
    this.listeners.add(watcher);
    return () => {
      this.listeners.delete(watcher);
      for (const off of offs.values()) off();
      offs.clear();
    };
  }

  get(gatewayId: string): GatewayLink | undefined {
    return this.byId.get(gatewayId);
  }

  /** Every gateway, in the order registered (the single box's first). */
  all(): GatewayLink[] {
    return [...this.byId.values()];
  }

  /**
   * Gateways that run control commands may join while the server runs (the fleet cloud's
   * collectors): the control routes exist from the start then.
   */
  controlsLater = false;

  /** Whether any gateway runs control commands (the control routes exist when one does). */
  controls(): boolean {
    return this.controlsLater || this.all().some((l) => l.controls);
  }
}
