/**
 * buildServer: the Fastify app with the REST API under /api/v1, the live WebSocket, the
 * OpenAPI document and the auth hook (a Principal per request; the policy decides the rest).
 * It owns no state besides login rate limiting; every datum comes from the storage ports and
 * the gateways it is given (their links: the seam).
 */
import { mapTileSource, type FleetLimitsConfig } from '@openbms/contract';
import AjvCompiler from '@fastify/ajv-compiler';
import fastifyCookie from '@fastify/cookie';
import fastifyWebsocket from '@fastify/websocket';
import {
  type AlarmStore,
  type AuditStore,
  type Origin,
  type OrgStore,
  type AccountStore,
  type DeviceStore,
  type PlantStore,
  type PointGroupStore,
  type PositionStore,
  type InstructionStore,
  type GeofenceStore,
  type RemoteCollectorStore,
  type TelemetryStore,
  type UserStore,
} from '@openbms/storage';
import { BmsError } from '@openbms/core';
import type { TrackerAlarmNotice } from '@openbms/gateway';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { checkAccess, presentedSecret, resolveSecret } from './auth.js';
import { GatewayRegistry } from './gateways.js';
import { Policy, requireRole } from './policy.js';
import type { ServerContext } from './context.js';
import { installJsonBodyParser } from './body.js';
import {
  MAX_PARAM_LENGTH,
  clientErrorHandler,
  installErrorHandlers,
  sendError,
  wsErrorHandler,
} from './errors.js';
import type { BoxGateway, GatewayLink } from './gateway-api.js';
import { loggerOptions, type LoggerOption } from './logging.js';
import { RouteCollector } from './openapi.js';
import { checkWebSocketOrigin, normalizeOrigin, registerSecurityHeaders } from './security.js';
import { Limiter, Serial } from './serial.js';
import { LiveRegistry } from './sessions.js';
import { DEFAULT_COST, type ScryptCost } from './passwords.js';
import { FailureLimiter, type RateLimitOptions } from './rate-limit.js';
import { Captchas, type CaptchaOptions } from './captcha.js';
import { alarmRoutes } from './routes/alarms.js';
import { auditRoutes } from './routes/audit.js';
import { authRoutes } from './routes/auth.js';
import { controlRoutes } from './routes/control.js';
import { docsRoutes, registerDocs } from './routes/docs.js';
import { linkRoutes, type CollectorLinkView } from './routes/link.js';
import { energyRoutes } from './routes/energy.js';
import { exportRoutes } from './routes/exports.js';
import { healthRoutes } from './routes/health.js';
import { integrationRoutes, metricsRoutes } from './routes/metrics.js';
import { liveRoutes } from './routes/live.js';
import { notificationRoutes } from './routes/notifications.js';
import { packRoutes } from './routes/packs.js';
import { busSetupRoutes } from './routes/buses.js';
import { settingsRoutes } from './routes/settings.js';
import { setupRoutes } from './routes/setup.js';
import { siteRoutes } from './routes/sites.js';
import { tokenRoutes } from './routes/tokens.js';
import { userRoutes } from './routes/users.js';
import { orgRoutes } from './routes/orgs.js';
import { deviceRoutes } from './routes/devices.js';
import { positionRoutes } from './routes/positions.js';
import { instructionRoutes } from './routes/instructions.js';
import { geofenceRoutes } from './routes/geofences.js';
import { trackerAlarmRoutes } from './routes/tracker-alarms.js';
import { mapRoutes, trackerRoutes, type MapOptions } from './routes/trackers.js';
import { renewalRoutes } from './routes/renewals.js';
import { plantRoutes } from './routes/plants.js';
import { collectorRoutes, type CollectorRouteOptions } from './routes/collectors.js';
import type { UplinkPort } from './uplink.js';
import { pointGroupRoutes } from './routes/points.js';
import { signupRoutes, type SignupOptions } from './routes/signup.js';
import { alarmMail } from './alarm-mail.js';
import { webRoutes } from './web.js';
import { auditLimits, resolveLimits } from './limits.js';

export interface ServerDeps {
  storage: {
    alarms: AlarmStore;
    audit: AuditStore;
    users: UserStore;
    telemetry: TelemetryStore;
    /** Organisations and members (both adapters have them): the /orgs routes are served with them. */
    orgs?: OrgStore;
    /** E-mail addresses and sign-up/reset codes (both adapters have them). */
    accounts?: AccountStore;
    /** The fleet's device list and approvals (both adapters): the /devices and /approvals routes. */
    devices?: DeviceStore;
    /** Plants, visitors and collectors (both adapters have them): the /plants routes are served with them. */
    plants?: PlantStore;
    /** Point groups (both adapters have them): the data points each role sees; without them every point. */
    points?: PointGroupStore;
    /** Tracker positions (both adapters): the /devices/:id/positions and /mileage routes. */
    positions?: PositionStore;
    /** Instructions to trackers (both adapters): the /devices/:id/instructions routes. */
    instructions?: InstructionStore;
    geofences?: GeofenceStore;
    /** Remote collectors (both adapters): the /collectors routes (with plants and orgs). */
    remoteCollectors?: RemoteCollectorStore;
    /** An embedded store's own gateway (SqliteStorage has it). */
    identity?: Origin;
  };
  /**
   * The server's own identity (the single box: its gateway and organisation; default
   * `storage.identity`): whose accounts log in here, whose id its own records carry.
   */
  identity?: Origin;
  /**
   * The box's gateway: its link (the seam) and the machine's own services (settings, metrics,
   * notifications, tunnel, MQTT panel). The `Gateway` class satisfies it.
   */
  gateway: BoxGateway;
  /**
   * Further gateways to serve, by their links (the fleet's collectors; tests' second
   * organisation). Each belongs to its organisation: the policy shows it to that organisation's
   * members only.
   */
  gateways?: readonly GatewayLink[];
  /**
   * The registry to serve the gateways from (default: a new one). `openbms cloud` passes its
   * own, which its collector uplink adds collectors' links to while the server runs.
   */
  registry?: GatewayRegistry;
  /**
   * The node's collector uplink (`openbms cloud`: the embedded or external broker; uplink.ts).
   * Absent: a collector's hello answers 503 (this server takes no collectors).
   */
  uplink?: UplinkPort;
  /** Rate limits of the collector routes (hellos per IP, wrong codes); tests lower them. */
  collectorLimits?: CollectorRouteOptions;
  /** ms since the epoch; injectable for tests. Default Date.now. */
  clock?: () => number;
  /** true: JSON logs on stdout at info; an object picks the level and/or the stream. */
  logger?: LoggerOption;
  /**
   * Which reverse proxies to believe about X-Forwarded-For/-Proto/-Host (client IP for rate
   * limiting, HTTPS for the Secure cookie and HSTS, host for the WebSocket Origin check):
   * true (any: only when nothing else can reach the port), addresses or CIDR ranges, or
   * false (default).
   */
  trustProxy?: boolean | string | readonly string[];
  /** Serve HTTPS with this certificate and key (PEM); the session cookie is then Secure. */
  https?: { cert: string | Buffer; key: string | Buffer };
  /**
   * Always mark the session cookie Secure. Without it the cookie is Secure on requests that
   * came over HTTPS (native TLS, or a trusted proxy's X-Forwarded-Proto).
   */
  secureCookie?: boolean;
  /** Origins besides the server's own whose pages may open the live WebSocket. */
  allowedOrigins?: readonly string[];
  /** Session lifetime, ms (default 7 days). */
  sessionTtlMs?: number;
  /** scrypt cost for new password hashes (tests lower it). */
  passwordCost?: ScryptCost;
  /** Failed logins allowed per IP + user name (default 5 per minute; per IP: 4x that). */
  loginLimit?: RateLimitOptions;
  /**
   * The login's captcha (config `accounts.captcha`, `accounts.captcha_after`; default after 3
   * failures). Its `revealAnswerForTests` is for test harnesses only (captcha.ts).
   */
  captcha?: CaptchaOptions;
  /** Sign-up and password reset by e-mailed code (config `accounts.signup`, `.email`, `.terms`); absent: off. */
  signup?: SignupOptions;
  /** Alarm e-mails to opted-in users (through `signup.send`): at most this many per user per hour (default 20). */
  alarmMailsPerHour?: number;
  /** Tracker alarm notices (the tracker ingest's `onAlarm`), for the alarm e-mails. */
  trackerAlarms?: { subscribe(fn: (n: TrackerAlarmNotice) => void): () => void };
  /** The built web console (packages/web/dist) to serve at /; absent: the API only. */
  webRoot?: string;
  /** The directory holding the database (its free space is shown); absent: not reported. */
  dataDir?: string;
  /** This box as a collector of a fleet cloud (GET /link; `openbms start` with cloud.url). */
  collectorLink?: () => CollectorLinkView | undefined;
  /**
   * Per-organisation limits (config `fleet.limits`; limits.ts). Given: a change since the last
   * start is audited. Absent: the defaults, not audited (the single box without a `fleet`
   * section).
   */
  limits?: FleetLimitsConfig;
  /**
   * The console's map tiles (config `web.map`; GET /map). Their origin is added to the
   * Content-Security-Policy's img-src. Absent: no tiles (the console draws a graticule).
   */
  map?: MapOptions;
}

const WEEK_MS = 7 * 24 * 3600 * 1000;

/** The img-src the map's tiles need (none without tiles). */
function mapImageSources(map: MapOptions | undefined): string[] {
  if (map?.tiles === undefined) return [];
  const src = mapTileSource(map.tiles);
  if (src === undefined)
    throw new BmsError(
      'CONFIG_INVALID',
      `web.map.tiles: ${JSON.stringify(map.tiles)} is not a tile URL template`,
    );
  return [src];
}

/** History queries and export chunks in flight at once (serial.ts says why one). */
const HEAVY_READS = 1;

/**
 * Query strings and path parameters arrive as text, so their scalars are coerced ("5" -> 5);
 * arrays and objects never are (Fastify's default 'array' mode would turn ["x"] into "x").
 */
const TEXT_PARTS = {
  removeAdditional: false,
  coerceTypes: true,
  allErrors: false,
  strictNumbers: true,
};
/**
 * JSON bodies are typed already: nothing is converted. A body can reach a battery, and
 * coercion turned `{"on": null}` into false and `{"pct": null}` into 0; `strictNumbers`
 * refuses NaN and Infinity (`1e309`). Defaults of optional fields still apply.
 */
const BODY = { removeAdditional: false, coerceTypes: false, allErrors: false, strictNumbers: true };

/** One Ajv instance for bodies and one for the text parts, picked per schema part. */
function validators(): FastifyServerOptions['schemaController'] {
  const pool = AjvCompiler();
  const buildValidator: typeof pool = (external) => {
    const text = pool(external, { customOptions: TEXT_PARTS });
    const body = pool(external, { customOptions: BODY });
    // Fastify calls the compiler with {schema, method, url, httpPart} (the library's type
    // names only the schema).
    return (route) =>
      (route as { httpPart?: string }).httpPart === 'body' ? body(route) : text(route);
  };
  return { compilersFactory: { buildValidator } };
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const clock = deps.clock ?? Date.now;
  const limit = deps.loginLimit ?? { max: 5, windowMs: 60_000 };
  const allowedOrigins = originSet(deps.allowedOrigins ?? []);
  const trustProxy = deps.trustProxy ?? false;
  // Fastify's type follows the server kind (http or https); the routes only need the base.
  const app = Fastify({
    ...(deps.https ? { https: deps.https } : {}),
    logger: loggerOptions(deps.logger),
    trustProxy: typeof trustProxy === 'object' ? [...trustProxy] : trustProxy,
    bodyLimit: 1024 * 1024,
    schemaController: validators(),
    // Errors raised before a route runs get the API's error shape too (errors.ts).
    clientErrorHandler,
    frameworkErrors: (err, req, reply) => void sendError(err, req, reply),
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
  }) as unknown as FastifyInstance;

  const origin = deps.identity ?? deps.storage.identity;
  if (!origin) {
    throw new BmsError(
      'CONFIG_INVALID',
      "the server needs the gateway's identity (organisation and gateway ids): pass `identity`, or a storage that has its own",
    );
  }
  const limits = await resolveLimits(deps.limits, deps.storage.orgs, clock);
  if (deps.limits) await auditLimits(deps.storage.audit, origin, deps.limits, clock());
  let gateways: GatewayRegistry;
  if (deps.registry) {
    gateways = deps.registry;
    for (const l of [deps.gateway.link, ...(deps.gateways ?? [])]) gateways.add(l);
  } else gateways = new GatewayRegistry([deps.gateway.link, ...(deps.gateways ?? [])]);
  const ctx: ServerContext = {
    alarms: deps.storage.alarms,
    audit: deps.storage.audit,
    users: deps.storage.users,
    ...(deps.storage.orgs ? { orgs: deps.storage.orgs } : {}),
    ...(deps.storage.plants ? { plants: deps.storage.plants } : {}),
    ...(deps.storage.accounts ? { accountStore: deps.storage.accounts } : {}),
    telemetry: deps.storage.telemetry,
    origin,
    scope: { orgIds: [origin.orgId] },
    gateways,
    policy: new Policy(
      gateways,
      {
        orgs: deps.storage.orgs,
        points: deps.storage.points,
        clock,
      },
      deps.storage.devices,
    ),
    box: deps.gateway,
    accounts: new Serial(),
    limits,
    reads: new Limiter(HEAVY_READS),
    clock,
    startedAt: clock(),
    sessionTtlMs: deps.sessionTtlMs ?? WEEK_MS,
    passwordCost: deps.passwordCost ?? DEFAULT_COST,
    loginLimiter: new FailureLimiter(limit, clock),
    ipLimiter: new FailureLimiter({ ...limit, max: limit.max * 4 }, clock),
    captchas: new Captchas(deps.captcha ?? {}, clock),
    secureCookie: deps.secureCookie ?? false,
    live: new LiveRegistry(),
    ...(deps.dataDir !== undefined ? { dataDir: deps.dataDir } : {}),
    ...(deps.uplink ? { uplink: deps.uplink } : {}),
    async record(e, whose = origin) {
      try {
        await deps.storage.audit.append(whose, { ...e, at: clock() });
      } catch (err) {
        app.log.error({ err, action: e.action }, 'audit append failed');
      }
    },
  };

  const routes = new RouteCollector();
  app.addHook('onRoute', (r) => routes.add(r));
  let spa = false;
  installErrorHandlers(app, { spa: () => spa });
  installJsonBodyParser(app);
  await registerSecurityHeaders(app, mapImageSources(deps.map));
  await app.register(fastifyCookie);
  await registerDocs(app);
  await app.register(fastifyWebsocket, {
    options: { maxPayload: 64 * 1024 },
    errorHandler: (err, socket, req) => wsErrorHandler(err, socket, req),
  });

  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (req) => {
    if (req.headers.upgrade?.toLowerCase() === 'websocket')
      checkWebSocketOrigin(req, allowedOrigins);
    const access = req.routeOptions.config.access;
    if (access === undefined) return; // unknown route (404) or a plugin's own
    const inQuery = req.routeOptions.config.tokenInQuery === true;
    if (access === 'public') {
      try {
        req.auth = await resolveSecret(ctx, presentedSecret(req, inQuery));
      } catch {
        req.auth = null; // a stale cookie must not lock anyone out of login or health
      }
      return;
    }
    req.auth = await resolveSecret(ctx, presentedSecret(req, inQuery));
    const what = `${req.method} ${req.routeOptions.url ?? ''}`;
    checkAccess(access, req.auth, what);
    // After the role check: a request refused for its role costs no allowance.
    if (req.auth) limits.takeRequest(req.auth.orgId);
    if (req.routeOptions.config.box === true && req.auth)
      requireRole(req.auth, access, origin.orgId, what);
  });

  await app.register(
    async (api) => {
      authRoutes(api, ctx);
      setupRoutes(api, ctx);
      userRoutes(api, ctx);
      tokenRoutes(api, ctx);
      packRoutes(api, ctx);
      energyRoutes(api, ctx);
      siteRoutes(api, ctx);
      alarmRoutes(api, ctx);
      auditRoutes(api, ctx);
      exportRoutes(api, ctx);
      healthRoutes(api, ctx);
      liveRoutes(api, ctx);
      controlRoutes(api, ctx); // only when a gateway runs control commands
      integrationRoutes(api, ctx);
      notificationRoutes(api, ctx);
      settingsRoutes(api, ctx);
      busSetupRoutes(api, ctx);
      linkRoutes(api, deps.collectorLink);
      if (deps.storage.orgs) orgRoutes(api, ctx, deps.storage.orgs, deps.storage.accounts);
      if (deps.storage.orgs && deps.storage.devices)
        deviceRoutes(api, ctx, deps.storage.devices, deps.storage.orgs);
      if (deps.storage.devices) renewalRoutes(api, ctx, deps.storage.devices);
      if (deps.storage.devices && deps.storage.positions) {
        positionRoutes(api, ctx, deps.storage.devices, deps.storage.positions);
        trackerRoutes(api, ctx, deps.storage.devices, deps.storage.positions);
        trackerAlarmRoutes(
          api,
          ctx,
          deps.storage.devices,
          deps.storage.positions,
          deps.storage.accounts,
        );
      }
      if (deps.storage.devices && deps.storage.geofences && deps.storage.orgs)
        geofenceRoutes(api, ctx, deps.storage.geofences, deps.storage.devices, deps.storage.orgs);
      mapRoutes(api, deps.map);
      if (deps.storage.devices && deps.storage.instructions)
        instructionRoutes(api, ctx, deps.storage.devices, deps.storage.instructions);
      if (deps.storage.orgs && deps.storage.plants)
        plantRoutes(api, ctx, deps.storage.plants, deps.storage.orgs, deps.storage.accounts);
      if (deps.storage.remoteCollectors && deps.storage.plants && deps.storage.orgs)
        collectorRoutes(
          api,
          ctx,
          deps.storage.remoteCollectors,
          deps.storage.plants,
          deps.storage.devices,
          deps.collectorLimits,
        );
      if (deps.storage.orgs && deps.storage.points)
        pointGroupRoutes(api, ctx, deps.storage.orgs, deps.storage.points);
      signupRoutes(api, ctx, deps.signup, deps.storage.accounts, deps.storage.orgs);
    },
    { prefix: '/api/v1' },
  );
  metricsRoutes(app, ctx);
  docsRoutes(app);
  if (deps.webRoot) spa = await webRoutes(app, deps.webRoot);
  // Alarm e-mails to the users who asked for them (My account), through accounts.email.
  if (deps.signup?.send && deps.storage.accounts) {
    const mails = alarmMail(ctx, deps.storage.accounts, deps.signup.send, {
      ...(deps.alarmMailsPerHour !== undefined ? { maxPerHour: deps.alarmMailsPerHour } : {}),
      ...(deps.trackerAlarms && deps.storage.devices
        ? {
            trackers: {
              subscribe: (fn: (n: TrackerAlarmNotice) => void) => deps.trackerAlarms!.subscribe(fn),
              devices: deps.storage.devices,
            },
          }
        : {}),
      log: app.log,
    });
    app.addHook('onClose', async () => {
      mails.close();
      await mails.idle();
    });
  }
  return app;
}

/** The allowed origins, normalized; an entry that is no http(s) origin is refused. */
function originSet(list: readonly string[]): ReadonlySet<string> {
  const out = new Set<string>();
  list.forEach((o, i) => {
    const n = normalizeOrigin(o);
    if (n === undefined) {
      throw new BmsError(
        'CONFIG_INVALID',
        `allowedOrigins[${i}]: ${JSON.stringify(o)} is not an origin like https://bms.example.com or http://192.168.1.5:8080 (scheme, host, optional port; no path)`,
        { field: `allowedOrigins[${i}]` },
      );
    }
    out.add(n);
  });
  return out;
}
