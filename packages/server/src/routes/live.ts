/**
 * GET /api/v1/live (WebSocket): live snapshots, online changes and alarm events for the
 * packs a client subscribes to. Authenticated at the upgrade by the session cookie, a
 * Bearer header or `?token=` (browsers cannot set headers on a WebSocket).
 *
 * Client -> server: `{"subscribe": ["<pack id>", ...] | "*"}`, `{"unsubscribe": [...] | "*"}`.
 * Server -> client: `{"type":"hello"}`, `{"type":"subscribed", packs, unknown}`, then
 * `{"type":"snapshot", pack_id, ts, sent_at, snapshot}` (ts: read from the pack; sent_at: sent), `{"type":"online", pack_id, ts, online}`,
 * `{"type":"alarm", state, alarm}`, `{"type":"scan", scan}` (a bus scan's progress, to the box's
 * admins only); bad messages get `{"type":"error", error, code}`;
 * `{"type":"role", role}` when the user's role changes while the stream stays open.
 *
 * A stream gets only what its principal may see (policy.ts): `"*"` means every pack of the
 * gateways of the principal's organisations, an id of another organisation's pack is
 * `unknown` like one that does not exist, and every event is checked against the principal's
 * memberships as they are when it arrives (a role or membership change applies at once).
 *
 * The stream is registered in `ctx.live` (sessions.ts): logout, revocation, a password or
 * role change and deleting the user close it at once with code 4401. A recheck of the
 * secret at the first event after a minute also catches expiry and changes made outside
 * this server (another process on the same database).
 */
import { liveQuery, type LiveMessage } from '@openbms/contract/api';
import { GATEWAY_ALARM_SCOPE } from '@openbms/core';
import type { FastifyInstance } from 'fastify';
import type { GatewayEnvelope } from '@openbms/contract/gateway';
import { caller, presentedSecret, resolveSecret } from '../auth.js';
import type { ServerContext } from '../context.js';
import { wsError } from '../errors.js';
import { CLOSE_SESSION_ENDED } from '../sessions.js';
import type { PackStatus } from '../gateway-api.js';
import {
  allows,
  filterAlarm,
  filterSnapshot,
  gatewayScope,
  ownRole,
  type Principal,
} from '../policy.js';
import { alarmView } from '../views.js';

/** The part of a `ws` WebSocket the handler uses. */
interface LiveSocket {
  readyState: number;
  bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  on(event: 'message', cb: (data: Buffer | string) => void): void;
  on(event: 'close' | 'error', cb: () => void): void;
}

const OPEN = 1;
/** Above this many queued bytes a slow client misses snapshots (alarms still go out). */
const MAX_BUFFERED = 1024 * 1024;
const RECHECK_MS = 60_000;
const MAX_IDS = 1000;

type Message = { subscribe?: unknown; unsubscribe?: unknown };

/** An envelope as a live message, with the pack it concerns; undefined: not for the console. */
export function eventMessage(e: GatewayEnvelope): { packId: string; msg: LiveMessage } | undefined {
  switch (e.type) {
    case 'snapshot':
      return {
        packId: e.packId,
        msg: { type: 'snapshot', pack_id: e.packId, ts: e.ts, snapshot: e.snapshot },
      };
    case 'online':
      return {
        packId: e.packId,
        msg: {
          type: 'online',
          pack_id: e.packId,
          ts: e.ts,
          online: e.online,
          ...(e.reason ? { reason: e.reason } : {}),
        },
      };
    case 'alarm':
      return {
        packId: e.alarm.packId,
        msg: { type: 'alarm', state: e.state, alarm: alarmView(e.alarm) },
      };
    case 'command':
      // Command statuses are not streamed to the console yet (GET /commands polls them).
      return undefined;
  }
}

function idList(v: unknown): string[] | '*' | undefined {
  if (v === '*') return '*';
  if (
    Array.isArray(v) &&
    v.length <= MAX_IDS &&
    v.every((x) => typeof x === 'string' && x.length <= 200)
  ) {
    return v as string[];
  }
  return undefined;
}

export function liveRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/live',
    {
      websocket: true,
      config: { access: 'viewer', tokenInQuery: true },
      schema: {
        summary: 'WebSocket: live snapshots, online changes and alarms of subscribed packs',
        description:
          'Send {"subscribe": ["<pack id>"] | "*"}; receive {"type": "snapshot"|"online"|"alarm", ...}. ' +
          'Auth: session cookie, Bearer header or ?token=.',
        tags: ['live'],
        querystring: liveQuery,
      },
    },
    (socket: LiveSocket, req) => {
      let me: Principal = caller(req);
      const secret = presentedSecret(req, true);
      let role = ownRole(me);
      let all = false;
      const subs = new Set<string>();
      let lastCheck = ctx.clock();
      let dropped = 0;
      /** Outgoing gateway events, in order (see onEnvelope). */
      let out: Promise<void> = Promise.resolve();

      const send = (msg: LiveMessage) => {
        if (socket.readyState === OPEN) socket.send(JSON.stringify(msg));
      };
      /** New organisations or roles: they apply to the next event; the client hears its role. */
      const setPrincipal = (p: Principal): void => {
        me = p;
        const r = ownRole(p);
        if (r === role) return;
        role = r;
        send({ type: 'role', role: r });
      };
      let ended = false;
      /**
       * False once the secret is known to have ended. At the first event a minute after the
       * last check, it is checked again in the background (the store answers asynchronously);
       * the stream closes as soon as that check fails.
       */
      const stillAllowed = (): boolean => {
        if (ended) return false;
        if (ctx.clock() - lastCheck < RECHECK_MS) return true;
        lastCheck = ctx.clock();
        resolveSecret(ctx, secret).then(
          (now) => {
            if (now) setPrincipal(now);
          },
          () => {
            ended = true;
            socket.close(CLOSE_SESSION_ENDED, 'session ended');
          },
        );
        return true;
      };

      // Every gateway's stream; each event is shown only if its gateway is visible to the
      // principal as they are now.
      const offs: (() => void)[] = [];
      const onEnvelope = (e: GatewayEnvelope): void => {
        const m = eventMessage(e);
        if (!m) return;
        const { packId, msg } = m;
        if (!ctx.policy.canSee(me, e.gatewayId)) return;
        // Gateway alarms (storage) concern every pack of it: every socket that sees it gets them.
        if (!all && !subs.has(packId) && packId !== GATEWAY_ALARM_SCOPE) return;
        if (!stillAllowed()) return;
        if (e.type === 'snapshot' && socket.bufferedAmount > MAX_BUFFERED) {
          dropped++;
          return;
        }
        const link = ctx.gateways.get(e.gatewayId)!;
        const who = me;
        // The points the principal sees of the pack (policy: point groups) are read
        // asynchronously (cached); messages wait in one queue so they keep their order.
        out = out
          .then(async () => {
            let shown: LiveMessage = msg;
            if (msg.type === 'snapshot') {
              const f = await ctx.policy.points.filterForPack(who, link.orgId, {
                snapshot: msg.snapshot,
              });
              shown = { ...msg, snapshot: filterSnapshot(msg.snapshot, f) };
            } else if (msg.type === 'alarm' && e.type === 'alarm') {
              const f = await ctx.policy.points.filterForPack(
                who,
                link.orgId,
                (await link.pack(e.alarm.packId)) ?? {
                  snapshot: (await ctx.telemetry.latest(gatewayScope(link), e.alarm.packId))
                    ?.snapshot,
                },
              );
              shown = { ...msg, alarm: alarmView(filterAlarm(e.alarm, f)) };
            }
            // sent_at: when the snapshot left the gateway (ts is when the pack was read), so a
            // client can measure its own delay.
            send(
              shown.type === 'snapshot'
                ? {
                    ...shown,
                    sent_at: ctx.clock(),
                    ...(dropped > 0 ? { dropped_before: dropped } : {}),
                  }
                : shown,
            );
            if (e.type === 'snapshot') dropped = 0;
          })
          .catch((err: unknown) => send({ ...wsError(err, req).message }));
      };
      // Bus scans of this box: to its admins only (as the scan routes).
      const setup = ctx.box.busSetup;
      if (setup?.onScan) {
        offs.push(
          setup.onScan((job) => {
            if (!allows(me, 'admin', ctx.origin.orgId) || !stillAllowed()) return;
            send({ type: 'scan', scan: job as Extract<LiveMessage, { type: 'scan' }>['scan'] });
          }),
        );
      }
      try {
        // Every gateway's, also those registered later (a collector claimed meanwhile).
        offs.push(ctx.gateways.subscribeAll(onEnvelope));
      } catch (e) {
        for (const off of offs) off();
        throw e;
      }
      const unregister = ctx.live.add({
        userId: me.userId,
        tokenId: me.tokenId,
        close: (code, reason) => socket.close(code, reason),
        setMemberships: (standing) => setPrincipal({ ...me, ...standing }),
        refresh: () =>
          resolveSecret(ctx, secret).then(
            (now) => {
              if (now) setPrincipal(now);
            },
            () => {
              ended = true;
              socket.close(CLOSE_SESSION_ENDED, 'session ended');
            },
          ),
      });
      const done = (): void => {
        for (const off of offs.splice(0)) off();
        unregister();
      };
      socket.on('close', done);
      socket.on('error', done);

      const onMessage = async (data: Buffer | string): Promise<void> => {
        let m: Message;
        try {
          m = JSON.parse(data.toString()) as Message;
          if (typeof m !== 'object' || m === null || Array.isArray(m))
            throw new Error('not an object');
        } catch {
          return send({
            type: 'error',
            error: 'send JSON like {"subscribe": ["<pack id>"]} or {"subscribe": "*"}',
            code: 'REQUEST_INVALID',
          });
        }
        const add = m.subscribe !== undefined ? idList(m.subscribe) : undefined;
        const remove = m.unsubscribe !== undefined ? idList(m.unsubscribe) : undefined;
        if (
          (m.subscribe !== undefined && !add) ||
          (m.unsubscribe !== undefined && !remove) ||
          (!add && !remove)
        ) {
          return send({
            type: 'error',
            error: `"subscribe"/"unsubscribe" must be "*" or an array of at most ${MAX_IDS} pack ids`,
            code: 'REQUEST_INVALID',
            field: m.subscribe !== undefined ? 'subscribe' : 'unsubscribe',
          });
        }
        // The packs the principal may see now, read before anything changes, so the answer
        // and the subscriptions agree.
        const owners = new Map<PackStatus, string>();
        const visible: PackStatus[] = add
          ? (
              await Promise.all(
                ctx.policy.gateways(me).map(async (l) => {
                  const packs = await l.packs();
                  for (const p of packs) owners.set(p, l.orgId);
                  return packs;
                }),
              )
            ).flat()
          : [];
        if (remove === '*') {
          all = false;
          subs.clear();
        } else if (remove) {
          for (const id of remove) subs.delete(id);
        }
        const known = new Set(visible.map((p) => p.id));
        const unknown = add && add !== '*' ? add.filter((id) => !known.has(id)) : [];
        if (add === '*') all = true;
        else if (add) for (const id of add) subs.add(id);
        send({ type: 'subscribed', packs: all ? '*' : [...subs], unknown });
        // The current state of newly subscribed packs, so a client draws at once.
        const fresh =
          add === '*' ? visible : (add ?? []).flatMap((id) => visible.filter((p) => p.id === id));
        for (const p of fresh) {
          if (p.snapshot) {
            const orgId = owners.get(p);
            const f = await ctx.policy.points.filterForPack(me, orgId!, p);
            send({
              type: 'snapshot',
              pack_id: p.id,
              ts: p.lastSeen ?? ctx.clock(),
              snapshot: filterSnapshot(p.snapshot, f),
              online: p.online,
            });
          }
        }
      };

      // Messages are answered one at a time, in order. A failure while answering one (a store
      // or a gateway failing) is answered as an error message; it neither closes the stream nor
      // escapes to the socket.
      let queue: Promise<void> = Promise.resolve();
      socket.on('message', (data) => {
        queue = queue.then(() =>
          onMessage(data).catch((e: unknown) => send({ ...wsError(e, req).message })),
        );
      });

      // Ended between the upgrade's auth check and the registration above: close now.
      void ctx.users.findToken(me.tokenId).then(
        (t) => {
          if (!t) return socket.close(CLOSE_SESSION_ENDED, 'session ended');
          send({ type: 'hello', user: me.username, role });
        },
        (e: unknown) => {
          send({ ...wsError(e, req).message });
          socket.close(1011, 'storage failed');
        },
      );
    },
  );
}
