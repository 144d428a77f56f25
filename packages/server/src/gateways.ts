/**
 * The gateways a server serves, by id: the single box's own (its in-process link) and, in the
 * fleet cloud, every collector's (remote links). Routes never hold "the" gateway: they ask the
 * policy (policy.ts) which gateways a principal may see and address them by id.
 */
import { BmsError } from '@openbms/core';
import type { GatewayLink } from '@openbms/gateway';

export class GatewayRegistry {
  private readonly byId = new Map<string, GatewayLink>();

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

  get(gatewayId: string): GatewayLink | undefined {
    return this.byId.get(gatewayId);
  }

  /** Every gateway, in the order registered (the single box's first). */
  all(): GatewayLink[] {
    return [...this.byId.values()];
  }

  /** Whether any gateway runs control commands (the control routes exist when one does). */
  controls(): boolean {
    return this.all().some((l) => l.controls);
  }
}
