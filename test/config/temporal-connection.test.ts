// Same code against a dev server, a self-hosted cluster with mTLS, or Temporal Cloud: only settings change.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/config';
import { temporalConnectionSettings } from '../../src/config/temporal-connection';

describe('Temporal connection settings', () => {
  test('When nothing asks for TLS, then the connection is plain', () => {
    expect(temporalConnectionSettings(parseConfig({}))).toEqual({ address: '127.0.0.1:7233' });
  });

  test('When an API key is set (Temporal Cloud), then TLS is on and the key is passed', () => {
    const s = temporalConnectionSettings(
      parseConfig({ temporal: { address: 'ns.acct.tmprl.cloud:7233', apiKey: 'key-123' } }),
    );
    expect(s).toEqual({ address: 'ns.acct.tmprl.cloud:7233', tls: true, apiKey: 'key-123' });
  });

  test('When client certificates are configured (mTLS), then they are read from their files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf-tls-'));
    for (const [name, body] of Object.entries({
      'ca.pem': 'CA',
      'client.pem': 'CERT',
      'client.key': 'KEY',
    })) {
      writeFileSync(join(dir, name), body);
    }
    const s = temporalConnectionSettings(
      parseConfig({
        temporal: {
          tls: {
            enabled: true,
            serverName: 'temporal.internal',
            caPath: join(dir, 'ca.pem'),
            certPath: join(dir, 'client.pem'),
            keyPath: join(dir, 'client.key'),
          },
        },
      }),
    );
    expect(s.tls).toMatchObject({ serverNameOverride: 'temporal.internal' });
    const tls = s.tls as { serverRootCACertificate: Buffer; clientCertPair: { crt: Buffer; key: Buffer } };
    expect(tls.serverRootCACertificate.toString()).toBe('CA');
    expect(tls.clientCertPair.crt.toString()).toBe('CERT');
    expect(tls.clientCertPair.key.toString()).toBe('KEY');
  });
});
