/** The last command statuses, in memory (the audit log is the permanent record). */
import type { CommandListener, CommandStatus } from './types.js';

export const COMMANDS_KEPT = 200;

export class CommandLog {
  private readonly items: CommandStatus[] = [];
  private readonly listeners = new Set<CommandListener>();
  private seq = 0;

  constructor(
    private readonly keep = COMMANDS_KEPT,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  add(c: Omit<CommandStatus, 'id'>): CommandStatus {
    const status: CommandStatus = { id: ++this.seq, ...c };
    this.items.push(status);
    if (this.items.length > this.keep) this.items.splice(0, this.items.length - this.keep);
    for (const l of [...this.listeners]) {
      try {
        l({ ...status });
      } catch (e) {
        this.onError(e);
      }
    }
    return status;
  }

  /** Newest first, optionally for one pack. */
  list(packId?: string): CommandStatus[] {
    return this.items
      .filter((c) => packId === undefined || c.packId === packId)
      .reverse()
      .map((c) => ({ ...c }));
  }

  on(l: CommandListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}
