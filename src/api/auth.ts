// Bearer tokens per home and role, from configuration. Only sha256 digests are kept; the presented token
// is hashed and compared in constant time. The request then carries the token's *name*, never the token.
import { timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { sha256Hex, type Config } from '../config/config';
import { forbidden, unauthorized } from './errors';
import { RateLimiter } from './rate-limit';

export type Role = 'device' | 'owner';

export interface Principal {
  homeId: string;
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

  constructor(config: Pick<Config, 'homes' | 'codec' | 'rateLimit'>) {
    this.limiter = new RateLimiter(config.rateLimit.perTokenPerMinute);
    for (const t of config.codec.endpoint.tokens)
      this.viewersByDigest.set(t.sha256, { name: t.name, digest: Buffer.from(t.sha256, 'hex') });
    for (const [homeId, home] of Object.entries(config.homes)) {
      for (const t of home.tokens) {
        this.byDigest.set(t.sha256, {
          homeId,
          role: t.role,
          name: t.name,
          digest: Buffer.from(t.sha256, 'hex'),
        });
      }
    }
  }

  identify(token: string): Principal | undefined {
    const found = lookup(this.byDigest, token);
    return found && { homeId: found.homeId, role: found.role, name: found.name };
  }

  /** A codec-endpoint viewer (the Web UI, an operator's CLI) by token; its name, or undefined. */
  identifyViewer(token: string): string | undefined {
    return lookup(this.viewersByDigest, token)?.name;
  }

  /** Counts one request against the token's rate limit; throws 429 beyond it. */
  admit(key: string): void {
    this.limiter.take(key);
  }
}

function lookup<T extends { digest: Buffer }>(byDigest: Map<string, T>, token: string): T | undefined {
  const digestHex = sha256Hex(token);
  const found = byDigest.get(digestHex);
  if (!found || !timingSafeEqual(found.digest, Buffer.from(digestHex, 'hex'))) return undefined;
  return found;
}

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

/** The bearer token of a request, or a 401 to pass on (with the WWW-Authenticate header set). */
export function bearerToken(req: Request): string | Error {
  const match = BEARER.exec(req.get('authorization') ?? '');
  if (match) return match[1];
  req.res?.set('WWW-Authenticate', 'Bearer');
  return unauthorized('missing or malformed Authorization: Bearer <token>');
}

export function unknownToken(req: Request): Error {
  req.res?.set('WWW-Authenticate', 'Bearer error="invalid_token"');
  return unauthorized('unknown token');
}

/** Lets the request through only with a token of `role` for the home in the `homeId` path parameter. */
export function requireHomeRole(authority: TokenAuthority, role: Role): RequestHandler {
  return (req, _res, next) => {
    const token = bearerToken(req);
    if (token instanceof Error) return next(token);
    const principal = authority.identify(token);
    if (!principal) return next(unknownToken(req));
    // Before anything else is looked at: a flooding token is slowed down whatever it asks for.
    authority.admit(`${principal.homeId}/${principal.name}`);
    if (principal.homeId !== req.params.homeId)
      return next(forbidden('this token is not valid for this home'));
    if (principal.role !== role) return next(forbidden(`this route needs a ${role} token`));
    req.principal = principal;
    next();
  };
}
