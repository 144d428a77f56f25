/**
 * GET /api/v1/live (WebSocket): live snapshots, online changes and alarm events for the
 * packs a client subscribes to. Authenticated at the upgrade by the session cookie, a
 * Bearer header or `?token=` (browsers cannot set headers on a WebSocket).
 *
 * Client -> server: `{"subscribe": ["<pack id>", ...] | "*"}`, `{"unsubscribe": [...] | "*"}`.
 * Server -> client: `{"type":"hello"}`, `{"type":"subscribed", packs, unknown}`, then
 * `{"type":"snapshot", pack_id, ts, sent_at, snapshot}` (ts: read from the pack; sent_at: sent), `{"type":"online", pack_id, ts, online}`,
 * `{"type":"alarm", state, alarm}`; bad messages get `{"type":"error", error, code}`;
 * `{"type":"role", role}` when the user's role changes while the stream stays open.
 *
 * The stream is registered in `ctx.live` (sessions.ts): logout, revocation, a password or
 * role change and deleting the user close it at once with code 4401. A recheck of the
 * secret at the first event after a minute also catches expiry and changes made outside
 * this server (another process on the same database).
 */
import { liveQuery, type LiveMessage } from '@openbms/contract/api';
import { GATEWAY_ALARM_SCOPE } from '@openbms/core';
import type { FastifyInstance } from 'fastify';
import { caller, presentedSecret, resolveSecret } from '../auth.js';
import type { ServerContext } from '../context.js';
import { wsError } from '../errors.js';
import { CLOSE_SESSION_ENDED } from '../sessions.js';
import type { GatewayEvent } from '../gateway-api.js';
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

export function eventMessage(e: GatewayEvent): { packId: string; msg: LiveMessage } {
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
        packId: e.event.packId,
        msg: { type: 'alarm', state: e.state, alarm: alarmView(e.event) },
      };
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
      const me = caller(req);
      const secret = presentedSecret(req, true);
      let role = me.role;
      let all = false;
      const subs = new Set<string>();
      let lastCheck = ctx.clock();
      let dropped = 0;

      const send = (msg: LiveMessage) => {
        if (socket.readyState === OPEN) socket.send(JSON.stringify(msg));
      };
      const setRole = (r: typeof role): void => {
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
            if (now) setRole(now.role);
          },
          () => {
            ended = true;
            socket.close(CLOSE_SESSION_ENDED, 'session ended');
          },
        );
        return true;
      };

      const off = ctx.gateway.events.on((e) => {
        const { packId, msg } = eventMessage(e);
        // Gateway alarms (storage) concern every pack: every socket gets them.
        if (!all && !subs.has(packId) && packId !== GATEWAY_ALARM_SCOPE) return;
        if (!stillAllowed()) return;
        if (e.type === 'snapshot' && socket.bufferedAmount > MAX_BUFFERED) {
          dropped++;
          return;
        }
        // sent_at: when the snapshot left the gateway (ts is when the pack was read), so a
        // client can measure its own delay.
        send(
          msg.type === 'snapshot'
            ? { ...msg, sent_at: ctx.clock(), ...(dropped > 0 ? { dropped_before: dropped } : {}) }
            : msg,
        );
        if (e.type === 'snapshot') dropped = 0;
      });
      const unregister = ctx.live.add({
        username: me.username,
        tokenId: me.tokenId,
        close: (code, reason) => socket.close(code, reason),
        setRole,
      });
      const done = (): void => {
        off();
        unregister();
      };
      socket.on('close', done);
      socket.on('error', done);

      const onMessage = (data: Buffer | string): void => {
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
        if (remove === '*') {
          all = false;
          subs.clear();
        } else if (remove) {
          for (const id of remove) subs.delete(id);
        }
        const known = new Set(ctx.gateway.packs().map((p) => p.id));
        const unknown = add && add !== '*' ? add.filter((id) => !known.has(id)) : [];
        if (add === '*') all = true;
        else if (add) for (const id of add) subs.add(id);
        send({ type: 'subscribed', packs: all ? '*' : [...subs], unknown });
        // The current state of newly subscribed packs, so a client draws at once.
        const fresh = add === '*' ? [...known] : (add ?? []).filter((id) => known.has(id));
        for (const id of fresh) {
          const p = ctx.gateway.pack(id);
          if (p?.snapshot) {
            send({
              type: 'snapshot',
              pack_id: id,
              ts: p.lastSeen ?? ctx.clock(),
              snapshot: p.snapshot,
              online: p.online,
            });
          }
        }
      };

      // A failure while answering one message (a store or the gateway throwing) is answered
      // as an error message; it neither closes the stream nor escapes to the socket.
      socket.on('message', (data) => {
        try {
          onMessage(data);
        } catch (e) {
          send({ ...wsError(e, req).message });
        }
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
