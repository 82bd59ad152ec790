/**
 * The admin console at start-up (composition root, like start-steps.ts): its pages, built from
 * the bridge's pieces, the audit log and activity stream in Redis, and the console middleware the
 * HTTP app mounts under /admin (docs/architecture.md §Admin console).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ActivityLog } from './admin/activity.ts';
import { auditRoutes } from './admin/audit.ts';
import { AuditLog } from './admin/audit-log.ts';
import { clientsRoutes } from './admin/clients.ts';
import { adminConsole } from './admin/console.ts';
import { overviewRoutes } from './admin/overview.ts';
import type { AdminRoute } from './admin/page.ts';
import { adminPages } from './admin/pages/index.ts';
import { RequestRecorder } from './admin/recorded-requests.ts';
import { SignInLimit } from './admin/sign-in-limit.ts';
import { type BridgeConfig, loadConfig } from './config/index.ts';
import type { HttpDeps } from './http/app.ts';
import type { EventsRuntime } from './jobs/index.ts';
import type { MappingStore } from './mapping/reload.ts';
import type { Directory } from './ports/directory.ts';
import type { ReadinessReport } from './services/readiness.ts';
import type { ResourceService } from './services/resources/service.ts';
import type { AuthRuntime } from './start-auth.ts';

/** What the console's pages may read: the bridge's own pieces, as main.ts built them. */
export interface AdminParts {
  readonly config: BridgeConfig;
  readonly logger: Logger;
  readonly redis: Redis;
  readonly auth: AuthRuntime;
  readonly resources: ResourceService;
  readonly mappings: MappingStore;
  readonly directory: Directory;
  readonly events: EventsRuntime | undefined;
  readonly readiness: () => Promise<ReadinessReport>;
}

/** Every page of the console. */
function adminRoutes(
  parts: AdminParts,
  logs: { audit: AuditLog; activity: ActivityLog; recorded: RequestRecorder | undefined },
): AdminRoute[] {
  const { auth } = parts;
  return [
    ...overviewRoutes({
      readiness: parts.readiness,
      activity: logs.activity,
      ...(parts.events ? { services: () => (parts.events as EventsRuntime).admin.stats() } : {}),
    }),
    ...clientsRoutes({
      configuredTokens: () => auth.statics.list(),
      issuedTokens: (limit) => auth.issued.list(limit),
      idps: () => auth.trust?.status() ?? [],
    }),
    ...auditRoutes(logs.audit),
    ...adminPages({
      mappings: parts.mappings,
      resources: parts.resources,
      directory: parts.directory,
      ...(parts.events ? { deliveries: parts.events.admin } : {}),
      ...(logs.recorded ? { recorded: logs.recorded } : {}),
      scimBaseUrl: parts.config.server.publicBaseUrl ?? parts.config.server.basePath,
    }),
  ];
}

/** The console and the activity recorder for the HTTP app; nothing when admin.enabled is false. */
export function startAdmin(
  parts: AdminParts,
): Pick<HttpDeps, 'admin' | 'activity' | 'adminAudit' | 'recordedRequests'> {
  const { config, logger, redis, auth } = parts;
  if (!config.admin.enabled) return {};
  const prefix = config.redis.keyPrefix;
  const log = logger.child({ component: 'admin' });
  const audit = new AuditLog(redis, {
    key: `${prefix}admin-audit`,
    maxLength: config.admin.auditStreamLength,
    log: (record) => log.info({ audit: record }, 'admin action'),
    warn: (message, error) => log.warn({ err: (error as Error).message }, message),
  });
  const activity = new ActivityLog(redis, {
    key: `${prefix}activity`,
    maxLength: config.admin.activityStreamLength,
  });
  const recorded =
    config.admin.recordedRequests > 0
      ? new RequestRecorder(redis, {
          key: `${prefix}recorded-requests`,
          maxLength: config.admin.recordedRequests,
        })
      : undefined;
  const admin = adminConsole({
    sessions: auth.sessions,
    authenticator: auth.authenticator,
    signInLimit: new SignInLimit(redis, {
      keyPrefix: prefix,
      attempts: config.admin.signInAttempts,
      windowSeconds: config.admin.signInWindowSeconds,
    }),
    idps: () => (auth.webSso ? (auth.trust?.status() ?? []).filter((s) => s.trusted).map((s) => s.name) : []),
    routes: adminRoutes(parts, { audit, activity, recorded }),
    audit,
    logger: log,
  });
  return { admin, activity, adminAudit: audit, ...(recorded ? { recordedRequests: recorded } : {}) };
}

/** Tools the local test IdP needs (idp.ts signs with them). */
function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(path.join(dir, tool)));
}

export interface LocalIdp {
  readonly config: BridgeConfig;
  /** Where its sign-in form answers. */
  readonly url?: string;
  stop(): Promise<void>;
}

/**
 * The local default (`npm start` with no directory and no SAML configured) also runs the loopback
 * test IdP (localdev/idp-server.ts) and trusts it, so the console's SSO can be tried at once.
 * Needs openssl and xmlsec1 and a fixed server.port (the ACS URL is in the IdP's answers); else,
 * or when anything SAML is configured, the configuration is returned as it is.
 */
export async function withLocalIdp(config: BridgeConfig): Promise<LocalIdp> {
  const { saml } = config.auth;
  const eligible =
    !config.ldap.url &&
    config.admin.enabled &&
    saml.entityId === undefined &&
    saml.trustedIdps.length === 0 &&
    config.server.port !== 0 &&
    onPath('openssl') &&
    onPath('xmlsec1');
  if (!eligible) return { config, stop: async () => undefined };
  const { startIdpServer } = await import('./localdev/idp-server.ts');
  const idp = await startIdpServer({ dir: path.resolve(process.env.LOCAL_IDP_DIR ?? '.local-idp') });
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  const origin = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${config.server.port}`;
  const env = {
    ...process.env,
    SCIM_BRIDGE_AUTH_SAML_ENTITY_ID: `${origin}/saml`,
    SCIM_BRIDGE_AUTH_SAML_TOKEN_ENDPOINT_URL: `${origin}/oauth/token`,
    SCIM_BRIDGE_AUTH_SAML_TRUSTED_IDPS: JSON.stringify([
      {
        name: 'local-idp',
        metadataFile: idp.files.metadataFile,
        scopeRules: [{ attribute: 'groups', equals: 'scim-admins', scopes: ['admin'] }],
      },
    ]),
  };
  return { config: loadConfig({ env }), url: idp.url, stop: () => idp.stop() };
}
