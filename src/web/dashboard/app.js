// The live dashboard: loads the servers and the supervisor from the API, then follows /events.
// Every value from the server is written with textContent, never as HTML.

const state = { servers: new Map(), health: null, streamLost: false };

// List-then-watch: a snapshot from the API may be older than events already shown. Every API snapshot
// carries the id of the newest event it reflects; events after it are kept here and re-applied on top.
// (Events carry whole values, so applying one twice is harmless.)
const RECENT_LIMIT = 1_000;
const recentEvents = [];

// A copy of parseEventId in src/shared/sse/event-id.ts (`<bootId>-<seq>`): this script is served as is,
// with no build step, so it cannot import the TypeScript original. Change both together.
function parseEventId(id) {
  const separator = id?.lastIndexOf('-') ?? -1;
  return separator < 0 ? null : { boot: id.slice(0, separator), seq: Number(id.slice(separator + 1)) };
}

function replayAfter(snapshotEventId, types) {
  const after = parseEventId(snapshotEventId);
  for (const event of recentEvents) {
    const id = parseEventId(event.id);
    if (!types.includes(event.type) || !id || !after) continue;
    if (id.boot === after.boot && id.seq > after.seq) handlers[event.type](event.payload);
  }
}

const $ = (id) => document.getElementById(id);

function element(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node[key] = value;
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

function formatTime(iso) {
  return iso ? new Date(iso).toLocaleTimeString() : '';
}

function showError(message) {
  const banner = $('banner-error');
  banner.textContent = message;
  banner.hidden = !message;
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const payload = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new Error(payload?.error?.message ?? `${method} ${path} answered ${response.status}`);
  return payload;
}

/** Runs an operator action, shows its failure in the error banner, and reloads what it changed. */
async function act(action) {
  try {
    showError('');
    await action();
  } catch (error) {
    showError(error.message);
  }
  await loadServers();
}

async function loadServers() {
  const { servers, eventId } = await api('GET', '/api/servers');
  state.servers = new Map(servers.map((server) => [server.id, server]));
  replayAfter(eventId, ['server-status', 'channel', 'channel-removed', 'server-removed']);
  render();
}

async function loadHealth() {
  const { state: supervisorState, lastReport, eventId } = await api('GET', '/api/health-check');
  state.health = { state: supervisorState, checkedAt: lastReport?.checkedAt ?? null };
  replayAfter(eventId, ['health']);
  renderHealth();
}

async function reloadAll() {
  try {
    await Promise.all([loadServers(), loadHealth()]);
  } catch (error) {
    showError(`Could not load the dashboard: ${error.message}`);
  }
}

function renderHealth() {
  const badge = $('supervisor-state');
  const current = state.health?.state ?? 'unknown';
  badge.textContent = current;
  badge.className = `badge ${current}`;
  $('supervisor-checked').textContent = state.health?.checkedAt
    ? `last check ${formatTime(state.health.checkedAt)}`
    : 'no check yet';
  $('banner-degraded').hidden = current !== 'degraded';
}

function renderChannel(server, channel) {
  return element(
    'li',
    {
      className: `channel ${channel.joined ? 'joined' : ''}`,
      dataset: {
        testid: 'channel',
        channel: channel.name,
        joined: String(channel.joined),
        wanted: String(channel.wanted !== false),
      },
    },
    `${channel.name} `,
    element(
      'span',
      { className: 'muted', dataset: { testid: 'user-count' } },
      `${channel.userCount} ${channel.userCount === 1 ? 'user' : 'users'}`,
    ),
    channel.wanted === false
      ? element('span', { className: 'muted' }, ' (parting)')
      : channel.joined
        ? null
        : element('span', { className: 'muted' }, ' (not joined)'),
    // never disabled: a part while the IRC service is down is kept and passed on when it is back
    element(
      'button',
      {
        type: 'button',
        className: 'part',
        title: 'Part, and stay out',
        dataset: { testid: 'part' },
        onclick: () =>
          act(() => api('DELETE', `/api/servers/${server.id}/channels/${encodeURIComponent(channel.name)}`)),
      },
      'Part',
    ),
  );
}

function renderServer(server) {
  const status = server.connected
    ? element('span', { className: 'badge connected', dataset: { testid: 'server-state' } }, 'connected')
    : element('span', { className: 'badge disconnected', dataset: { testid: 'server-state' } }, 'disconnected');
  // autoconnect is what the operator wants; connected is what the IRC service reports
  // a failed connection (banned, password refused, no acceptable nickname) waits for the operator's Connect
  const since = server.connected
    ? element('span', { className: 'muted' }, `since ${formatTime(server.connectedAt)}`)
    : server.failure
      ? element(
          'span',
          { className: 'failure', dataset: { testid: 'failure' } },
          `failed ${formatTime(server.failure.at)}: ${server.failure.message} (Connect tries again)`,
        )
      : server.autoconnect
        ? element('span', { className: 'muted' }, 'wanted: waiting for the connection')
        : null;
  // a wish the IRC service could not be told yet: it is kept, and passed on when the IRC service is back
  const pendingWish =
    server.autoconnect && !server.connected
      ? 'will connect'
      : !server.autoconnect && server.connected
        ? 'will disconnect'
        : 'will pass the change on';
  const pending = server.pending
    ? element(
        'span',
        { className: 'muted pending', dataset: { testid: 'pending' } },
        `${pendingWish} when the IRC service is back: ${server.pending.reason}`,
      )
    : null;
  const joinInput = element('input', { name: 'channel', placeholder: '#channel', required: true, maxLength: 50 });
  return element(
    'li',
    { className: 'server', dataset: { testid: 'server', serverId: String(server.id), name: server.name } },
    element(
      'div',
      { className: 'server-head' },
      element('span', { className: 'server-name' }, server.name),
      element(
        'span',
        { className: 'muted' },
        `${server.host}:${server.port}${server.tls ? ' (TLS)' : ''} as ${server.nickname}`,
      ),
      status,
      since,
      pending,
      element(
        'span',
        { className: 'server-actions' },
        element(
          'button',
          {
            type: 'button',
            // only when there is nothing to do; never because the IRC service is down (the wish is kept)
            disabled: server.connected && server.autoconnect,
            title: server.connected && server.autoconnect ? 'Already connected' : 'Connect, and keep it connected',
            dataset: { testid: 'connect' },
            onclick: () => act(() => api('POST', `/api/servers/${server.id}/connect`)),
          },
          'Connect',
        ),
        element(
          'button',
          {
            type: 'button',
            disabled: !server.connected && !server.autoconnect,
            title: 'Disconnect, and keep it disconnected',
            dataset: { testid: 'disconnect' },
            onclick: () => act(() => api('POST', `/api/servers/${server.id}/disconnect`)),
          },
          'Disconnect',
        ),
        element(
          'button',
          {
            type: 'button',
            dataset: { testid: 'delete' },
            onclick: () => confirm(`Delete ${server.name}?`) && act(() => api('DELETE', `/api/servers/${server.id}`)),
          },
          'Delete',
        ),
      ),
    ),
    element('ul', { className: 'channels' }, ...server.channels.map((channel) => renderChannel(server, channel))),
    element(
      'form',
      {
        className: 'join-form',
        dataset: { testid: 'join-form' },
        onsubmit: (event) => {
          event.preventDefault();
          act(() => api('POST', `/api/servers/${server.id}/channels`, { name: joinInput.value.trim() }));
        },
      },
      joinInput,
      element('button', { type: 'submit' }, 'Join'),
    ),
  );
}

function render() {
  const list = $('servers');
  list.replaceChildren(...[...state.servers.values()].map(renderServer));
  $('no-servers').hidden = state.servers.size > 0;
}

// Each handler updates the state from one event; render() and renderHealth() show it.
const handlers = {
  'server-status'({ serverId, connected, connectedAt, pending, failure }) {
    const server = state.servers.get(serverId);
    if (!server) return void loadServers(); // a server this page has not seen yet
    Object.assign(server, { connected, connectedAt });
    if (pending !== undefined) server.pending = pending;
    if (failure !== undefined) server.failure = failure;
    // the disconnect transition: channels not joined, their users gone
    if (!connected) for (const channel of server.channels) Object.assign(channel, { joined: false, userCount: 0 });
  },
  channel(channel) {
    const server = state.servers.get(channel.serverId);
    if (!server) return void loadServers();
    const index = server.channels.findIndex((existing) => existing.id === channel.channelId);
    // events that only tell what was observed carry no wish: the one shown stays
    const wanted = channel.wanted ?? server.channels[index]?.wanted ?? true;
    const view = {
      id: channel.channelId,
      name: channel.name,
      wanted,
      joined: channel.joined,
      userCount: channel.userCount,
    };
    if (index === -1) server.channels.push(view);
    else server.channels[index] = view;
  },
  'channel-removed'({ serverId, channelId }) {
    const server = state.servers.get(serverId);
    if (server) server.channels = server.channels.filter((channel) => channel.id !== channelId);
  },
  'server-removed'({ serverId }) {
    state.servers.delete(serverId);
  },
  health(health) {
    state.health = health;
  },
};

function setStreamLost(lost) {
  state.streamLost = lost;
  $('banner-stream').hidden = !lost;
  document.body.dataset.stream = lost ? 'lost' : 'live';
}

function follow() {
  const events = new EventSource('/events');
  for (const type of Object.keys(handlers)) {
    events.addEventListener(type, (message) => {
      const payload = JSON.parse(message.data);
      recentEvents.push({ id: message.lastEventId, type, payload });
      if (recentEvents.length > RECENT_LIMIT) recentEvents.shift();
      handlers[type](payload);
      if (type === 'health') renderHealth();
      else render();
    });
  }
  // the server could not replay what this page missed: start again from the API
  events.addEventListener('reset', () => {
    recentEvents.length = 0;
    void reloadAll();
  });
  events.addEventListener('open', () => {
    // after a drop, catch up on what may have been missed while the stream was down
    if (state.streamLost) void reloadAll();
    setStreamLost(false);
  });
  events.addEventListener('error', () => setStreamLost(true));
}

$('add-server').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  act(async () => {
    await api('POST', '/api/servers', {
      name: form.get('name'),
      host: form.get('host'),
      port: Number(form.get('port')),
      nickname: form.get('nickname'),
      tls: form.get('tls') === 'on',
    });
    event.target.reset();
  });
});

$('check-now').addEventListener('click', () =>
  act(async () => {
    await api('POST', '/api/health-check');
    await loadHealth();
  }),
);

// watch first, then list: events that arrive while the snapshot loads are re-applied on top of it
setStreamLost(false);
follow();
await reloadAll();
