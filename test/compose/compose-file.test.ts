// No Docker engine runs here: these checks read docker-compose.yml and the Dockerfile statically
// and hold them to the code they deploy (config env vars, search attributes, entrypoints).
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { configEnvVars, kindEnvVars, loadConfig, parseConfig } from '../../src/config/config';
import { allSearchAttributeKeys } from '../../src/shared/search-attributes';

const root = resolve(__dirname, '../..');
const read = (path: string) => readFileSync(resolve(root, path), 'utf8');

const compose: any = parse(read('docker-compose.yml'));
const services: Record<string, any> = compose.services;
const appServices = ['worker', 'api'] as const;
const setupService = 'temporal-create-namespace-and-search-attributes';

/** Environment of a service, in either of compose's forms; `null` is a pass-through without value. */
function envOf(name: string): Record<string, string | null> {
  const env = services[name].environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry: string) => {
        const eq = entry.indexOf('=');
        return eq < 0 ? [entry, null] : [entry.slice(0, eq), entry.slice(eq + 1)];
      }),
    );
  }
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, v === null ? null : String(v as string | number | boolean)]),
  );
}

/** Published ports as numbers, from short ("[ip:]host:container[/proto]") or long syntax. */
function portsOf(name: string): { published: number; target: number }[] {
  return (services[name].ports ?? []).map((p: any) => {
    if (typeof p === 'object') return { published: Number(p.published), target: Number(p.target) };
    const parts = String(p).split('/')[0].split(':');
    return { published: Number(parts[parts.length - 2]), target: Number(parts[parts.length - 1]) };
  });
}

const commandText = (name: string): string => {
  const command = services[name].command;
  return Array.isArray(command) ? command.join(' ') : String(command ?? '');
};

/** What compose substitutes when the shell sets nothing: `${VAR:-default}` becomes `default`. */
const withDefaults = (value: string) =>
  value.replace(/\$\{\w+(?::?-([^}]*))?\}/g, (_m, d?: string) => d ?? '');

/** The host file behind the container path SESSIONFLOW_CONFIG_FILE points at. */
function mountedConfigFile(name: string): string {
  const target = envOf(name).SESSIONFLOW_CONFIG_FILE;
  const mount = (services[name].volumes ?? [])
    .map((v: string) => v.split(':'))
    .find(([, containerPath]: string[]) => containerPath === target);
  expect(mount).toBeDefined();
  return resolve(root, mount[0]);
}

describe('docker-compose.yml and Dockerfile', () => {
  test('When the compose file is read, then every service of the production shape is there', () => {
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining([
        'postgresql',
        'temporal-admin-tools',
        'temporal',
        setupService,
        'temporal-ui',
        'worker',
        'api',
      ]),
    );
  });

  test('When ports are published, then Temporal is on 7233, the UI on 8080 and the api on its API_PORT', () => {
    expect(portsOf('temporal')).toContainEqual({ published: 7233, target: 7233 });
    expect(portsOf('temporal-ui')).toContainEqual({ published: 8080, target: 8080 });
    const apiPort = Number(envOf('api').API_PORT);
    expect(portsOf('api')).toEqual([{ published: apiPort, target: apiPort }]);
    // On loopback (the config default) the published port would lead nowhere.
    expect(envOf('api').API_HOST).toBe('0.0.0.0');
  });

  test('When worker and api get environment variables, then each is one the config reads (or LOG_LEVEL)', () => {
    // LOG_LEVEL is the one variable outside the config: the logger reads it directly.
    expect(read('src/config/logger.ts')).toContain('process.env.LOG_LEVEL');
    const allowed = new Set([...Object.keys(configEnvVars), ...Object.keys(kindEnvVars()), 'LOG_LEVEL']);
    for (const name of appServices) {
      const unknown = Object.keys(envOf(name)).filter((key) => !allowed.has(key));
      expect({ service: name, unknown }).toEqual({ service: name, unknown: [] });
    }
  });

  test('When worker and api connect to Temporal, then both use the temporal service, one namespace and one task queue', () => {
    const [worker, api] = appServices.map(envOf);
    expect(services.temporal).toBeDefined();
    for (const env of [worker, api]) expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(portsOf('temporal').map((p) => p.target)).toContain(7233);
    expect(worker.TEMPORAL_TASK_QUEUE).toBeTruthy();
    expect(api.TEMPORAL_TASK_QUEUE).toBe(worker.TEMPORAL_TASK_QUEUE);
    expect(api.TEMPORAL_NAMESPACE).toBe(worker.TEMPORAL_NAMESPACE);
  });

  test("When search attributes are created, then they are exactly the project's keys, all Keyword, in the app's namespace", () => {
    const created = [...commandText(setupService).matchAll(/search-attribute create\b([^\n]*)/g)].map(
      ([, args]) => ({
        namespace: /--namespace (\S+)/.exec(args)?.[1],
        name: /--name (\S+)/.exec(args)?.[1],
        type: /--type (\S+)/.exec(args)?.[1],
      }),
    );
    const names = created.map((c) => c.name).sort();
    expect(names).toEqual(allSearchAttributeKeys.map((k) => k.name).sort());
    expect(allSearchAttributeKeys.every((k) => k.type === 'KEYWORD')).toBe(true);
    for (const c of created) {
      expect(c.type).toBe('Keyword');
      expect(c.namespace).toBe(envOf('worker').TEMPORAL_NAMESPACE);
    }
    // The namespace itself must exist before attributes can be added to it.
    expect(commandText(setupService)).toContain(
      `namespace create --namespace ${envOf('worker').TEMPORAL_NAMESPACE}`,
    );
  });

  test('When the example config is mounted, then it exists, passes parseConfig and holds tokens only as sha256', () => {
    const files = appServices.map(mountedConfigFile);
    expect(files[1]).toBe(files[0]);
    expect(existsSync(files[0])).toBe(true);
    const raw = JSON.parse(readFileSync(files[0], 'utf8'));
    const config = parseConfig(raw);
    expect(Object.keys(config.homes).length).toBeGreaterThan(0);
    for (const home of Object.values<any>(raw.homes)) {
      expect(home.tokens.length).toBeGreaterThan(0);
      for (const token of home.tokens) {
        expect(token).not.toHaveProperty('token');
        expect(token.sha256).toMatch(/^[a-f0-9]{64}$/);
      }
    }
  });

  test('When worker and api load their compose environment with its defaults, then loadConfig accepts it', () => {
    for (const name of appServices) {
      const env: Record<string, string> = {};
      for (const [key, value] of Object.entries(envOf(name))) {
        if (value !== null) env[key] = withDefaults(value);
      }
      env.SESSIONFLOW_CONFIG_FILE = mountedConfigFile(name);
      const config = loadConfig(env);
      expect(config.temporal.address).toBe(env.TEMPORAL_ADDRESS);
      expect(config.temporal.taskQueue).toBe(env.TEMPORAL_TASK_QUEUE);
    }
  });

  test('When the image starts, then the worker runs by default and the api overrides it, both from existing sources', () => {
    const cmds = [...read('Dockerfile').matchAll(/^CMD\s+(\[.*\])\s*$/gm)];
    const cmd: string[] = JSON.parse(cmds[cmds.length - 1][1]);
    expect(cmd).toEqual(['node', '--max-old-space-size=512', 'dist/worker/main.js']);
    expect(services.worker.command).toBeUndefined();
    const apiCommand = services.api.command;
    expect(Array.isArray(apiCommand) ? apiCommand : String(apiCommand).split(/\s+/)).toEqual([
      'node',
      'dist/api/main.js',
    ]);
    for (const service of appServices) expect(services[service].build).toBe('.');

    // dist/ mirrors src/ only because the build config says so.
    const build = JSON.parse(read('tsconfig.build.json'));
    expect(build.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
    for (const entry of [cmd[cmd.length - 1], 'dist/api/main.js']) {
      const source = entry.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts');
      expect(existsSync(resolve(root, source))).toBe(true);
    }
  });
});
