// The session kind registry: the only place a kind is registered. Each name is a kind's own files,
// named after it: src/shared/<name>.ts (declaration), src/workflows/<name>.ts, src/activities/<name>.ts
// and, for friendly routes beside the generic ones, src/api/routes/<name>.ts.
// One kind a line, so registering one is a one-line change.
// prettier-ignore
export const registeredKinds = [
  'smoke-alarm',
  'pizza-order',
  'door-left-open',
] as const;
