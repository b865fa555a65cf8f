// Bearer tokens per home and role, from configuration. Only sha256 digests are kept; the presented token
// is hashed and compared in constant time. The request then carries the token's *name*, never the token.
import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { sha256Hex, type Config } from '../config/config';
import { forbidden, unauthorized } from './errors';

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

  constructor(config: Pick<Config, 'homes'>) {
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
    const digestHex = sha256Hex(token);
    const found = this.byDigest.get(digestHex);
    if (!found || !timingSafeEqual(found.digest, Buffer.from(digestHex, 'hex'))) return undefined;
    return { homeId: found.homeId, role: found.role, name: found.name };
  }
}

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

/** Lets the request through only with a token of `role` for the home in the `homeId` path parameter. */
export function requireHomeRole(authority: TokenAuthority, role: Role): RequestHandler {
  return (req, res, next) => {
    const match = BEARER.exec(req.get('authorization') ?? '');
    if (!match) {
      res.set('WWW-Authenticate', 'Bearer');
      return next(unauthorized('missing or malformed Authorization: Bearer <token>'));
    }
    const principal = authority.identify(match[1]);
    if (!principal) {
      res.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      return next(unauthorized('unknown token'));
    }
    if (principal.homeId !== req.params.homeId)
      return next(forbidden('this token is not valid for this home'));
    if (principal.role !== role) return next(forbidden(`this route needs a ${role} token`));
    req.principal = principal;
    next();
  };
}
