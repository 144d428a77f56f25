/**
 * The delivery log: the last deliveries of the gateway (all channels), each entry updated in
 * place as it moves from queued to retrying to sent / failed / dropped. In memory only; the
 * API shows it newest first.
 */
import type { DeliveryEntry, DeliveryStatus, MessageKind } from './types.js';

export const DELIVERY_LOG_SIZE = 200;

export class DeliveryLog {
  private readonly entries: DeliveryEntry[] = [];
  private nextId = 1;

  constructor(
    private readonly now: () => number,
    private readonly size = DELIVERY_LOG_SIZE,
  ) {}

  add(e: {
    channel: string;
    event: MessageKind;
    title: string;
    packId?: string;
    status: DeliveryStatus;
    error?: string;
    note?: string;
  }): DeliveryEntry {
    const at = this.now();
    const entry: DeliveryEntry = {
      id: this.nextId++,
      channel: e.channel,
      event: e.event,
      title: e.title,
      at,
      updatedAt: at,
      status: e.status,
      attempts: 0,
    };
    if (e.packId !== undefined) entry.packId = e.packId;
    if (e.error !== undefined) entry.error = e.error;
    if (e.note !== undefined) entry.note = e.note;
    this.entries.push(entry);
    if (this.entries.length > this.size) this.entries.splice(0, this.entries.length - this.size);
    return entry;
  }

  update(
    entry: DeliveryEntry,
    change: { status?: DeliveryStatus; attempts?: number; error?: string | null; note?: string },
  ): void {
    if (change.status !== undefined) entry.status = change.status;
    if (change.attempts !== undefined) entry.attempts = change.attempts;
    if (change.error === null) delete entry.error;
    else if (change.error !== undefined) entry.error = change.error;
    if (change.note !== undefined) entry.note = change.note;
    entry.updatedAt = this.now();
  }

  /** Copies, newest first; optionally one channel's only. */
  list(channel?: string): DeliveryEntry[] {
    const out: DeliveryEntry[] = [];
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (channel === undefined || e.channel === channel) out.push({ ...e });
    }
    return out;
  }
}
