// Bearer tokens per home and role, from configuration. Only sha256 digests are kept; the presented token
// is hashed and compared in constant time. The request then carries the token's *name*, never the token.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { sha256Hex, type Config } from '../config/config';
import { forbidden, unauthorized } from './errors';
import { RateLimiter } from './rate-limit';

export type HomeRole = 'device' | 'owner';
export type ShopRole = 'staff' | 'customer';
/** Monitoring-centre operators: every session, acting as owner or staff. */
export type Role = HomeRole | ShopRole | 'operator';

export interface Principal {
  /** Set for home tokens (device/owner); shop tokens (staff/customer) have none. */
  homeId?: string;
  role: Role;
  /** Token name from configuration: what audit fields and logs record. */
  name: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

export class TokenAuthority {
  // Keyed by digest: lookup time depends on the digest, which reveals nothing usable about valid tokens.
  private readonly byDigest = new Map<string, Principal & { digest: Buffer }>();

  private readonly viewersByDigest = new Map<string, { name: string; digest: Buffer }>();
  private readonly limiter: RateLimiter;

  constructor(config: Pick<Config, 'homes' | 'pizza' | 'operators' | 'codec' | 'rateLimit'>) {
    this.limiter = new RateLimiter(config.rateLimit.perTokenPerMinute);
    for (const t of config.codec.endpoint.tokens)
      this.viewersByDigest.set(t.sha256, { name: t.name, digest: Buffer.from(t.sha256, 'hex') });
    const add = (p: Principal, sha256: string) =>
      this.byDigest.set(sha256, { ...p, digest: Buffer.from(sha256, 'hex') });
    for (const [homeId, home] of Object.entries(config.homes)) {
      for (const t of home.tokens) add({ homeId, role: t.role, name: t.name }, t.sha256);
    }
    for (const t of config.pizza.tokens) add({ role: t.role, name: t.name }, t.sha256);
    for (const t of config.operators) add({ role: t.role, name: t.name }, t.sha256);
  }

  /**
   * The principal of a known token, counted against its rate limit (throws 429 beyond it) before any
   * route looks at what it asks: a flooding token is slowed down whatever it asks for.
   */
  identify(token: string): Principal | undefined {
    const found = lookup(this.byDigest, token);
    if (!found) return undefined;
    this.limiter.take(`${found.homeId ?? '-'}/${found.role}/${found.name}`);
    return found.homeId === undefined
      ? { role: found.role, name: found.name }
      : { homeId: found.homeId, role: found.role, name: found.name };
  }
  /** Counts a request of a caller known by other means (an order token) against the same limit. */
  admit(key: string): void {
    this.limiter.take(key);
  }
  /** A codec-endpoint viewer (the Web UI, an operator's CLI) by token, counted like the others. */
  identifyViewer(token: string): string | undefined {
    const found = lookup(this.viewersByDigest, token);
    if (found) this.limiter.take(`codec/${found.name}`);
    return found?.name;
  }
}

function lookup<T extends { digest: Buffer }>(byDigest: Map<string, T>, token: string): T | undefined {
  const digestHex = sha256Hex(token);
  const found = byDigest.get(digestHex);
  if (!found || !timingSafeEqual(found.digest, Buffer.from(digestHex, 'hex'))) return undefined;
  return found;
}

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

/** The bearer token of a request: undefined when absent, null when malformed. */
export function bearerToken(header: string | undefined): string | undefined | null {
  if (header === undefined || header === '') return undefined;
  return BEARER.exec(header)?.[1] ?? null;
}

/**
 * Order-scoped tokens: an HMAC of the order id, so any API instance can check one without a lookup,
 * and an idempotent retry of the order gets the same token back. Also keys request digests.
 */
export class OrderTokens {
  private readonly secret: Buffer;

  constructor(secret: string | undefined) {
    this.secret = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
  }

  private mac(purpose: string, value: string): Buffer {
    return createHmac('sha256', this.secret).update(`${purpose}\n${value}`).digest();
  }

  tokenFor(orderId: string): string {
    return `ot_${this.mac('order-token', orderId).toString('base64url')}`;
  }

  verify(orderId: string, token: string): boolean {
    const expected = Buffer.from(this.tokenFor(orderId));
    const given = Buffer.from(token);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  /** Hex digest of `value` that reveals nothing of it without the secret (it may hold a phone number). */
  digest(purpose: string, value: string): string {
    return this.mac(purpose, value).toString('hex');
  }
}

/** Lets the request through only with a token of `role` for the home in the `homeId` path parameter. */
export function requireHomeRole(authority: TokenAuthority, role: HomeRole): RequestHandler {
  return (req, res, next) => {
    const token = bearerToken(req.get('authorization'));
    if (!token) {
      res.set('WWW-Authenticate', 'Bearer');
      return next(unauthorized('missing or malformed Authorization: Bearer <token>'));
    }
    const principal = authority.identify(token);
    if (!principal) {
      res.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      return next(unauthorized('unknown token'));
    }
    // An operator may do what an owner does, in any home; never what a device does.
    const asOperator = principal.role === 'operator' && role === 'owner';
    if (!asOperator && principal.homeId !== req.params.homeId)
      return next(forbidden('this token is not valid for this home'));
    if (!asOperator && principal.role !== role) return next(forbidden(`this route needs a ${role} token`));
    req.principal = principal;
    next();
  };
}
