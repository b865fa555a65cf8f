// No Docker engine runs here: these checks read docker-compose.yml and the Dockerfile statically
// and hold them to the code they deploy (config env vars, search attributes, entrypoints) and to the
// production shape `npm run stack:prod` runs and `npm run test:prod` tests (processes, environment keys,
// Temporal server config).
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import {
  configEnvVars,
  kindEnvVars,
  loadConfig,
  parseConfig,
  requireCodecKeys,
} from '../../src/config/config';
import { searchAttributeKeys } from '../../src/config/kinds';
import {
  appProcessSpecs,
  entrypoints,
  nodeFlags,
  PROD_GATEWAY_ID,
  prodConfigTemplate,
  prodTopology,
  type AppRole,
} from '../../src/dev/prod-topology';
import {
  defaultServerPorts,
  namespaceRetentionHours,
  serverConfigEnvName,
  temporalDatabases,
  temporalServerArgs,
  temporalServerEnv,
} from '../../src/dev/temporal-server';

const root = resolve(__dirname, '../..');
const read = (path: string) => readFileSync(resolve(root, path), 'utf8');

// merge: the `<<: *anchor` keys compose resolves (YAML 1.1 merge keys).
const compose: any = parse(read('docker-compose.yml'), { merge: true });
const services: Record<string, any> = compose.services;
const appServices = Object.values(prodTopology).flat();
const servicesOf = (role: AppRole): readonly string[] => prodTopology[role];
/** The launcher's processes, with placeholder values: only names and keys are compared. */
const launcherSpecs = appProcessSpecs({
  temporalAddress: 'x',
  namespace: 'x',
  taskQueue: 'x',
  configFile: 'x',
  codecKeys: 'x',
  tokenSecret: 'x',
  apiHost: 'x',
  apiPorts: servicesOf('api').map((_, i) => 3000 + i),
  gatewayHttpHost: 'x',
  gatewayHttpPort: 1,
  notifyChannel: 'log',
  notifyWebhookUrl: 'x',
  channels: {},
  sentLog: 'x',
  readModel: 'y',
  logLevel: 'x',
});
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

/**
 * Compose's interpolation: `${VAR}`, `${VAR:-default}` and `${VAR:?message}` (refuses to start when VAR is
 * unset or empty, printing the message), with `shell` as the environment compose runs in.
 */
function interpolate(value: string, shell: Record<string, string> = {}): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_m, name: string, op?: string, arg?: string) => {
    const set = shell[name] ? shell[name] : undefined;
    if (op === '?' && set === undefined)
      throw new Error(`required variable ${name} is missing a value: ${arg}`);
    return set ?? (op === '-' ? (arg ?? '') : '');
  });
}

/** Every service's environment as compose renders it in `shell`. */
const renderedEnv = (name: string, shell: Record<string, string>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(envOf(name))
      .filter((e): e is [string, string] => e[1] !== null)
      .map(([key, value]) => [key, interpolate(value, shell)]),
  );

/** What an operator must set: compose refuses to start without these (`${VAR:?…}`). */
const requiredShell = {
  POSTGRES_PASSWORD: 'a-postgres-password',
  SESSIONFLOW_CODEC_KEYS: `compose-key-1:${Buffer.alloc(32, 3).toString('base64')}`,
  SESSIONFLOW_TOKEN_SECRET: 'compose-token-secret-0123456789abcdef',
};

/** The secrets compose requires (`${VAR:?message}`): it refuses to start while one is unset or empty. */
const requiredInCompose = [
  ...new Set([...read('docker-compose.yml').matchAll(/\$\{(\w+):\?[^}]*\}/g)].map(([, k]) => k)),
];

/** Assignments in .env.example: active lines (`NAME=value`) and commented-out optional ones. */
const envExample = read('.env.example');
const envExampleActive = [...envExample.matchAll(/^(\w+)=(.*)$/gm)].map(([, k, v]) => ({ k, v }));

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
        ...appServices,
      ]),
    );
  });

  test('When ports are published, then only the APIs are, each on its API_PORT: Temporal, its Web UI and the gateway stay on the compose network', () => {
    for (const name of Object.keys(services).filter((n) => !servicesOf('api').includes(n)))
      expect({ service: name, ports: portsOf(name) }).toEqual({ service: name, ports: [] });
    for (const api of servicesOf('api')) {
      const apiPort = Number(envOf(api).API_PORT);
      expect(portsOf(api)).toEqual([{ published: apiPort, target: apiPort }]);
      // On loopback (the config default) the published port would lead nowhere.
      expect(envOf(api).API_HOST).toBe('0.0.0.0');
    }
  });

  test('When anything talks to the Temporal frontend, then it presents the client certificate of the CA the server requires (mTLS)', () => {
    const server = envOf('temporal');
    expect(server.TEMPORAL_TLS_SERVER_CERT).toBeTruthy();
    const certsMount = (name: string) =>
      (services[name].volumes as string[])
        .map((v) => v.split(':'))
        .find(([host]) => host === './deploy/certs');
    expect(certsMount('temporal')?.[1]).toBe('/certs');
    const clients = [...appServices, setupService, 'temporal-ui'];
    for (const name of clients) {
      const env = envOf(name);
      expect({ name, address: env.TEMPORAL_ADDRESS }).toEqual({ name, address: 'temporal:7233' });
      expect({ name, ca: env.TEMPORAL_TLS_CA }).toEqual({ name, ca: server.TEMPORAL_TLS_CA });
      expect(env.TEMPORAL_TLS_CERT).toBe('/certs/client.pem');
      expect(env.TEMPORAL_TLS_KEY).toBe('/certs/client-key.pem');
      expect(env.TEMPORAL_TLS_SERVER_NAME).toBe(server.TEMPORAL_TLS_SERVER_NAME);
      expect(certsMount(name)?.[1]).toBe('/certs');
    }
    // The app services read these through the config: TLS on, the client pair, the server's name.
    const config = loadConfig({ ...renderedEnv('worker-1', requiredShell), SESSIONFLOW_CONFIG_FILE: '' });
    expect(config.temporal.tls).toMatchObject({
      enabled: true,
      caPath: '/certs/ca.pem',
      certPath: '/certs/client.pem',
      keyPath: '/certs/client-key.pem',
      serverName: 'temporal',
    });
    // The certificates are made per deployment, never committed.
    expect(read('.gitignore')).toMatch(/^\/?deploy\/certs\/?$/m);
  });

  test('When workers, apis and the gateway get environment variables, then each is one the config reads (or LOG_LEVEL)', () => {
    // LOG_LEVEL is the one variable outside the config: the logger reads it directly.
    expect(read('src/config/logger.ts')).toContain('process.env.LOG_LEVEL');
    const allowed = new Set([...Object.keys(configEnvVars), ...Object.keys(kindEnvVars()), 'LOG_LEVEL']);
    for (const name of appServices) {
      const unknown = Object.keys(envOf(name)).filter((key) => !allowed.has(key));
      expect({ service: name, unknown }).toEqual({ service: name, unknown: [] });
    }
  });

  test('When the app services connect to Temporal, then all use the temporal service, one namespace, one task queue and one codec key set', () => {
    const envs = appServices.map(envOf);
    expect(services.temporal).toBeDefined();
    expect(Number(envOf('temporal').TEMPORAL_FRONTEND_PORT)).toBe(7233);
    expect(envs[0].TEMPORAL_TASK_QUEUE).toBeTruthy();
    for (const env of envs) {
      expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
      expect(env.TEMPORAL_TASK_QUEUE).toBe(envs[0].TEMPORAL_TASK_QUEUE);
      expect(env.TEMPORAL_NAMESPACE).toBe(envs[0].TEMPORAL_NAMESPACE);
      expect(env.SESSIONFLOW_CODEC_KEYS).toBe(envs[0].SESSIONFLOW_CODEC_KEYS);
    }
    // An order link signed by one api must open on the other.
    const secrets = servicesOf('api').map((api) => envOf(api).SESSIONFLOW_TOKEN_SECRET);
    expect(new Set(secrets).size).toBe(1);
  });

  test("When compose is set beside the launcher's topology, then it runs the same processes with the same environment keys", () => {
    for (const spec of launcherSpecs) {
      expect(services[spec.name]).toBeDefined();
      expect({ service: spec.name, keys: Object.keys(envOf(spec.name)).sort() }).toEqual({
        service: spec.name,
        keys: Object.keys(spec.env).sort(),
      });
    }
    // Nothing of ours runs in compose that the launcher does not run.
    const ours = Object.keys(services).filter((name) => services[name].build !== undefined);
    expect(ours.sort()).toEqual(launcherSpecs.map((s) => s.name).sort());
    expect(envOf('gateway').GATEWAY_ID).toBe(PROD_GATEWAY_ID);
  });

  test("When the Temporal server starts, then compose runs the launcher's server config with the same environment keys", () => {
    const mount = (services.temporal.volumes as string[])
      .map((v) => v.split(':'))
      .find(([host]) => resolve(root, host) === resolve(root, 'deploy/temporal'));
    expect(mount).toBeDefined();
    const configDir = mount![1];
    // The launcher's arguments with compose's config path: the same file, the same env name.
    const args = temporalServerArgs('/', configDir);
    expect(commandText('temporal')).toContain(`temporal-server ${args.join(' ')}`);
    expect(existsSync(resolve(root, 'deploy/temporal', `${serverConfigEnvName}.yaml`))).toBe(true);

    const launcherKeys = Object.keys(
      temporalServerEnv({
        db: { host: 'x', port: 1, user: 'x', password: 'x' },
        ports: defaultServerPorts,
        bindIp: 'x',
        broadcastAddress: 'x',
        dynamicConfigFile: 'x',
      }),
    ).sort();
    // The broadcast address is the container's own, known only when it runs: its command exports it.
    const exported = [...commandText('temporal').matchAll(/export (\w+)=/g)].map(([, k]) => k);
    expect([...Object.keys(envOf('temporal')), ...exported].sort()).toEqual(launcherKeys);
    // Every key the template reads is one the launcher sets.
    const readKeys = [...read('deploy/temporal/sessionflow.yaml').matchAll(/env "(\w+)"/g)].map(([, k]) => k);
    expect([...new Set(readKeys)].sort()).toEqual(launcherKeys);

    const env = envOf('temporal');
    expect(env.TEMPORAL_DB_HOST).toBe('postgresql');
    expect(env.TEMPORAL_DB_USER).toBe(envOf('postgresql').POSTGRES_USER);
    expect(env.TEMPORAL_DYNAMIC_CONFIG_FILE).toBe(`${configDir}/dynamicconfig.yaml`);
    expect(Number(env.TEMPORAL_FRONTEND_PORT)).toBe(defaultServerPorts.frontend);
  });

  test('When the schema is set up, then compose creates and migrates the same databases as the launcher', () => {
    const setup = commandText('temporal-admin-tools');
    for (const db of temporalDatabases) {
      expect(setup).toContain(`--db ${db.name} create-database`);
      expect(setup).toContain(`--db ${db.name} setup-schema -v 0.0`);
      expect(setup).toContain(
        `--db ${db.name} update-schema -d /etc/temporal/schema/postgresql/v12/${db.schema}/versioned`,
      );
    }
    expect(envOf('temporal-admin-tools').SQL_PLUGIN).toBe('postgres12');
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
    expect(names).toEqual(
      searchAttributeKeys()
        .map((k) => k.name)
        .sort(),
    );
    expect(searchAttributeKeys().every((k) => k.type === 'KEYWORD')).toBe(true);
    for (const c of created) {
      expect(c.type).toBe('Keyword');
      expect(c.namespace).toBe(envOf('worker-1').TEMPORAL_NAMESPACE);
    }
    // The namespace itself must exist before attributes can be added to it.
    expect(commandText(setupService)).toContain(
      `namespace create --namespace ${envOf('worker-1').TEMPORAL_NAMESPACE} --retention ${namespaceRetentionHours}h`,
    );
  });

  test("When the example config is mounted, then it is the launcher's, passes parseConfig, holds tokens only as sha256 and its homes name the gateway", () => {
    const files = appServices.map(mountedConfigFile);
    for (const file of files) expect(file).toBe(resolve(root, prodConfigTemplate));
    expect(existsSync(files[0])).toBe(true);
    const raw = JSON.parse(readFileSync(files[0], 'utf8'));
    const config = parseConfig(raw);
    expect(Object.keys(config.homes).length).toBeGreaterThan(0);
    for (const home of Object.values(config.homes)) expect(home.gateway).toBe(PROD_GATEWAY_ID);
    for (const home of Object.values<any>(raw.homes)) {
      expect(home.tokens.length).toBeGreaterThan(0);
      for (const token of home.tokens) {
        expect(token).not.toHaveProperty('token');
        expect(token.sha256).toMatch(/^[a-f0-9]{64}$/);
      }
    }
  });

  test('When secrets are needed, then compose requires each one (failing before it starts anything) and .env.example lists exactly those, empty', () => {
    expect(requiredInCompose.sort()).toEqual(Object.keys(requiredShell).sort());
    expect(envExampleActive.map((e) => e.k).sort()).toEqual(requiredInCompose.sort());
    for (const { k, v } of envExampleActive) expect({ k, v }).toEqual({ k, v: '' });
    // No secret has a fallback value compose would use silently.
    for (const secret of requiredInCompose) {
      expect(read('docker-compose.yml')).not.toMatch(new RegExp(`\\$\\{${secret}:?-`));
    }
    // The channel secrets, needed only with their channel, are named there too (commented out).
    for (const secret of ['TWILIO_AUTH_TOKEN', 'SMTP_PASS'])
      expect(envExample).toMatch(new RegExp(`^# ${secret}=$`, 'm'));
  });

  test('When the app services load their compose environment with its defaults and the required secrets, then loadConfig accepts it', () => {
    for (const name of appServices) {
      const env: Record<string, string> = {
        ...renderedEnv(name, requiredShell),
        SESSIONFLOW_CONFIG_FILE: mountedConfigFile(name),
      };
      const config = loadConfig(env);
      expect(config.temporal.address).toBe(env.TEMPORAL_ADDRESS);
      expect(config.temporal.taskQueue).toBe(env.TEMPORAL_TASK_QUEUE);
      expect(() => requireCodecKeys(config)).not.toThrow();
    }
  });

  test('When a secret the processes need is not set, then compose refuses to start and names it, instead of a restart loop', () => {
    for (const missing of Object.keys(requiredShell)) {
      const shell: Record<string, string> = { ...requiredShell, [missing]: '' };
      const needing = Object.keys(services).filter((name) => envOf(name)[missing] !== undefined);
      expect(needing.length).toBeGreaterThan(0);
      for (const name of needing) expect(() => renderedEnv(name, shell)).toThrow(`${missing} is missing`);
    }
    // Every app service needs the codec key: each refuses to run without one (requireCodecKeys).
    for (const name of appServices)
      expect(envOf(name).SESSIONFLOW_CODEC_KEYS).toMatch(/^\$\{SESSIONFLOW_CODEC_KEYS:\?.+\}$/);
  });

  test('When the image starts, then the workers run its default command and the apis and the gateway their entrypoints with the launcher’s node flags (the heap cap), all from existing sources', () => {
    const cmds = [...read('Dockerfile').matchAll(/^CMD\s+(\[.*\])\s*$/gm)];
    const cmd: string[] = JSON.parse(cmds[cmds.length - 1][1]);
    expect(cmd).toEqual(['node', ...nodeFlags.worker, entrypoints.worker]);
    for (const worker of servicesOf('worker')) expect(services[worker].command).toBeUndefined();
    for (const role of ['api', 'gateway'] as const) {
      for (const name of servicesOf(role)) {
        const command = services[name].command;
        expect(Array.isArray(command) ? command : String(command).split(/\s+/)).toEqual([
          'node',
          ...nodeFlags[role],
          entrypoints[role],
        ]);
      }
    }
    for (const service of appServices) expect(services[service].build).toBe('.');

    // dist/ mirrors src/ only because the build config says so.
    const build = JSON.parse(read('tsconfig.build.json'));
    expect(build.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
    for (const entry of Object.values(entrypoints)) {
      const source = entry.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts');
      expect(existsSync(resolve(root, source))).toBe(true);
    }
  });
});
