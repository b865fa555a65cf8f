// What a call into a vm context costs with and without a `timeout` (the SDK sets one on every call into
// the workflow sandbox: isolateExecutionTimeout). Alternating, 5,000 calls each; prints µs per call.
const vm = require('node:vm');
const context = vm.createContext({}, { microtaskMode: 'afterEvaluate' });
const script = new vm.Script('1 + 1');
for (const timeout of [undefined, 5000, undefined, 5000, undefined, 5000]) {
  const n = 5000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) script.runInContext(context, timeout ? { timeout } : {});
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / n;
  console.log(`timeout ${timeout ?? 'none'}: ${us.toFixed(1)} µs per call`);
}
