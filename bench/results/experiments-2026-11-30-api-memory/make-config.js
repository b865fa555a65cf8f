// A configuration of N homes in the bench's home shape (bench/stack.ts), printed as JSON.
const { randomBytes } = require('node:crypto');
const [n, address, dir] = [Number(process.argv[2]), process.argv[3], process.argv[4]];
const homes = {};
for (let i = 0; i < n; i++) {
  const id = `memh-${i}`;
  homes[id] = {
    owner: { name: `Owner of ${id}`, phone: '+15550000001' },
    emergency: { phone: '+15550000911', address: `1 Bench Street, ${id}` },
    siren: { pin: 13, component: 'relay' },
    detectors: { kitchen: { pin: 2 } },
    tokens: [
      { name: `${id}-owner`, role: 'owner', token: `memtoken000000000.${id}.owner` },
      { name: `${id}-detector`, role: 'device', token: `memtoken000000000.${id}.device` },
    ],
  };
}
process.stdout.write(
  JSON.stringify({
    temporal: { address, taskQueue: 'api-memory', callTimeoutMs: 5000 },
    api: { host: '127.0.0.1', port: 22440 },
    notifications: { channel: 'log' },
    readModel: { path: `${dir}/read-model.db` },
    rateLimit: { perTokenPerMinute: 1e9, unauthenticatedPerMinute: 1e9 },
    codec: { keys: [{ id: 'mem', key: randomBytes(32).toString('base64') }] },
    homes,
  }),
);
