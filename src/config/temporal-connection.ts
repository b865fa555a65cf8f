// Connection settings shared by the client (API) and the worker: the same code runs against
// a local dev server, a self-hosted cluster (mTLS) or Temporal Cloud (API key).
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import type { Config } from './config';

export interface TemporalConnectionSettings {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
}

export function temporalConnectionSettings({ temporal }: Config): TemporalConnectionSettings {
  const { tls, apiKey, address } = temporal;
  const wantsTls = tls.enabled || Boolean(apiKey) || Boolean(tls.certPath);
  if (!wantsTls) return { address };
  const custom: TLSConfig = {};
  if (tls.serverName) custom.serverNameOverride = tls.serverName;
  if (tls.caPath) custom.serverRootCACertificate = readFileSync(tls.caPath);
  if (tls.certPath && tls.keyPath) {
    custom.clientCertPair = { crt: readFileSync(tls.certPath), key: readFileSync(tls.keyPath) };
  }
  return { address, tls: Object.keys(custom).length > 0 ? custom : true, ...(apiKey ? { apiKey } : {}) };
}
