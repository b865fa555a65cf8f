// Finds the servers that scripts/setup.sh installed into .tools/bin. When one is missing we fall back to
// the SDK's own download, which works on machines with internet access.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const toolsBin = resolve(__dirname, '../../.tools/bin');

function existing(name: string) {
  const path = resolve(toolsBin, name);
  return existsSync(path) ? { type: 'existing-path' as const, path } : undefined;
}

export const devServerExecutable = () => existing('temporal');
export const timeSkippingServerExecutable = () => existing('temporal-test-server');
export const temporalCliPath = () => resolve(toolsBin, 'temporal');
