// Splits a V8 .cpuprofile (node --cpu-prof) into named shares of its thread's busy time. Each sample goes
// to the first rule, in order, that its stack matches; `idle` is left out of the total.
// Usage: node summarize-profile.js <file.cpuprofile> workflow-thread|worker-main|api
'use strict';
const { readFileSync } = require('node:fs');

const has = (re) => (stack) => stack.some((f) => re.test(f));
const leaf = (re) => (stack) => re.test(stack[0]);
const rules = {
  'workflow-thread': [
    ['GC', leaf(/^\(garbage collector\)/)],
    ['SDK: per-promise stack traces (its promise hook)', has(/^initAll node:internal\/promise_hooks/)],
    ['SDK: entering the sandbox (vm runInContext with its watchdog)', leaf(/^runInContext $/)],
    ['SDK: calling into the workflow scope', leaf(/^__TEMPORAL_CALL_INTO_SCOPE/)],
    ['workflow bundle JS (our workflows and the SDK workflow runtime)', has(/workflow-bundle/)],
    ['SDK: thread messaging', has(/workflow-worker-thread|^postMessage/)],
  ],
  'worker-main': [
    ['GC', leaf(/^\(garbage collector\)/)],
    ['logging (pino)', has(/pino|sonic-boom/)],
    ['HTTP API (express, helmet, body parsing)', has(/express|helmet|router\/|body-parser|node:_http/)],
    ['payload codec (AES-GCM)', has(/aes-gcm-codec/)],
    ['read model', has(/src\/read-model/)],
    ['SDK: workflow thread messaging', has(/threaded-vm|node:internal\/worker/)],
    ['SDK: native core bridge', has(/core-bridge/)],
    ['SDK: worker (JS)', has(/@temporalio\/worker/)],
    ['board, gateway, load generator', has(/johnny-five|src\/gateway|src\/hardware|dist-bench\/bench/)],
  ],
  api: [
    ['GC', leaf(/^\(garbage collector\)/)],
    ['logging (pino)', has(/pino|sonic-boom/)],
    ['payload codec (AES-GCM)', has(/aes-gcm-codec/)],
    ['gRPC client (grpc-js, http2)', has(/grpc-js|node:internal\/http2/)],
    ['Temporal client (JS)', has(/@temporalio\/(client|common)/)],
    ['read model', has(/src\/read-model/)],
    ['validation (zod)', has(/zod/)],
    [
      'HTTP (express, helmet, body parsing, responses)',
      has(/express|helmet|router\/|body-parser|node:_http|node:net/),
    ],
  ],
};

const [file, kind] = process.argv.slice(2);
if (!file || !rules[kind])
  throw new Error('usage: summarize-profile.js <file.cpuprofile> ' + Object.keys(rules).join('|'));
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parentOf = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
const label = (n) => `${n.callFrame.functionName} ${n.callFrame.url}`;
const timeOf = new Map();
profile.samples.forEach((id, i) => timeOf.set(id, (timeOf.get(id) ?? 0) + profile.timeDeltas[i]));

const shares = new Map();
let busy = 0;
for (const [id, us] of timeOf) {
  const stack = [];
  for (let x = id; x !== undefined; x = parentOf.get(x)) stack.push(label(byId.get(x)));
  if (/^\(idle\)/.test(stack[0])) continue;
  busy += us;
  const name = rules[kind].find(([, match]) => match(stack))?.[0] ?? 'other';
  shares.set(name, (shares.get(name) ?? 0) + us);
}
console.log(`${file.split('/').pop()} (${kind}): busy ${(busy / 1e6).toFixed(2)} s`);
for (const [name, us] of [...shares].sort((a, b) => b[1] - a[1]))
  console.log(
    `${(us / 1e6).toFixed(2).padStart(7)} s ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${name}`,
  );
