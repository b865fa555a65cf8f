// The one way to authorise: a bearer token names a principal (configured tokens are kept as sha256 digests
// and compared in constant time; session tokens are HMACs), and `authorize` decides whether that principal
// may act on a session in the roles its kind declares. Requests carry the token's *name*, never the token.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { sha256Hex, type Config } from '../config/config';
import { homeRoles, sessionId, type AnySessionKind, type Caller, type Role } from '../shared/session-kind';
import { HttpError, forbidden, notFound, unauthorized } from './errors';
import { RateLimiter } from './rate-limit';

export interface Principal {
  role: Role;
  /** Configured token name (or `session:<id>` for a session token): what audit fields and logs record. */
  name: string;
  /** Home tokens (device, owner): the home they belong to. */
  homeId?: string;
  /** Session tokens: the one session they open. */
  sessionId?: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/**
 * Session tokens: `st_<session id, base64url>.<HMAC>`, so any API instance can check one without a lookup
 * and an idempotent retry of a start gets the same token back. The secret also keys request digests.
 */
export class SessionTokens {
  private readonly secret: Buffer;

  constructor(secret: string | undefined) {
    this.secret = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
  }

  private mac(purpose: string, value: string): Buffer {
    return createHmac('sha256', this.secret).update(`${purpose}\n${value}`).digest();
  }

  tokenFor(workflowId: string): string {
    const id = Buffer.from(workflowId, 'utf8').toString('base64url');
    return `st_${id}.${this.mac('session-token', workflowId).toString('base64url')}`;
  }

  /** The session a token opens, or undefined when it is not one of ours. */
  sessionOf(token: string): string | undefined {
    const match = /^st_([A-Za-z0-9_-]{1,200})\.[A-Za-z0-9_-]{43}$/.exec(token);
    if (!match) return undefined;
    const workflowId = Buffer.from(match[1], 'base64url').toString('utf8');
    const expected = Buffer.from(this.tokenFor(workflowId));
    const given = Buffer.from(token);
    return expected.length === given.length && timingSafeEqual(expected, given) ? workflowId : undefined;
  }

  /** Hex digest of `value` that reveals nothing of it without the secret (it may hold a phone number). */
  digest(purpose: string, value: string): string {
    return this.mac(purpose, value).toString('hex');
  }
}

export class TokenAuthority {
  // Keyed by the token's sha256: lookup time depends on the digest, which reveals nothing usable about
  // valid tokens, and a hit is an exact match of it. No copy of the digest beside the key: at 100,000
  // homes the index is most of what the API holds.
  private readonly byDigest = new Map<string, Principal>();

  private readonly viewersByDigest = new Map<string, string>();
  private readonly limiter: RateLimiter;
  /** Requests without a valid token, per client address: guesses and guest calls cost the caller too. */
  private readonly strangers: RateLimiter;

  constructor(
    config: Pick<Config, 'homes' | 'tokens' | 'operators' | 'codec' | 'rateLimit'>,
    readonly sessionTokens: SessionTokens,
  ) {
    this.limiter = new RateLimiter(config.rateLimit.perTokenPerMinute);
    this.strangers = new RateLimiter(config.rateLimit.unauthenticatedPerMinute);
    for (const t of config.codec.endpoint.tokens) this.viewersByDigest.set(t.sha256, t.name);
    const add = (p: Principal, sha256: string) => this.byDigest.set(sha256, p);
    for (const [homeId, home] of Object.entries(config.homes)) {
      for (const t of home.tokens) add({ homeId, role: t.role, name: t.name }, t.sha256);
    }
    for (const t of config.tokens) add({ role: t.role, name: t.name }, t.sha256);
    for (const t of config.operators) add({ role: t.role, name: t.name }, t.sha256);
  }

  /**
   * The principal of a known token, counted against its rate limit (throws 429 beyond it) before any
   * route looks at what it asks: a flooding token is slowed down whatever it asks for.
   */
  identify(token: string): Principal | undefined {
    const session = this.sessionTokens.sessionOf(token);
    if (session !== undefined) {
      this.limiter.take(`session/${session}`);
      return { role: 'session', name: `session:${session}`, sessionId: session };
    }
    const found = this.byDigest.get(sha256Hex(token));
    if (!found) return undefined;
    this.limiter.take(`${found.homeId ?? '-'}/${found.role}/${found.name}`);
    return {
      role: found.role,
      name: found.name,
      ...(found.homeId === undefined ? {} : { homeId: found.homeId }),
    };
  }

  /**
   * Counts a request that carries no valid token (none, malformed, unknown, or a guest's) against its
   * client address, as `trust proxy` (api.trustProxy) resolves it: throws 429 with Retry-After beyond
   * the limit, so a flood is refused before it costs a lookup, a workflow or an SMS.
   */
  countStranger(req: Request): void {
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    try {
      this.strangers.take(`address/${address}`);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      throw new HttpError(
        err.status,
        err.code,
        `too many requests without a valid token from this address; retry in ${err.headers?.['Retry-After']} s`,
        err.headers,
      );
    }
  }

  /** A codec-endpoint viewer (the Web UI, an operator's CLI) by token, counted like the others. */
  identifyViewer(token: string): string | undefined {
    const name = this.viewersByDigest.get(sha256Hex(token));
    if (name !== undefined) this.limiter.take(`codec/${name}`);
    return name;
  }
}

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

/** The bearer token of a request: undefined when absent, null when malformed. */
export function bearerToken(header: string | undefined): string | undefined | null {
  if (header === undefined || header === '') return undefined;
  return BEARER.exec(header)?.[1] ?? null;
}

/**
 * Sets `req.principal` from the bearer token. Without a token the request goes on as a guest only where
 * `guests` says so; a malformed or unknown token is refused at once.
 */
export function authenticate(authority: TokenAuthority, opts: { guests?: boolean } = {}): RequestHandler {
  return (req, res, next) => {
    const token = bearerToken(req.get('authorization'));
    if (token === undefined && opts.guests) {
      authority.countStranger(req);
      return next();
    }
    if (!token) {
      authority.countStranger(req);
      res.set('WWW-Authenticate', 'Bearer');
      return next(unauthorized('missing or malformed Authorization: Bearer <token>'));
    }
    const principal = authority.identify(token);
    if (!principal) {
      authority.countStranger(req);
      res.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      return next(unauthorized('unknown token'));
    }
    req.principal = principal;
    next();
  };
}

/** Who a session belongs to, as its search attributes say (read only when a rule needs it). */
export interface SessionOwner {
  customerId?: string;
}

const label = (roles: readonly Role[]) => roles.join(' or ');

/**
 * Whether `p` may act on session `kind:key` in one of `allowed` roles. Throws 403 for a token of the
 * wrong role or home, 401 for another session's token, and 404 for someone else's session (it is as
 * absent as a missing one). An operator acts in any role but device.
 */
export async function authorize(
  p: Principal,
  kind: AnySessionKind,
  key: string,
  allowed: readonly Role[],
  owner: () => Promise<SessionOwner>,
): Promise<Caller> {
  if (p.role === 'operator' && allowed.some((r) => r !== 'device')) return { name: p.name, role: p.role };
  if (!allowed.includes(p.role)) throw forbidden(`this needs a ${label(allowed)} token`);
  if (homeRoles.includes(p.role)) {
    if (kind.homeOf?.(key) !== p.homeId) throw forbidden('this token is not valid for this home');
  } else if (p.role === 'session') {
    if (p.sessionId !== sessionId(kind, key))
      throw unauthorized('this session token is not valid for this session');
  } else if (p.role === 'customer') {
    if ((await owner()).customerId !== p.name) throw notFound('no-session', `there is no session '${key}'`);
  }
  return { name: p.name, role: p.role };
}

/** Quotes a value for a visibility query (values are ids from configuration or validated keys). */
const q = (v: string) => `'${v.replace(/'/g, "''")}'`;

/** One class of sessions a principal may see: a kind, narrowed to a home, a customer or one session. */
interface ViewScope {
  kind: string;
  homeId?: string;
  customerId?: string;
  workflowId?: string;
}

/** The sessions `p` may see; empty when it may see none. */
function viewScopes(p: Principal, kinds: AnySessionKind[]): ViewScope[] {
  if (p.role === 'operator') return kinds.map((k) => ({ kind: k.name }));
  return kinds
    .filter((k) => k.viewers.includes(p.role) && (!homeRoles.includes(p.role) || k.homeOf !== undefined))
    .map((k) => {
      if (homeRoles.includes(p.role)) return { kind: k.name, homeId: p.homeId ?? '' };
      if (p.role === 'customer') return { kind: k.name, customerId: p.name };
      if (p.role === 'session') return { kind: k.name, workflowId: p.sessionId ?? '' };
      return { kind: k.name };
    });
}

/** The sessions `p` may see, as a visibility query clause; undefined when it may see none. */
export function visibilityScope(p: Principal, kinds: AnySessionKind[]): string | undefined {
  const scopes = viewScopes(p, kinds);
  if (scopes.length === 0) return undefined;
  const clauses = scopes.map((s) =>
    [
      `SessionKind = ${q(s.kind)}`,
      ...(s.homeId === undefined ? [] : [`HomeId = ${q(s.homeId)}`]),
      ...(s.customerId === undefined ? [] : [`CustomerId = ${q(s.customerId)}`]),
      ...(s.workflowId === undefined ? [] : [`WorkflowId = ${q(s.workflowId)}`]),
    ].join(' AND '),
  );
  return `(${clauses.map((c) => `(${c})`).join(' OR ')})`;
}

/** Whether `p` may see a session, by the same scopes as `visibilityScope` (for the change stream). */
export function canView(
  p: Principal,
  kinds: AnySessionKind[],
): (s: { kind: string; homeId: string | null; customerId: string | null; workflowId: string }) => boolean {
  const scopes = viewScopes(p, kinds);
  return (s) =>
    scopes.some(
      (v) =>
        v.kind === s.kind &&
        (v.homeId === undefined || v.homeId === s.homeId) &&
        (v.customerId === undefined || v.customerId === s.customerId) &&
        (v.workflowId === undefined || v.workflowId === s.workflowId),
    );
}
