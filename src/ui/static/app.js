// The /ui page: a session list from Temporal visibility and a session page with its state diagram,
// open timers, timeline and the actions allowed now. Plain DOM, no build step; all data as text.
// Live without polling: the page follows the API's change stream (server-sent events, read with fetch so
// the token stays in a header) and redraws what a change touches; a dropped stream reconnects with the
// last event id and gets what it missed.
const TOKEN_KEY = 'sessionflow.token';
const RECONNECT_MS = 1000;
// History (the timeline) settles a moment after the state a change reports: look once more after it.
const SETTLE_MS = 700;
const $ = (id) => document.getElementById(id);

let token = sessionStorage.getItem(TOKEN_KEY);
let models = null;
let countdownTimer = null;
let following = null;
let redrawTimer = null;
let settleTimer = null;
/** Counts the views opened: a draw that finishes after its view was left draws nothing. */
let view = 0;
/** The newest change of each session run since the list was opened. */
const recent = new Map();

// A link such as /ui#token=… logs in at once; the token then leaves the address bar.
const fromLink = /^#token=([^&]+)/.exec(location.hash);
if (fromLink) {
  token = decodeURIComponent(fromLink[1]);
  sessionStorage.setItem(TOKEN_KEY, token);
  history.replaceState(null, '', `${location.pathname}#/`);
}

class Unauthorized extends Error {}

async function api(path, init = {}) {
  const headers = { authorization: `Bearer ${token}` };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    ...init,
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const body = await res.json().catch(() => null);
  if (res.status === 401) throw new Unauthorized(body?.error?.message ?? 'unauthorized');
  return { status: res.status, body };
}

function show(section) {
  for (const id of ['login', 'list', 'session']) $(id).hidden = id !== section;
}

function el(tag, { dataset = {}, ...props } = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  Object.assign(node.dataset, dataset);
  for (const c of children) node.append(c);
  return node;
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

async function ensureLoggedIn() {
  if (!token) return false;
  try {
    const me = await api('/ui/api/me');
    if (me.status !== 200) throw new Unauthorized(me.body?.error?.message ?? 'not allowed');
    $('who').textContent = `${me.body.name} (${me.body.role}${me.body.homeId ? `, ${me.body.homeId}` : ''})`;
    $('logout').hidden = false;
    renderSimulator(me.body.simulated ?? []);
    if (!models) {
      models = (await api('/ui/api/models')).body.models;
      for (const m of models) $('filter-kind').append(el('option', { value: m.kind, textContent: m.title }));
    }
    return true;
  } catch (err) {
    logout(err.message);
    return false;
  }
}

function logout(message = '') {
  token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  $('who').textContent = '';
  $('logout').hidden = true;
  $('login-error').textContent = message;
  stopRefresh();
  show('login');
}

function stopRefresh() {
  following?.abort();
  following = null;
  clearTimeout(redrawTimer);
  clearTimeout(settleTimer);
  clearInterval(countdownTimer);
}

/** One server-sent event from its text block (`id:`, `event:`, `data:` lines). */
function parseEvent(block) {
  const e = { event: 'message', data: '' };
  for (const line of block.split('\n')) {
    const at = line.indexOf(':');
    if (at <= 0) continue;
    const field = line.slice(0, at);
    const value = line.slice(at + 1).replace(/^ /, '');
    if (field === 'id') e.id = value;
    else if (field === 'event') e.event = value;
    else if (field === 'data') e.data += value;
  }
  return e;
}

/**
 * Follows the change stream until stopRefresh(): `onChange(change)` for each change, `onChange(null)`
 * after a reset (redraw everything). Resolves once the stream is first connected, so nothing that
 * happens after the first draw is missed.
 */
function follow(onChange) {
  const ctl = new AbortController();
  following = ctl;
  let lastId = null;
  let connected;
  const firstConnect = new Promise((resolve) => (connected = resolve));
  const showLive = (text) => ($('live').textContent = text);
  const run = async () => {
    while (!ctl.signal.aborted) {
      try {
        const headers = { authorization: `Bearer ${token}` };
        if (lastId) headers['last-event-id'] = lastId;
        const res = await fetch('/sessions/changes', { headers, signal: ctl.signal });
        if (res.status === 401) throw new Unauthorized('unauthorized');
        if (!res.ok || !res.body) throw new Error(`change stream: ${res.status}`);
        showLive('live');
        connected();
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const e = parseEvent(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            if (e.id) lastId = e.id;
            if (e.event === 'change') onChange(JSON.parse(e.data));
            else if (e.event === 'reset') onChange(null);
          }
        }
      } catch (err) {
        if (ctl.signal.aborted) return;
        if (err instanceof Unauthorized) return logout(err.message);
        console.warn(err);
      }
      connected();
      showLive('reconnecting…');
      await new Promise((r) => setTimeout(r, RECONNECT_MS));
    }
  };
  void run();
  return firstConnect;
}

/** Draws now, and again on every change `touches` says concerns it (a burst of changes: one redraw). */
async function live(draw, touches) {
  stopRefresh();
  view++;
  const redraw = (settle) => {
    clearTimeout(redrawTimer);
    redrawTimer = setTimeout(() => {
      guarded(draw);
      if (settle) {
        clearTimeout(settleTimer);
        settleTimer = setTimeout(() => guarded(draw), SETTLE_MS);
      }
    }, 30);
  };
  await follow((change) => {
    if (change === null || touches(change)) redraw(true);
  });
  await guarded(draw);
}

async function guarded(draw) {
  try {
    await draw();
  } catch (err) {
    if (err instanceof Unauthorized) return logout(err.message);
    console.error(err);
  }
}

function renderSimulator(homes) {
  $('simulator').hidden = homes.length === 0;
  const press = (homeId, inputId, action) => async () => {
    const path = `/ui/api/simulator/homes/${encodeURIComponent(homeId)}/inputs/${encodeURIComponent(inputId)}/${action}`;
    const { status, body } = await api(path, { method: 'POST' });
    $('simulator-result').textContent =
      status < 300
        ? `${inputId} in ${homeId}: ${action === 'press' ? 'pressed' : 'released'}`
        : `${action} failed: ${body?.error?.message ?? status}`;
  };
  $('simulator-homes').replaceChildren(
    ...homes.map((h) =>
      el(
        'p',
        { dataset: { homeId: h.homeId } },
        el('strong', { textContent: `${h.homeId}: ` }),
        ...h.inputs.flatMap((d) => [
          el('button', {
            type: 'button',
            textContent: `Activate ${d}`,
            dataset: { input: d, action: 'press' },
            onclick: press(h.homeId, d, 'press'),
          }),
          el('button', {
            type: 'button',
            textContent: `Release ${d}`,
            dataset: { input: d, action: 'release' },
            onclick: press(h.homeId, d, 'release'),
          }),
        ]),
      ),
    ),
  );
}

async function renderList() {
  show('list');
  const params = new URLSearchParams();
  if ($('filter-kind').value) params.set('kind', $('filter-kind').value);
  if ($('filter-state').value.trim()) params.set('state', $('filter-state').value.trim());
  if ($('filter-open').checked) params.set('open', 'true');
  const at = view;
  const { status, body } = await api(`/ui/api/sessions?${params}`);
  if (at !== view) return;
  if (status !== 200) {
    $('list-note').textContent = body?.error?.message ?? `error ${status}`;
    return;
  }
  // Visibility trails the change stream by a moment: the newest change of a session wins, and one that
  // visibility does not list yet is shown already.
  const listed = new Set(body.sessions.map((s) => s.runId));
  const kindFilter = $('filter-kind').value;
  const sessions = [
    ...[...recent.values()]
      .filter((c) => !listed.has(c.runId) && (!kindFilter || c.kind === kindFilter))
      .filter(() => !$('filter-state').value.trim())
      .map((c) => ({
        workflowId: c.workflowId,
        runId: c.runId,
        kind: c.kind,
        state: c.state,
        status: 'RUNNING',
      })),
    ...body.sessions.map((s) => (recent.has(s.runId) ? { ...s, state: recent.get(s.runId).state } : s)),
  ];
  const rows = sessions.map((s) =>
    el(
      'tr',
      { dataset: { workflowId: s.workflowId } },
      el(
        'td',
        {},
        el('a', { href: `#/session/${encodeURIComponent(s.workflowId)}`, textContent: s.workflowId }),
      ),
      el('td', { textContent: s.kind ?? '' }),
      el(
        'td',
        {},
        el('span', {
          className: `badge${s.status === 'RUNNING' ? ' running' : ''}`,
          textContent: s.state ?? s.status,
        }),
      ),
      el('td', { textContent: when(s.startedAt) }),
      el('td', { textContent: when(s.closedAt) }),
    ),
  );
  $('sessions').replaceChildren(...rows);
  $('list-note').textContent = `${rows.length} session(s), as of ${new Date().toLocaleTimeString()}`;
}

function markDiagram(detail) {
  const svg = $('diagram').querySelector('svg');
  if (!svg) return;
  const visited = new Set(detail.path.flatMap((t) => [t.from, t.to]));
  const taken = new Set(detail.path.map((t) => `${t.from}|${t.to}|${t.on}`));
  for (const g of svg.querySelectorAll('.state')) {
    g.classList.toggle('current', g.dataset.state === detail.state);
    g.classList.toggle('visited', visited.has(g.dataset.state) && g.dataset.state !== detail.state);
  }
  for (const g of svg.querySelectorAll('.edge[data-edge]'))
    g.classList.toggle('taken', taken.has(g.dataset.edge));
  svg.dataset.current = detail.state ?? '';
}

function renderTimers(timers) {
  const items = timers.map((t) =>
    el(
      'li',
      { dataset: { firesAt: t.firesAt } },
      `${t.label}: `,
      el('span', { className: 'countdown' }),
      ` (at ${when(t.firesAt)})`,
    ),
  );
  $('timers').replaceChildren(
    ...(items.length ? items : [el('li', { className: 'muted', textContent: 'none' })]),
  );
  const update = () => {
    for (const li of $('timers').querySelectorAll('li[data-fires-at]')) {
      const left = Math.max(0, Date.parse(li.dataset.firesAt) - Date.now());
      const m = Math.floor(left / 60000);
      const s = Math.floor((left % 60000) / 1000);
      li.querySelector('.countdown').textContent = `${m}:${String(s).padStart(2, '0')} left`;
    }
  };
  clearInterval(countdownTimer);
  update();
  countdownTimer = setInterval(update, 250);
}

function renderActions(detail) {
  const buttons = detail.actions.map((a) =>
    el('button', {
      type: 'button',
      textContent: a.label,
      dataset: { on: a.on },
      onclick: async () => {
        const { status, body } = await api(a.path, { method: a.method, body: a.body });
        $('action-result').textContent =
          status < 300
            ? `${a.label}: done (${body?.state ?? 'ok'})`
            : `${a.label}: ${body?.error?.code ?? status} — ${body?.error?.message ?? ''}`;
        await renderSession(detail.workflowId);
      },
    }),
  );
  $('actions').replaceChildren(
    ...(buttons.length ? buttons : [el('p', { className: 'muted', textContent: 'nothing to do now' })]),
  );
}

async function renderSession(workflowId) {
  const at = view;
  const { status, body } = await api(`/ui/api/sessions/${encodeURIComponent(workflowId)}`);
  if (at !== view) return;
  show('session');
  if (status !== 200) {
    $('session-title').textContent = workflowId;
    $('session-meta').textContent = body?.error?.message ?? `error ${status}`;
    return;
  }
  $('session-title').textContent = `${body.title} ${body.key}`;
  const meta = [
    `state ${body.state}`,
    `${body.workflowStatus.toLowerCase()}`,
    `opened ${when(body.startedAt)}`,
  ];
  if (body.closedAt) meta.push(`closed ${when(body.closedAt)}`);
  $('session-meta').replaceChildren(meta.join(' · '));
  if (body.temporalUrl) {
    $('session-meta').append(
      ' · ',
      el('a', {
        href: body.temporalUrl,
        target: '_blank',
        rel: 'noopener',
        textContent: 'open in Temporal Web UI',
      }),
    );
  }
  const model = models.find((m) => m.kind === body.kind);
  if ($('diagram').dataset.kind !== body.kind && model) {
    $('diagram').innerHTML = model.svg; // generated from the model by our server, escaped there
    $('diagram').dataset.kind = body.kind;
  }
  markDiagram(body);
  renderTimers(body.openTimers);
  renderActions(body);
  $('timeline').replaceChildren(
    ...body.timeline.map((t) =>
      el(
        'li',
        {},
        el('time', { dateTime: t.at, textContent: new Date(t.at).toLocaleTimeString() }),
        el('span', { className: 'kind', textContent: t.kind }),
        t.text,
      ),
    ),
  );
}

async function route() {
  if (!(await ensureLoggedIn())) return show('login');
  const m = /^#\/session\/(.+)$/.exec(location.hash);
  $('action-result').textContent = '';
  if (m) {
    $('diagram').dataset.kind = '';
    const workflowId = decodeURIComponent(m[1]);
    return live(
      () => renderSession(workflowId),
      (change) => change.workflowId === workflowId,
    );
  }
  recent.clear();
  return live(renderList, (change) => {
    recent.set(change.runId, change);
    return true;
  });
}

$('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  token = $('token').value.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
  $('token').value = '';
  void route();
});
$('logout').addEventListener('click', () => logout());
for (const id of ['filter-kind', 'filter-state', 'filter-open'])
  $(id).addEventListener('change', () => void route());
window.addEventListener('hashchange', () => void route());
void route();
