// Finds the time-skipping test server that scripts/setup.sh installed into .tools/bin. When it is missing
// we fall back to the SDK's own download, which works on machines with internet access.
// (The dev server is found by src/dev/temporal-dev-server.ts, which npm start uses too.)
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export function timeSkippingServerExecutable() {
  const path = resolve(__dirname, '../../.tools/bin/temporal-test-server');
  return existsSync(path) ? { type: 'existing-path' as const, path } : undefined;
}
