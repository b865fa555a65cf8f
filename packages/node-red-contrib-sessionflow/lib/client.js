// The few calls the nodes make to a sessionflow API: its generic session routes, one JSON shape for
// answers and one for refusals ({ error: { code, message } }), so every registered kind works the same.
'use strict';

const TIMEOUT_MS = 10_000;

/** An answer: `{ ok, status, body }`; a refusal keeps the API's code and message. */
async function call(server, method, path, body) {
  const headers = { authorization: `Bearer ${server.token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(new URL(path, server.url.replace(/\/?$/, '/')), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    return {
      ok: false,
      status: 0,
      body: { error: { code: 'unreachable', message: String(err && err.message) } },
    };
  }
  const text = await res.text();
  let parsed;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = { error: { code: 'not-json', message: text.slice(0, 200) } };
  }
  return { ok: res.ok, status: res.status, body: parsed };
}

const seg = (s) => encodeURIComponent(String(s));

module.exports = {
  call,
  kinds: (server) => call(server, 'GET', 'sessions/kinds'),
  event: (server, kind, key, event, body) =>
    call(server, 'POST', `sessions/${seg(kind)}/${seg(key)}/events/${seg(event)}`, body ?? {}),
  request: (server, kind, key, request, body) =>
    call(server, 'POST', `sessions/${seg(kind)}/${seg(key)}/requests/${seg(request)}`, body ?? {}),
  status: (server, kind, key) => call(server, 'GET', `sessions/${seg(kind)}/${seg(key)}`),
  list: (server, kind, limit) =>
    call(
      server,
      'GET',
      `sessions?${new URLSearchParams({ ...(kind ? { kind } : {}), limit: String(limit) })}`,
    ),
};
