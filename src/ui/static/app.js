// The /ui page: a session list from Temporal visibility and a session page with its state diagram,
// open timers, timeline and the actions allowed now. Plain DOM, no build step; all data as text.
const TOKEN_KEY = 'sessionflow.token';
const REFRESH_MS = 2000;
const $ = (id) => document.getElementById(id);

let token = sessionStorage.getItem(TOKEN_KEY);
let models = null;
let refreshTimer = null;
let countdownTimer = null;

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
  clearTimeout(refreshTimer);
  clearInterval(countdownTimer);
}

function every(fn) {
  stopRefresh();
  const tick = async () => {
    try {
      await fn();
    } catch (err) {
      if (err instanceof Unauthorized) return logout(err.message);
      console.error(err);
    }
    refreshTimer = setTimeout(tick, REFRESH_MS);
  };
  return tick();
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
  const { status, body } = await api(`/ui/api/sessions?${params}`);
  if (status !== 200) {
    $('list-note').textContent = body?.error?.message ?? `error ${status}`;
    return;
  }
  const rows = body.sessions.map((s) =>
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
  $('list-note').textContent = `${rows.length} session(s), refreshed ${new Date().toLocaleTimeString()}`;
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
  const { status, body } = await api(`/ui/api/sessions/${encodeURIComponent(workflowId)}`);
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
    return every(() => renderSession(decodeURIComponent(m[1])));
  }
  return every(renderList);
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
