// What the strict payload codec hands the workflows instead of an unencrypted payload (one forged with a
// plain client by someone who reached the Temporal frontend around the API): a value no session input
// can be, which the workflows' inbound interceptor (src/workflows/refuse-unencrypted.ts) drops or
// refuses. A payload that failed to convert would instead fail the workflow task on every retry and stall
// the session until an operator reset it. Workflow-safe: no Node imports.

export const REFUSED_PAYLOAD_KEY = 'sessionflow:refused-unencrypted-payload';

/** The JSON the codec puts in place of an unencrypted payload. */
export const refusedPayloadJson = JSON.stringify({
  [REFUSED_PAYLOAD_KEY]: 'an unencrypted payload was refused by the strict codec',
});

export const isRefusedPayload = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && REFUSED_PAYLOAD_KEY in value;
