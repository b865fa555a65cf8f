// Live heap (after full GCs) the API's configuration and token index hold.
const root = require('node:path').resolve(__dirname, '../../..');
const used = () => (global.gc(), global.gc(), process.memoryUsage().heapUsed / 1048576);
process.env.SESSIONFLOW_CONFIG_FILE = process.argv[2];
const { loadConfig } = require(`${root}/dist/config/config`);
const { TokenAuthority } = require(`${root}/dist/api/auth`);
const m0 = used();
const config = loadConfig();
const m1 = used();
const authority = new TokenAuthority(config, { sessionOf: () => undefined });
const m2 = used();
console.log(`live heap: configuration ${(m1 - m0).toFixed(0)} MiB, token index ${(m2 - m1).toFixed(0)} MiB`);
global.keep = [config, authority];
