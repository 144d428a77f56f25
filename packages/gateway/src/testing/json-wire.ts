/**
 * A gateway seen across a network, for tests: a `GatewayLink` on the near side of a JSON
 * wire whose far side is another link (the in-process one of a real gateway). Everything that
 * crosses (envelopes, commands, results, read answers, read errors) is turned into text and
 * back, and the seam's messages are checked with their schemas on the receiving side, as the
 * MQTT implementation will do. Nothing of the far side's objects reaches the near side.
 *
 * `loseResults(n)` drops the next n command results on their way back (the command still runs
 * at the gateway): the sender's wait ends after `timeoutMs` with GATEWAY_UNAVAILABLE, and the
 * same command sent again gets the first result (the gateway runs a txn at most once).
 * `loseEvents(n)` drops the next n envelopes: the consumer sees the gap in `seq`.
 */
import {
  commandResultSchema,
  gatewayCommandSchema,
  gatewayEventSchema,
  type CommandResult,
  type GatewayCommand,
} from '@openbms/contract/gateway';
import { BmsError, isBmsError } from '@openbms/core';
import type { EnvelopeListener, GatewayLink } from '../seam/types.js';

/** A value as the other side reads it from the wire. */
const wire = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

/** A read's error as the other side receives it: a coded error survives, anything else is INTERNAL. */
function wireError(e: unknown): BmsError {
  if (isBmsError(e)) {
    return new BmsError(e.code, e.message, e.details === undefined ? undefined : wire(e.details));
  }
  return new BmsError('INTERNAL', 'internal failure at the gateway (see its log)');
}

export class JsonWireLink implements GatewayLink {
  readonly gatewayId: string;
  readonly orgId: string;
  readonly controls: boolean;
  /** Every text that crossed, in order (commands out, results and envelopes in). */
  readonly traffic: string[] = [];
  private losingResults = 0;
  private losingEvents = 0;
  /** How long a command's sender waits for its result (ms). */
  timeoutMs: number;

  constructor(
    private readonly far: GatewayLink,
    opts: { timeoutMs?: number } = {},
  ) {
    // What the gateway says of itself when the link comes up.
    const hello = wire({ gatewayId: far.gatewayId, orgId: far.orgId, controls: far.controls });
    this.gatewayId = hello.gatewayId;
    this.orgId = hello.orgId;
    this.controls = hello.controls;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
  }

  loseResults(n: number): void {
    this.losingResults += n;
  }

  loseEvents(n: number): void {
    this.losingEvents += n;
  }

  private async read<T>(call: () => Promise<T>): Promise<T> {
    try {
      return wire(await call());
    } catch (e) {
      throw wireError(e);
    }
  }

  packs = () => this.read(() => this.far.packs());
  pack = (id: string) => this.read(() => this.far.pack(wire(id)));
  sites = () => this.read(() => this.far.sites());
  buses = () => this.read(() => this.far.buses());
  activeAlarms = (packId?: string) => this.read(() => this.far.activeAlarms(packId));
  alarmCounts = (packId?: string) => this.read(() => this.far.alarmCounts(packId));
  storageStatus = () => this.read(() => this.far.storageStatus());
  commands = (packId?: string) => this.read(() => this.far.commands(packId));
  capabilities = (packId: string) => this.read(() => this.far.capabilities(packId));
  readParameters = (packId: string) => this.read(() => this.far.readParameters(packId));
  exportParameters = (packId: string) => this.read(() => this.far.exportParameters(packId));
  diffParameters = (packId: string, file: unknown) =>
    this.read(() => this.far.diffParameters(packId, wire(file)));
  readClock = (packId: string) => this.read(() => this.far.readClock(packId));
  readRecords = (packId: string, start: number, count: number) =>
    this.read(() => this.far.readRecords(packId, start, count));
  exportRecords = (packId: string, max?: number) =>
    this.read(() => this.far.exportRecords(packId, max));
  readInverterProtocol = (packId: string) => this.read(() => this.far.readInverterProtocol(packId));

  subscribe(listener: EnvelopeListener): () => void {
    return this.far.subscribe((e) => {
      const text = JSON.stringify(e);
      if (this.losingEvents > 0) {
        this.losingEvents--;
        return;
      }
      this.traffic.push(text);
      listener(gatewayEventSchema.parse(JSON.parse(text)));
    });
  }

  send(command: GatewayCommand): Promise<CommandResult> {
    const out = JSON.stringify(command);
    this.traffic.push(out);
    const lost = this.losingResults > 0;
    if (lost) this.losingResults--;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new BmsError(
            'GATEWAY_UNAVAILABLE',
            `gateway ${this.gatewayId} did not answer ${command.op} (txn ${command.txn}) within ${this.timeoutMs} ms; its outcome is unknown: send it again with the same txn`,
            { txn: command.txn },
          ),
        );
      }, this.timeoutMs);
      this.far.send(gatewayCommandSchema.parse(JSON.parse(out))).then(
        (result) => {
          if (lost) return; // the answer never arrives; the timer speaks
          clearTimeout(timer);
          const back = JSON.stringify(result);
          this.traffic.push(back);
          resolve(commandResultSchema.parse(JSON.parse(back)));
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(wireError(e));
        },
      );
    });
  }
}
