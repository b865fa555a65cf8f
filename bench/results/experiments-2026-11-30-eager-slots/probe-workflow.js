const { proxyLocalActivities } = require('@temporalio/workflow');
const { hold } = proxyLocalActivities({ startToCloseTimeout: '10s' });
// The first task holds its slot while its local activity runs (as a session's siren and notice do).
async function eagerProbe(ms) {
  await hold(ms);
}
module.exports = { eagerProbe };
