// The built entrypoints refuse bad configuration with one clear line and exit code 1, before touching Temporal.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { testHome } from '../support/test-config';

const dist = resolve(__dirname, '../../dist');

test.each(['worker/main.js', 'api/main.js'])(
  'When %s starts with an invalid config, then it names the problem and exits 1',
  (entry) => {
    const main = join(dist, entry);
    if (!existsSync(main)) throw new Error(`${main} is missing: run 'npm run build' first (npm test does)`);
    const file = join(mkdtempSync(join(tmpdir(), 'sf-entry-')), 'config.json');
    writeFileSync(file, JSON.stringify({ homes: { h: testHome('h', { siren: { pin: 99 } }) } }));
    const run = spawnSync(process.execPath, [main], {
      env: { ...process.env, SESSIONFLOW_CONFIG_FILE: file, TEMPORAL_ADDRESS: '127.0.0.1:1' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^(worker|api): invalid configuration/);
    expect(run.stderr).toContain('homes.h.siren.pin');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  },
);
