// `count` status GETs over 20 keep-alive connections, each home's owner token, homes in a stride.
const http = require('node:http');
const config = require(process.argv[2]);
const count = Number(process.argv[3]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
const ids = Object.keys(config.homes);
const get = (i) =>
  new Promise((done) => {
    const id = ids[(i * 7919) % ids.length];
    const headers = { authorization: `Bearer ${config.homes[id].tokens[0].token}` };
    const req = http.request(
      { host: '127.0.0.1', port: 22440, path: `/homes/${id}/alarm`, agent, headers },
      (res) => {
        res.resume();
        res.on('end', done);
      },
    );
    req.on('error', done);
    req.end();
  });
let next = 0;
Promise.all(
  Array.from({ length: 20 }, async () => {
    while (next < count) await get(next++);
  }),
).then(() => process.exit(0));
