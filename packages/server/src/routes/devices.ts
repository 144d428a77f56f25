/**
 * The fleet's device list, bind and unbind with approval, import and export (docs/fleet.md
 * "Devices", seeds 002 EMS and 003 "List").
 *
 * Scope comes from the policy (`subtreeRoots`): a caller lists and finds the devices of the
 * subtrees of their organisations, which the store applies in SQL; a device outside is 404
 * exactly as one that does not exist. Changing a device (register, edit, bind, unbind,
 * import) needs the admin rank (manager or administrator) in its organisation: seen but not
 * allowed is 403.
 *
 * - `GET /devices?status&q&org&cursor&limit`: a page (newest first) and the counts per tab.
 * - `POST /devices`, `PATCH /devices/:id` (nickname, activation, expiry).
 * - `POST /devices/:id/bind {org_id}`: moves it to an organisation of the caller's subtree.
 * - `POST /devices/:id/unbind {reason?}`: a pending approval, decided by a manager or
 *   administrator of the organisation above the owner (or of any one above that), never by
 *   whoever asked; approved, the device moves to the approver's organisation (the nearest one
 *   above the owner where they are manager or administrator).
 * - `GET /approvals?state`, `POST /approvals/:id/approve|reject {reason?}`.
 * - `POST /devices/import` (CSV or XLSX body, all rows or none), `GET /devices/export.csv|.xlsx`.
 *
 * Run status: before a list, the packs the server's gateways report online are marked seen
 * (at most every SEEN_EVERY_MS); a device is online when seen within ONLINE_WINDOW_MS.
 */
import { BmsError, isBmsError } from '@openbms/core';
import {
  ONLINE_WINDOW_MS,
  deviceChecks,
  type Approval,
  type DeviceQuery,
  type DeviceStatus,
  type DeviceStore,
  type ListedDevice,
  type NewDevice,
  type OrgStore,
} from '@openbms/storage';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  approvalSchema,
  approvalsQuery,
  bindBody,
  deviceCreateBody,
  deviceExportQuery,
  deviceListQuery,
  devicePageSchema,
  deviceParams,
  devicePatchBody,
  deviceSchema,
  errorResponses,
  importResultSchema,
  reasonBody,
  type ApprovalView,
  type DeviceCreate,
  type DeviceExportQuery,
  type DeviceListQuery,
  type DevicePatchBody,
  type DeviceView,
} from '@openbms/contract/api';
import { actedBy, caller } from '../auth.js';
import type { ServerContext } from '../context.js';
import { allows, requireRole, subtreeRoots, type Principal } from '../policy.js';
import {
  MAX_IMPORT_BYTES,
  csvRecords,
  csvText,
  importRows,
  xlsxBytes,
  xlsxRecords,
  type Cells,
} from '../device-files.js';

/** How often (at most) the gateways' online packs are marked seen before a list. */
const SEEN_EVERY_MS = 30_000;
/** The most rows an export writes. */
export const MAX_EXPORT_DEVICES = 100_000;

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** The store's field names as the API spells them. */
const API_FIELDS: Record<string, string> = {
  orgId: 'org_id',
  producedOn: 'produced_on',
  expiresAt: 'expires_at',
  gatewayId: 'gateway_id',
  packId: 'pack_id',
};

async function asApi<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (e) {
    const field = isBmsError(e) ? e.details?.['field'] : undefined;
    if (!isBmsError(e) || typeof field !== 'string' || !(field in API_FIELDS)) throw e;
    const api = API_FIELDS[field]!;
    throw new BmsError(e.code, e.message.replace(field, api), { ...e.details, field: api });
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function deviceRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  devices: DeviceStore,
  orgs: OrgStore,
): void {
  let seenAt = -Infinity;
  /** Marks the packs the gateways report online now (run status), at most every SEEN_EVERY_MS. */
  const touch = async (now: number): Promise<void> => {
    if (now - seenAt < SEEN_EVERY_MS) return;
    seenAt = now;
    for (const link of ctx.gateways.all()) {
      const online = (await link.packs()).filter((p) => p.online).map((p) => p.id);
      if (online.length > 0) await devices.seen(link.gatewayId, online, now);
    }
  };

  const view = (d: ListedDevice, now: number): DeviceView => ({
    id: d.id,
    serial: d.serial,
    ...(d.barcode !== undefined ? { barcode: d.barcode } : {}),
    ...(d.nickname !== undefined ? { nickname: d.nickname } : {}),
    type: d.type,
    ...(d.model !== undefined ? { model: d.model } : {}),
    ...(d.manufacturer !== undefined ? { manufacturer: d.manufacturer } : {}),
    ...(d.producedOn !== undefined ? { produced_on: d.producedOn } : {}),
    joined_at: d.joinedAt,
    created_by: d.createdBy,
    org_id: d.orgId,
    org_name: d.orgName,
    org_code: d.orgCode,
    activation: d.activation,
    ...(d.expiresAt !== undefined ? { expires_at: d.expiresAt } : {}),
    ...(d.gatewayId !== undefined ? { gateway_id: d.gatewayId } : {}),
    ...(d.packId !== undefined ? { pack_id: d.packId } : {}),
    ...(d.lastSeenAt !== undefined ? { last_seen_at: d.lastSeenAt } : {}),
    online: d.lastSeenAt !== undefined && d.lastSeenAt >= now - ONLINE_WINDOW_MS,
    expired: d.expiresAt !== undefined && d.expiresAt <= now,
  });

  const approvalView = (a: Approval, p: Principal): ApprovalView => ({
    id: a.id,
    kind: a.kind,
    device_id: a.deviceId,
    serial: a.serial,
    from_org: a.fromOrg,
    to_org: a.toOrg,
    requested_by: a.requestedByName,
    requested_at: a.requestedAt,
    ...(a.reason !== undefined ? { reason: a.reason } : {}),
    state: a.state,
    ...(a.decidedByName !== undefined ? { decided_by: a.decidedByName } : {}),
    ...(a.decidedAt !== undefined ? { decided_at: a.decidedAt } : {}),
    ...(a.decisionReason !== undefined ? { decision_reason: a.decisionReason } : {}),
    can_decide: a.state === 'pending' && a.requestedBy !== p.userId && allows(p, 'admin', a.toOrg),
    mine: a.requestedBy === p.userId,
  });

  const notFound = (id: string) => new BmsError('NOT_FOUND', `no device "${id}"`);
  /** The device when the caller sees it (else 404), and the admin rank in its organisation (else 403). */
  const mustChange = async (p: Principal, id: string, what: string) => {
    const within = subtreeRoots(p);
    const d = within.length > 0 ? await devices.get(within, id) : undefined;
    if (!d) throw notFound(id);
    requireRole(p, 'admin', d.orgId, what);
    return { d, within };
  };
  const whose = (orgId: string) => ({ orgId, gatewayId: ctx.origin.gatewayId });
  const query = (q: DeviceExportQuery & { cursor?: string; limit?: number }): DeviceQuery => ({
    status: (q.status ?? 'all') as DeviceStatus,
    ...(q.q !== undefined && q.q !== '' ? { q: q.q } : {}),
    ...(q.org !== undefined ? { org: q.org } : {}),
    ...(q.cursor !== undefined ? { after: q.cursor } : {}),
    ...(q.limit !== undefined ? { limit: q.limit } : {}),
    now: ctx.clock(),
  });

  app.get<{ Querystring: DeviceListQuery }>(
    '/devices',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          "Devices of the caller's subtrees, newest first: filter tabs (status) with their counts, search by device no., bar code or nickname, keyset pages",
        tags: ['devices'],
        querystring: deviceListQuery,
        response: { 200: devicePageSchema, ...errorResponses(404) },
      },
    },
    async (req) => {
      const p = caller(req);
      const within = subtreeRoots(p);
      const q = query(req.query);
      const none = { all: 0, online: 0, offline: 0, expired: 0, expiring: 0, not_enabled: 0 };
      if (within.length === 0) return { devices: [], counts: none };
      await touch(q.now);
      const page = await asApi(devices.list(within, q));
      const counts = await devices.counts(within, q);
      return {
        devices: page.devices.map((d) => view(d, q.now)),
        counts,
        ...(page.next !== undefined ? { next: page.next } : {}),
      };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/devices/:id',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'One device of the caller’s subtrees',
        tags: ['devices'],
        params: deviceParams,
        response: { 200: deviceSchema, ...errorResponses(404) },
      },
    },
    async (req) => {
      const within = subtreeRoots(caller(req));
      const d = within.length > 0 ? await devices.get(within, req.params.id) : undefined;
      if (!d) throw notFound(req.params.id);
      return view(d, ctx.clock());
    },
  );

  const newDevice = (p: Principal, b: DeviceCreate, orgId: string): NewDevice => ({
    serial: b.serial,
    type: b.type,
    ...(b.barcode !== undefined ? { barcode: b.barcode } : {}),
    ...(b.nickname !== undefined ? { nickname: b.nickname } : {}),
    ...(b.model !== undefined ? { model: b.model } : {}),
    ...(b.manufacturer !== undefined ? { manufacturer: b.manufacturer } : {}),
    ...(b.produced_on !== undefined ? { producedOn: b.produced_on } : {}),
    ...(b.expires_at !== undefined ? { expiresAt: b.expires_at } : {}),
    ...(b.gateway_id !== undefined ? { gatewayId: b.gateway_id } : {}),
    ...(b.pack_id !== undefined ? { packId: b.pack_id } : {}),
    activation: b.activation ?? 'enabled',
    orgId,
    joinedAt: ctx.clock(),
    createdBy: p.username,
  });

  /** The organisation a new device goes to: given (seen: else 404; admin there: else 403) or the caller's own. */
  const targetOrg = async (p: Principal, orgId: string | undefined, what: string) => {
    const id = orgId ?? p.orgId;
    const within = subtreeRoots(p);
    if (within.length === 0 || !(await orgs.get(within, id)))
      throw new BmsError('NOT_FOUND', `no organisation "${id}"`, { field: 'org_id' });
    requireRole(p, 'admin', id, what);
    return { id, within };
  };

  app.post<{ Body: DeviceCreate }>(
    '/devices',
    {
      config: { access: 'admin' },
      schema: {
        summary:
          'Register a device in an organisation of the caller (manager or administrator there)',
        tags: ['devices'],
        body: deviceCreateBody,
        response: { 201: deviceSchema, ...errorResponses(403, 404) },
      },
    },
    async (req, reply) => {
      const p = caller(req);
      const { id: orgId, within } = await targetOrg(p, req.body.org_id, 'registering a device');
      ctx.limits.requireRoom(orgId, 'devices', await devices.countIn(orgId));
      const made = await asApi(devices.create(within, newDevice(p, req.body, orgId)));
      await ctx.record(
        {
          ...actedBy(p),
          action: 'device.create',
          new: { id: made.id, serial: made.serial, org_id: orgId },
          result: 'ok',
        },
        whose(orgId),
      );
      return reply.status(201).send(view((await devices.get(within, made.id))!, ctx.clock()));
    },
  );

  app.patch<{ Params: { id: string }; Body: DevicePatchBody }>(
    '/devices/:id',
    {
      config: { access: 'admin' },
      schema: {
        summary: "Change a device's nickname, activation or expiry (manager or administrator)",
        tags: ['devices'],
        params: deviceParams,
        body: devicePatchBody,
        response: { 200: deviceSchema, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const p = caller(req);
      const { d, within } = await mustChange(p, req.params.id, 'changing a device');
      const b = req.body;
      const patch = {
        ...(b.nickname !== undefined ? { nickname: b.nickname } : {}),
        ...(b.activation !== undefined ? { activation: b.activation } : {}),
        ...(b.expires_at !== undefined ? { expiresAt: b.expires_at } : {}),
      };
      await asApi(devices.update(within, d.id, patch));
      await ctx.record(
        {
          ...actedBy(p),
          action: 'device.update',
          old: {
            nickname: d.nickname ?? null,
            activation: d.activation,
            expires_at: d.expiresAt ?? null,
          },
          new: { id: d.id, ...b },
          result: 'ok',
        },
        whose(d.orgId),
      );
      return view((await devices.get(within, d.id))!, ctx.clock());
    },
  );

  app.post<{ Params: { id: string }; Body: { org_id: string } }>(
    '/devices/:id/bind',
    {
      config: { access: 'admin' },
      schema: {
        summary:
          "Bind a device to an organisation of the caller's subtree (a customer...): manager or administrator of both",
        tags: ['devices'],
        params: deviceParams,
        body: bindBody,
        response: { 200: deviceSchema, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const p = caller(req);
      const { d, within } = await mustChange(p, req.params.id, 'binding a device');
      const to = req.body.org_id;
      if (!(await orgs.get(within, to)))
        throw new BmsError('NOT_FOUND', `no organisation "${to}"`, { field: 'org_id' });
      requireRole(p, 'admin', to, 'binding a device to this organisation');
      await asApi(devices.bind(within, d.id, to));
      await ctx.record(
        {
          ...actedBy(p),
          action: 'device.bind',
          old: { org_id: d.orgId },
          new: { id: d.id, serial: d.serial, org_id: to },
          result: 'ok',
        },
        whose(to),
      );
      return view((await devices.get(within, d.id))!, ctx.clock());
    },
  );

  app.post<{ Params: { id: string }; Body: { reason?: string } | undefined }>(
    '/devices/:id/unbind',
    {
      config: { access: 'admin' },
      schema: {
        summary:
          'Ask to unbind a device: a pending approval for the organisation above its owner (the device moves only when approved)',
        tags: ['devices'],
        params: deviceParams,
        body: reasonBody,
        response: { 201: approvalSchema, ...errorResponses(403, 404) },
      },
    },
    async (req, reply) => {
      const p = caller(req);
      const { d, within } = await mustChange(p, req.params.id, 'unbinding a device');
      const owner = await orgs.get([d.orgId], d.orgId);
      if (owner?.parentId === undefined)
        throw new BmsError(
          'REQUEST_INVALID',
          `id: device "${d.id}" belongs to a root organisation: there is nothing above to return it to`,
          { field: 'id' },
        );
      const reason = req.body?.reason;
      const a = await devices.requestUnbind(within, {
        deviceId: d.id,
        toOrg: owner.parentId,
        requestedBy: p.userId,
        requestedByName: p.username,
        requestedAt: ctx.clock(),
        ...(reason !== undefined ? { reason } : {}),
      });
      await ctx.record(
        {
          ...actedBy(p),
          action: 'device.unbind.request',
          new: {
            approval: a.id,
            device: d.id,
            serial: d.serial,
            from_org: a.fromOrg,
            to_org: a.toOrg,
            ...(reason !== undefined ? { reason } : {}),
          },
          result: 'ok',
        },
        whose(d.orgId),
      );
      return reply.status(201).send(approvalView(a, p));
    },
  );

  app.get<{ Querystring: { state?: 'pending' | 'approved' | 'rejected' } }>(
    '/approvals',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          'The approval inbox: what the caller may decide (manager or administrator above the owner) and what they asked, newest first',
        tags: ['devices'],
        querystring: approvalsQuery,
        response: { 200: { type: 'array', items: approvalSchema } },
      },
    },
    async (req) => {
      const p = caller(req);
      const list = await devices.approvals({
        decides: subtreeRoots(p, 'admin'),
        asker: p.userId,
        ...(req.query.state !== undefined ? { state: req.query.state } : {}),
      });
      return list.map((a) => approvalView(a, p));
    },
  );

  /** The nearest organisation at or above `from` where the principal is manager or administrator. */
  const approverOrg = async (p: Principal, from: string): Promise<string> => {
    const mine = new Set(subtreeRoots(p, 'admin'));
    let cur: string | undefined = from;
    for (let i = 0; cur !== undefined && i < 64; i++) {
      if (mine.has(cur)) return cur;
      cur = (await orgs.get([cur], cur))?.parentId;
    }
    return from;
  };

  for (const verdict of ['approve', 'reject'] as const) {
    app.post<{ Params: { id: string }; Body: { reason?: string } | undefined }>(
      `/approvals/:id/${verdict}`,
      {
        config: { access: 'admin' },
        schema: {
          summary:
            verdict === 'approve'
              ? "Approve a pending unbind: the device moves to the approver's organisation"
              : 'Reject a pending unbind: the device stays',
          tags: ['devices'],
          params: deviceParams,
          body: reasonBody,
          response: { 200: approvalSchema, ...errorResponses(403, 404) },
        },
      },
      async (req) => {
        const p = caller(req);
        const id = req.params.id;
        const a = await devices.approval(
          { decides: subtreeRoots(p, 'admin'), asker: p.userId },
          id,
        );
        if (!a) throw new BmsError('NOT_FOUND', `no approval "${id}"`);
        if (a.requestedBy === p.userId)
          throw new BmsError('FORBIDDEN', 'a request is decided by someone other than who asked');
        requireRole(p, 'admin', a.toOrg, `deciding approval "${id}"`);
        const reason = req.body?.reason;
        const to = verdict === 'approve' ? await approverOrg(p, a.toOrg) : a.toOrg;
        const done = await devices.decide(id, {
          approve: verdict === 'approve',
          by: p.userId,
          byName: p.username,
          at: ctx.clock(),
          toOrg: to,
          ...(reason !== undefined ? { reason } : {}),
        });
        await ctx.record(
          {
            ...actedBy(p),
            action: `approval.${verdict}`,
            old: { state: 'pending', org_id: a.fromOrg },
            new: {
              approval: id,
              device: a.deviceId,
              serial: a.serial,
              state: done.state,
              from_org: a.fromOrg,
              to_org: verdict === 'approve' ? to : a.fromOrg,
              ...(reason !== undefined ? { reason } : {}),
            },
            result: 'ok',
          },
          whose(a.fromOrg),
        );
        return approvalView(done, p);
      },
    );
  }

  // ------------------------------------------------------------ export

  const rowsFor = async (p: Principal, q: DeviceExportQuery): Promise<Cells[]> => {
    const within = subtreeRoots(p);
    if (within.length === 0) return [];
    const base = query(q);
    await touch(base.now);
    const out: Cells[] = [];
    let after: string | undefined;
    do {
      const page = await asApi(
        devices.list(within, { ...base, limit: 500, ...(after ? { after } : {}) }),
      );
      for (const d of page.devices) {
        const v = view(d, base.now);
        out.push({
          serial: d.serial,
          barcode: d.barcode ?? '',
          nickname: d.nickname ?? '',
          type: d.type,
          model: d.model ?? '',
          manufacturer: d.manufacturer ?? '',
          produced_on: d.producedOn ?? '',
          activation: d.activation,
          expires_at: d.expiresAt !== undefined ? iso(d.expiresAt) : '',
          org_code: d.orgCode,
          gateway_id: d.gatewayId ?? '',
          pack_id: d.packId ?? '',
          org_name: d.orgName,
          run_status: v.online ? 'online' : 'offline',
          joined_at: iso(d.joinedAt),
          created_by: d.createdBy,
        });
      }
      after = page.next;
    } while (after !== undefined && out.length < MAX_EXPORT_DEVICES);
    return out.slice(0, MAX_EXPORT_DEVICES);
  };

  for (const kind of ['csv', 'xlsx'] as const) {
    app.get<{ Querystring: DeviceExportQuery }>(
      `/devices/export.${kind}`,
      {
        config: { access: 'viewer' },
        schema: {
          summary: `The device list (same filters as GET /devices) as ${kind.toUpperCase()}, at most ${MAX_EXPORT_DEVICES} rows`,
          tags: ['devices'],
          querystring: deviceExportQuery,
          produces: [kind === 'csv' ? 'text/csv' : XLSX_TYPE],
          response: errorResponses(404),
        },
      },
      async (req, reply) => {
        const p = caller(req);
        const rows = await rowsFor(p, req.query);
        await ctx.record(
          {
            ...actedBy(p),
            action: 'device.export',
            new: { format: kind, rows: rows.length, ...req.query },
            result: 'ok',
          },
          whose(p.orgId),
        );
        const name = `devices-${new Date(ctx.clock()).toISOString().slice(0, 10)}.${kind}`;
        reply.header('content-disposition', `attachment; filename=${name}`);
        return kind === 'csv'
          ? reply.type('text/csv; charset=utf-8').send(csvText(rows))
          : reply.type(XLSX_TYPE).send(Buffer.from(xlsxBytes(rows)));
      },
    );
  }

  // ------------------------------------------------------------ import

  void app.register(async (scoped) => {
    scoped.addContentTypeParser(
      ['text/csv', XLSX_TYPE],
      { parseAs: 'buffer', bodyLimit: MAX_IMPORT_BYTES },
      (_req: FastifyRequest, body: Buffer, done) => done(null, body),
    );
    scoped.post<{ Querystring: { org?: string }; Body: Buffer }>(
      '/devices/import',
      {
        config: { access: 'admin' },
        bodyLimit: MAX_IMPORT_BYTES,
        schema: {
          summary:
            'Import devices from a CSV or XLSX file (the export’s columns): every row or none; a refusal names the row and column',
          description:
            'Content type text/csv or the .xlsx type, at most 2 MB and 10,000 rows. Columns: ' +
            'serial and type required; barcode, nickname, model, manufacturer, produced_on ' +
            '(YYYY-MM-DD), activation, expires_at (ISO 8601), org_code (an organisation of the ' +
            "caller's subtree; default ?org= or the caller's own), gateway_id, pack_id; the " +
            "export's org_name, run_status, joined_at and created_by are ignored.",
          tags: ['devices'],
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { org: { type: 'string', minLength: 1, maxLength: 64 } },
          },
          response: { 201: importResultSchema, ...errorResponses(403, 404) },
        },
      },
      async (req, reply) => {
        const p = caller(req);
        const type = String(req.headers['content-type'] ?? '');
        if (!Buffer.isBuffer(req.body))
          throw new BmsError('REQUEST_INVALID', 'body: send the file as text/csv or .xlsx', {
            field: 'body',
          });
        const records = type.startsWith(XLSX_TYPE)
          ? xlsxRecords(req.body)
          : csvRecords(req.body.toString('utf8'));
        const rows = importRows(records);
        const { id: defaultOrg, within } = await targetOrg(p, req.query.org, 'importing devices');
        const byCode = new Map<string, string>();
        const ds: NewDevice[] = [];
        for (const [i, r] of rows.entries()) {
          const line = i + 2;
          const fail = (column: string, why: string): never => {
            throw new BmsError('REQUEST_INVALID', `row ${line}, column ${column}: ${why}`, {
              field: column,
              row: line,
              column,
            });
          };
          let orgId = defaultOrg;
          if (r.org_code !== undefined) {
            const code = r.org_code.toUpperCase();
            if (!byCode.has(code)) {
              const o = await orgs.byCode(code);
              const seen = o && (await orgs.get(within, o.id));
              if (!seen) fail('org_code', `no organisation ${code} in your subtree`);
              if (!allows(p, 'admin', seen!.id))
                fail('org_code', `importing into ${code} needs the manager or administrator role`);
              byCode.set(code, seen!.id);
            }
            orgId = byCode.get(code)!;
          }
          let expiresAt: number | undefined;
          if (r.expires_at !== undefined) {
            expiresAt = Date.parse(r.expires_at);
            if (
              !/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(r.expires_at) ||
              Number.isNaN(expiresAt)
            )
              fail('expires_at', 'must be an ISO 8601 time such as 2027-01-01T00:00:00Z');
          }
          if (r.type !== undefined && !['bms', 'collector', 'tracker'].includes(r.type))
            fail('type', 'must be bms, collector or tracker');
          if (r.activation !== undefined && !['enabled', 'not_enabled'].includes(r.activation))
            fail('activation', 'must be enabled or not_enabled');
          ds.push({
            serial: r.serial ?? '',
            type: (r.type ?? '') as NewDevice['type'],
            ...(r.barcode !== undefined ? { barcode: r.barcode } : {}),
            ...(r.nickname !== undefined ? { nickname: r.nickname } : {}),
            ...(r.model !== undefined ? { model: r.model } : {}),
            ...(r.manufacturer !== undefined ? { manufacturer: r.manufacturer } : {}),
            ...(r.produced_on !== undefined ? { producedOn: r.produced_on } : {}),
            ...(expiresAt !== undefined ? { expiresAt } : {}),
            ...(r.gateway_id !== undefined ? { gatewayId: r.gateway_id } : {}),
            ...(r.pack_id !== undefined ? { packId: r.pack_id } : {}),
            activation: (r.activation ?? 'enabled') as NewDevice['activation'],
            orgId,
            joinedAt: ctx.clock(),
            createdBy: p.username,
          });
        }
        // Each row checked alone first, so a refusal names its line and the file's column.
        const COLUMN: Record<string, string> = {
          orgId: 'org_code',
          producedOn: 'produced_on',
          expiresAt: 'expires_at',
          gatewayId: 'gateway_id',
          packId: 'pack_id',
        };
        const rowError = (e: unknown, line: number): never => {
          if (!isBmsError(e) || e.code !== 'REQUEST_INVALID') throw e;
          const f = String(e.details?.['field'] ?? 'body');
          const column = COLUMN[f] ?? f;
          throw new BmsError(
            'REQUEST_INVALID',
            `row ${line}, column ${column}: ${e.message.replace(f, column)}`,
            { field: column, row: line, column },
          );
        };
        ds.forEach((d, i) => {
          try {
            deviceChecks.newDevice(d);
          } catch (e) {
            rowError(e, i + 2);
          }
        });
        // Each target organisation's devices limit, before anything is written.
        const adding = new Map<string, number>();
        for (const d of ds) adding.set(d.orgId, (adding.get(d.orgId) ?? 0) + 1);
        for (const [org, n] of adding)
          ctx.limits.requireRoom(org, 'devices', await devices.countIn(org), n);
        let imported: number;
        try {
          imported = await devices.createMany(within, ds);
        } catch (e) {
          const row = isBmsError(e) ? e.details?.['row'] : undefined;
          if (typeof row === 'number') rowError(e, row + 2);
          throw e;
        }
        await ctx.record(
          {
            ...actedBy(p),
            action: 'device.import',
            new: { rows: imported, org_id: defaultOrg },
            result: 'ok',
          },
          whose(defaultOrg),
        );
        return reply.status(201).send({ imported });
      },
    );
  });
}
