/**
 * Organisations and their members (docs/fleet.md). A caller sees the subtrees of the
 * organisations it is a member of (its fleet memberships, `OrgStore.membershipsOf`), which
 * the store applies in SQL; anything outside is 404, exactly as what does not exist.
 *
 * - `GET /orgs`: the visible tree, by depth.
 * - `POST /orgs {parent_id, name, kind}` → `{id, code}`: under an organisation where the caller
 *   is manager or administrator (or below one); a parent it sees but may not manage is 403.
 * - `GET /orgs/:id/members`: the member list.
 * - `PATCH /orgs/:id/members/:user {role}`: only the organisation's manager (the person in
 *   charge, seed 000 §9-10) changes roles.
 * - `POST /orgs/:id/members {user_id | username, role}` and `DELETE /orgs/:id/members/:user`:
 *   a manager or administrator of the organisation or of one above it adds and removes
 *   members (making someone manager stays the manager's, unless there is none yet).
 *
 * - `POST /orgs/:id/customers {name, username, password, phone?, email?, timezone?}` →
 *   `{org_id, code, user_id, login}`: a customer account in one step (seed 002 §7.5, "group
 *   users add customer accounts"): a `customer` organisation under `:id` and its login, an
 *   `end_user` there; by a manager or administrator of `:id` or above.
 *
 * A membership change counts from the member's next request (the principal is read from the
 * store on every request, auth.ts) and at once on their open live streams.
 *
 * Every change is audited under the organisation it concerns.
 */
import { BmsError, isBmsError, isTimeZone } from '@openbms/core';
import {
  localRole,
  type Membership,
  type Org,
  type OrgKind,
  type OrgRole,
  type OrgStore,
  type AccountStore,
} from '@openbms/storage';
import type { FastifyInstance } from 'fastify';
import {
  customerCreateBody,
  customerCreatedSchema,
  errorResponses,
  memberAddBody,
  memberRoleBody,
  memberSchema,
  orgCreateBody,
  orgCreatedSchema,
  orgMemberParams,
  orgParams,
  orgSchema,
  type CustomerCreate,
  type MemberAdd,
  type MemberView,
  type OrgView,
} from '@openbms/contract/api';
import { accountByLogin, actedBy, caller, type Principal } from '../auth.js';
import type { ServerContext } from '../context.js';
import { hashPassword } from '../passwords.js';
import { endUserTokens } from '../sessions.js';

const orgView = (o: Org): OrgView => ({
  id: o.id,
  ...(o.parentId !== undefined ? { parent_id: o.parentId } : {}),
  kind: o.kind,
  name: o.name,
  code: o.code,
  depth: o.depth,
  created_at: o.createdAt,
});

const memberView = (m: Membership & { username?: string }): MemberView => ({
  user_id: m.userId,
  ...(m.username !== undefined ? { username: m.username } : {}),
  org_id: m.orgId,
  role: m.role,
  created_at: m.createdAt,
});

/** The store's field names as the API spells them (a refusal names the request's field). */
const API_FIELDS: Record<string, string> = { parentId: 'parent_id', userId: 'user' };

async function asApi<T>(call: Promise<T>, fields = API_FIELDS): Promise<T> {
  try {
    return await call;
  } catch (e) {
    const field = isBmsError(e) ? e.details?.['field'] : undefined;
    if (!isBmsError(e) || typeof field !== 'string' || !(field in fields)) throw e;
    const api = fields[field]!;
    throw new BmsError(e.code, e.message.replace(field, api), { ...e.details, field: api });
  }
}

/** Roles that manage an organisation's children. */
const MANAGING: readonly OrgRole[] = ['manager', 'administrator'];

export function orgRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  orgs: OrgStore,
  accounts?: AccountStore,
): void {
  /**
   * The caller's fleet memberships, read with the principal (auth.ts, the one place);
   * `within` = their organisations (empty: sees nothing).
   */
  const standing = async (p: Principal) => {
    const ms = p.fleet;
    return { ms, within: ms.map((m) => m.orgId) };
  };
  /**
   * The organisation, when the caller sees it, and whether they manage it (manager or
   * administrator there or above): 404 outside their subtrees, 403 seen but not managed.
   */
  const mustManage = async (p: Principal, id: string, what: string) => {
    const { ms, within } = await standing(p);
    if (within.length === 0 || !(await orgs.get(within, id))) throw notFound(id);
    const managed = ms.filter((m) => MANAGING.includes(m.role)).map((m) => m.orgId);
    if (managed.length === 0 || !(await orgs.get(managed, id))) {
      throw new BmsError(
        'FORBIDDEN',
        `${what} in "${id}" needs the manager or administrator role there or above`,
      );
    }
    return { ms, within };
  };
  const notFound = (id: string) => new BmsError('NOT_FOUND', `no organisation "${id}"`);
  const whose = (orgId: string) => ({ orgId, gatewayId: ctx.origin.gatewayId });

  app.get(
    '/orgs',
    {
      config: { access: 'viewer' },
      schema: {
        summary: "The organisations the caller sees: its organisations' subtrees, by depth",
        tags: ['organisations'],
        response: { 200: { type: 'array', items: orgSchema } },
      },
    },
    async (req) => {
      const { within } = await standing(caller(req));
      return within.length === 0 ? [] : (await orgs.subtree(within)).map(orgView);
    },
  );

  app.post<{ Body: { parent_id: string; name: string; kind: OrgKind } }>(
    '/orgs',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Create an organisation under one the caller manages; returns its id and code',
        tags: ['organisations'],
        body: orgCreateBody,
        response: { 201: orgCreatedSchema, ...errorResponses(403, 404) },
      },
    },
    async (req, reply) => {
      const me = caller(req);
      const { parent_id: parentId, name, kind } = req.body;
      const { ms, within } = await standing(me);
      if (within.length === 0 || !(await orgs.get(within, parentId))) throw notFound(parentId);
      const managed = ms.filter((m) => MANAGING.includes(m.role)).map((m) => m.orgId);
      if (managed.length === 0 || !(await orgs.get(managed, parentId))) {
        throw new BmsError(
          'FORBIDDEN',
          `creating an organisation under "${parentId}" needs the manager or administrator role there or above`,
        );
      }
      const org = await asApi(
        orgs.create(managed, { parentId, name, kind, createdAt: ctx.clock() }),
      );
      await ctx.record(
        {
          ...actedBy(me),
          action: 'org.create',
          new: { id: org.id, parent_id: parentId, name, kind, code: org.code },
          result: 'ok',
        },
        whose(org.id),
      );
      return reply.status(201).send({ id: org.id, code: org.code });
    },
  );

  app.post<{ Params: { id: string }; Body: CustomerCreate }>(
    '/orgs/:id/customers',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          'Add a customer account: a customer organisation under this one and its login (an end user there)',
        tags: ['organisations'],
        params: orgParams,
        body: customerCreateBody,
        response: { 201: customerCreatedSchema, ...errorResponses(403, 404) },
      },
    },
    async (req, reply) => {
      const me = caller(req);
      const { id } = req.params;
      const b = req.body;
      const { ms } = await mustManage(me, id, 'adding a customer account');
      // Everything that can be refused is checked before anything is made.
      if (b.timezone !== undefined && !isTimeZone(b.timezone))
        throw new BmsError(
          'REQUEST_INVALID',
          'timezone must be an IANA time zone such as Europe/Berlin',
          {
            field: 'timezone',
          },
        );
      const email = b.email?.toLowerCase();
      if ((email !== undefined || b.phone !== undefined || b.timezone !== undefined) && !accounts)
        throw new BmsError(
          'REQUEST_INVALID',
          'this server keeps no e-mail, phone or time zone of accounts',
          {
            field: email !== undefined ? 'email' : b.phone !== undefined ? 'phone' : 'timezone',
          },
        );
      if (email !== undefined && (await accounts!.userByEmail(email)))
        throw new BmsError('REQUEST_INVALID', 'email: this address has an account already', {
          field: 'email',
        });
      const hash = await hashPassword(b.password, ctx.passwordCost);
      const managed = ms.filter((m) => MANAGING.includes(m.role)).map((m) => m.orgId);
      const org = await asApi(
        orgs.create(managed, {
          parentId: id,
          name: b.name,
          kind: 'customer',
          createdAt: ctx.clock(),
        }),
        { ...API_FIELDS, name: 'name' },
      );
      const user = await ctx.accounts.run(async () => {
        const u = await ctx.users.create(
          whose(org.id),
          { username: b.username, role: 'viewer', createdAt: ctx.clock() },
          hash,
        );
        try {
          await orgs.setRole([org.id], org.id, u.id, 'end_user');
          if (
            accounts &&
            (email !== undefined || b.phone !== undefined || b.timezone !== undefined)
          )
            await accounts.setProfile(u.id, {
              ...(email !== undefined ? { email } : {}),
              ...(b.phone !== undefined ? { phone: b.phone } : {}),
              ...(b.timezone !== undefined ? { timezone: b.timezone } : {}),
            });
        } catch (e) {
          // The address taken meanwhile: the account is not kept half made.
          await ctx.users.delete({ orgIds: [org.id] }, u.username).catch(() => undefined);
          throw e;
        }
        return u;
      });
      await ctx.record(
        {
          ...actedBy(me),
          action: 'customer.create',
          new: {
            org_id: org.id,
            parent_id: id,
            name: b.name,
            code: org.code,
            username: user.username,
            role: 'end_user',
            ...(email !== undefined ? { email } : {}),
          },
          result: 'ok',
        },
        whose(org.id),
      );
      return reply.status(201).send({
        org_id: org.id,
        code: org.code,
        user_id: user.id,
        login: `${user.username}@${org.code}`,
      });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/orgs/:id/members',
    {
      config: { access: 'viewer' },
      schema: {
        summary: "An organisation's members and their roles, oldest first",
        tags: ['organisations'],
        params: orgParams,
        response: { 200: { type: 'array', items: memberSchema }, ...errorResponses(404) },
      },
    },
    async (req) => {
      const { within } = await standing(caller(req));
      if (within.length === 0) throw notFound(req.params.id);
      return (await orgs.members(within, req.params.id)).map(memberView);
    },
  );

  app.patch<{ Params: { id: string; user: string }; Body: { role: OrgRole } }>(
    '/orgs/:id/members/:user',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          "Change a member's role (the organisation's manager only); making someone manager hands the role over",
        tags: ['organisations'],
        params: orgMemberParams,
        body: memberRoleBody,
        response: { 200: memberSchema, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const me = caller(req);
      const { id, user } = req.params;
      const { role } = req.body;
      const { ms, within } = await standing(me);
      if (within.length === 0 || !(await orgs.get(within, id))) throw notFound(id);
      if (!ms.some((m) => m.orgId === id && m.role === 'manager')) {
        throw new BmsError(
          'FORBIDDEN',
          `only the manager of organisation "${id}" (the person in charge) changes roles`,
        );
      }
      const before = (await orgs.members(within, id)).find((m) => m.userId === user);
      const changed = await asApi(orgs.setRole(within, id, user, role));
      // A member of their own organisation: the account's box role follows (the store). A new
      // rank ends their sessions, as /users does (new rights, new sessions); streams of API
      // tokens stay and act with the new rank at once.
      const home = before && (await ctx.users.get({ orgIds: [id] }, before.username));
      let ended = 0;
      if (home?.id === user && localRole(before!.role) !== localRole(role)) {
        ended = await endUserTokens(ctx, { orgIds: [id] }, home.username, {
          kind: 'session',
          ...(user === me.userId ? { keep: me.tokenId } : {}),
          reason: 'role changed: log in again',
        });
      }
      await ctx.live.refreshUser(user);
      await ctx.record(
        {
          ...actedBy(me),
          action: 'member.role',
          old: before ? { role: before.role } : undefined,
          new: { user_id: user, role },
          result: 'ok',
          ...(ended > 0 ? { detail: `${ended} session(s) ended` } : {}),
        },
        whose(id),
      );
      return memberView(changed);
    },
  );

  app.post<{ Params: { id: string }; Body: MemberAdd }>(
    '/orgs/:id/members',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          'Add a member (a manager or administrator of the organisation or above); the user by exactly one of user_id and username',
        tags: ['organisations'],
        params: orgParams,
        body: memberAddBody,
        response: { 201: memberSchema, ...errorResponses(403, 404) },
      },
    },
    async (req, reply) => {
      const me = caller(req);
      const { id } = req.params;
      const { user_id: userId, username, role } = req.body;
      if ((userId === undefined) === (username === undefined)) {
        throw new BmsError('REQUEST_INVALID', 'give exactly one of user_id and username', {
          field: userId === undefined ? 'user_id' : 'username',
        });
      }
      const { ms, within } = await mustManage(me, id, 'adding a member');
      const members = await orgs.members(within, id);
      // The person in charge hands their role over themselves (PATCH); an organisation that
      // has none yet gets its first from whoever manages it.
      if (
        role === 'manager' &&
        members.some((m) => m.role === 'manager') &&
        !ms.some((m) => m.orgId === id && m.role === 'manager')
      ) {
        throw new BmsError(
          'FORBIDDEN',
          `only the manager of organisation "${id}" (the person in charge) makes another member manager`,
        );
      }
      let target = userId;
      if (username !== undefined) {
        const { scope, username: name } = await accountByLogin(ctx, username);
        const u = await ctx.users.get(scope, name);
        if (!u) throw new BmsError('NOT_FOUND', `no user "${username}"`, { field: 'username' });
        target = u.id;
      }
      const added = await asApi(
        orgs.addMember(within, { userId: target!, orgId: id, role, createdAt: ctx.clock() }),
        { userId: username !== undefined ? 'username' : 'user_id' },
      );
      const shown = (await orgs.members(within, id)).find((m) => m.userId === added.userId);
      await ctx.live.refreshUser(added.userId);
      await ctx.record(
        {
          ...actedBy(me),
          action: 'member.add',
          new: { user_id: added.userId, username: shown?.username, role },
          result: 'ok',
        },
        whose(id),
      );
      return reply.status(201).send(memberView(shown ?? added));
    },
  );

  app.delete<{ Params: { id: string; user: string } }>(
    '/orgs/:id/members/:user',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          'Remove a member (a manager or administrator of the organisation or above); not the manager, not from their own organisation',
        tags: ['organisations'],
        params: orgMemberParams,
        response: { 200: memberSchema, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const me = caller(req);
      const { id, user } = req.params;
      const { within } = await mustManage(me, id, 'removing a member');
      const before = (await orgs.members(within, id)).find((m) => m.userId === user);
      const removed = await asApi(orgs.removeMember(within, id, user));
      await ctx.live.refreshUser(user);
      await ctx.record(
        {
          ...actedBy(me),
          action: 'member.remove',
          old: { user_id: user, username: before?.username, role: removed.role },
          result: 'ok',
        },
        whose(id),
      );
      return memberView({ ...removed, ...(before ? { username: before.username } : {}) });
    },
  );
}
