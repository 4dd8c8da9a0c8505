// The live dashboard: loads the servers, the IRC service nodes and the supervisor from the API, then follows /events.
// Every value from the server is written with textContent, never as HTML. Each server card (and each
// channel row in it) is built once, keyed by id, and then patched in place: an event changes text and
// attributes, never the form a user is typing in, so typed input and focus survive any event.

import { drawMachine, highlightMachine } from './machine-diagram.js';

const state = { servers: new Map(), nodes: new Map(), health: null, recent: [], streamLost: false };

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
    if (id.boot === after.boot && id.seq > after.seq) applyEvent(event.type, event.payload);
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

// Patches that touch the DOM only when the value changed (a rewrite would restart CSS and screen readers).
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}
function setData(node, key, value) {
  if (node.dataset[key] !== value) node.dataset[key] = value;
}
function setHidden(node, hidden) {
  if (node.hidden !== hidden) node.hidden = hidden;
}
function setClass(node, className) {
  if (node.className !== className) node.className = className;
}

function formatTime(iso) {
  return iso ? new Date(iso).toLocaleTimeString() : '';
}

function showError(message) {
  const banner = $('banner-error');
  banner.textContent = message;
  banner.hidden = !message;
}

/** A refusal of the API: its message, and the field it names (`{error: {message, field}}`). */
class ApiError extends Error {
  constructor(message, field) {
    super(message);
    this.field = field;
  }
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const payload = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(
      payload?.error?.message ?? `${method} ${path} answered ${response.status}`,
      payload?.error?.field,
    );
  }
  return payload;
}

/**
 * Runs an operator action. A refusal is shown where it belongs: beside the field it names when `form` has
 * one (`[data-field-error=…]`), else in `where` (the card's error line) or the page's banner. What was
 * typed stays. Then reloads what the action changed.
 */
async function act(action, { form, where } = {}) {
  if (form) for (const slot of form.querySelectorAll('[data-field-error]')) setText(slot, '');
  if (where) setText(where, '');
  showError('');
  let ok = true;
  try {
    await action();
  } catch (error) {
    ok = false;
    const slot = form && error.field ? form.querySelector(`[data-field-error="${CSS.escape(error.field)}"]`) : null;
    if (slot) setText(slot, error.message);
    else if (where) setText(where, error.message);
    else showError(error.message);
  }
  await loadServers().catch(() => {});
  return ok;
}

async function loadServers() {
  const { servers, eventId } = await api('GET', '/api/servers');
  state.servers = new Map(servers.map((server) => [server.id, server]));
  replayAfter(eventId, ['server-status', 'channel', 'channel-removed', 'server-removed', 'connection-state']);
  renderServers();
}

async function loadHealth() {
  const { state: supervisorState, lastReport, recent, eventId } = await api('GET', '/api/health-check');
  state.health = { state: supervisorState, checkedAt: lastReport?.checkedAt ?? null };
  state.recent = recent ?? [];
  replayAfter(eventId, ['health']);
  renderHealth();
}

/** The IRC service nodes, keyed by URL: a lone node (`IRC_SERVICE_URL`) has no name until it first answers. */
async function loadNodes() {
  const { nodes, eventId } = await api('GET', '/api/irc-nodes');
  state.nodes = new Map(nodes.map((node) => [node.url, node]));
  replayAfter(eventId, ['node-status']);
  renderNodes();
}

// `node-status` tells a change of a node's state or count, not each check: the page asks for the nodes again after
// each check that ended (a `health` event with a new `checkedAt`; one request at a time), so that their "checked"
// times stay true
let nodesLoading = false;
function refreshNodes() {
  if (nodesLoading) return;
  nodesLoading = true;
  loadNodes()
    .catch(() => {})
    .finally(() => {
      nodesLoading = false;
    });
}

async function reloadAll() {
  try {
    await Promise.all([loadServers(), loadHealth(), loadNodes()]);
  } catch (error) {
    showError(`Could not load the dashboard: ${error.message}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Words for what a connection is doing

/** A connection's state in words, from the IRC service's report when there is one, else from the rows. */
function describeConnection(server, now = Date.now()) {
  const connection = server.connection;
  if (!connection) {
    if (server.connected) return `connected since ${formatTime(server.connectedAt)}`;
    return server.autoconnect ? 'waiting for the connection' : 'not connected';
  }
  const reason = connection.lastError ? `: ${connection.lastError.message}` : '';
  const leaf = connection.state.split('.').at(-1);
  switch (leaf) {
    case 'registered': {
      const wanted =
        connection.nickname && connection.nickname !== server.nickname ? ` (wanted ${server.nickname})` : '';
      return `registered as ${connection.nickname || server.nickname}${wanted}`;
    }
    case 'connecting':
      return connection.attempt > 1 ? `connecting, attempt ${connection.attempt}${reason}` : 'connecting';
    case 'reconnecting': {
      const next = connection.nextAttemptAt
        ? `, next in ${Math.max(0, Math.ceil((Date.parse(connection.nextAttemptAt) - now) / 1000))} s`
        : '';
      return `reconnecting, attempt ${connection.attempt}${next}${reason}`;
    }
    case 'disconnecting':
      return 'disconnecting (QUIT sent)';
    case 'stopped':
      return `stopped${reason}`;
    case 'failed':
      return `failed${reason}`;
    default:
      return `${connection.state}${reason}`;
  }
}

/** What a wish waiting on the IRC service will do once it is back. */
function pendingText(server) {
  const wish =
    server.autoconnect && !server.connected
      ? 'will connect'
      : !server.autoconnect && server.connected
        ? 'will disconnect'
        : 'will pass the change on';
  return `${wish} when the IRC service is back: ${server.pending.reason}`;
}

// ---------------------------------------------------------------------------------------------------
// Server cards, keyed by server id

const cards = new Map();

const EDIT_FIELDS = [
  { name: 'name', label: 'Name', type: 'text' },
  { name: 'host', label: 'Host', type: 'text' },
  { name: 'port', label: 'Port', type: 'number' },
  { name: 'tls', label: 'TLS', type: 'checkbox' },
  { name: 'nickname', label: 'Nickname', type: 'text' },
  { name: 'username', label: 'User name', type: 'text', optional: true },
  { name: 'realname', label: 'Real name', type: 'text', optional: true },
  { name: 'password', label: 'Password', type: 'password', optional: true },
];

// TLS and SASL: the secrets (client key, SASL password) and the client certificate are write-only. The API
// never answers them, only whether one is set, so their boxes start empty and a box left empty keeps what is stored.

/** What a new server has when the add form leaves the TLS and SASL settings alone (the API's defaults). */
const SECURITY_DEFAULTS = {
  tlsVerify: true,
  tlsFingerprint: null,
  hasClientCertificate: false,
  hasClientKey: false,
  sasl: null,
  hasSaslPassword: false,
  saslRequired: true,
};

/** The TLS and SASL part of a server form; each box's error slot is named as the API names the field. */
function createSecurityFields() {
  const slot = (field) => element('span', { className: 'field-error', dataset: { fieldError: field } });
  const labelled = (label, input, className = '') =>
    input.type === 'checkbox'
      ? element('label', { className: `inline ${className}` }, input, ` ${label}`)
      : element('label', { className }, `${label} `, input);
  const tlsVerify = element('input', { name: 'tlsVerify', type: 'checkbox', defaultChecked: true });
  const tlsFingerprint = element('input', {
    name: 'tlsFingerprint',
    type: 'text',
    placeholder: 'none',
    spellcheck: false,
    title: 'SHA-256 of the one certificate accepted (64 hex digits, colons allowed)',
  });
  const pem = (name) => element('textarea', { name, rows: 2, spellcheck: false, autocomplete: 'off' });
  const clearClientCertificate = element('input', { name: 'clearClientCertificate', type: 'checkbox' });
  const mechanism = element(
    'select',
    { name: 'saslMechanism' },
    element('option', { value: '' }, 'none'),
    element('option', { value: 'PLAIN' }, 'PLAIN (account, password)'),
    element('option', { value: 'EXTERNAL' }, 'EXTERNAL (client certificate)'),
  );
  const account = element('input', { name: 'saslAccount', type: 'text', autocomplete: 'off' });
  const password = element('input', { name: 'saslPassword', type: 'password', autocomplete: 'new-password' });
  const saslRequired = element('input', { name: 'saslRequired', type: 'checkbox', defaultChecked: true });
  const plainOnly = [labelled('SASL account', account, 'sasl-plain'), slot('sasl.account')];
  const plainPassword = [labelled('SASL password', password, 'sasl-plain'), slot('sasl.password')];
  const fieldset = element(
    'fieldset',
    { className: 'security', dataset: { testid: 'security-fields' } },
    element('legend', {}, 'TLS and SASL'),
    labelled('Verify the certificate', tlsVerify),
    slot('tlsVerify'),
    labelled('Pinned certificate (SHA-256)', tlsFingerprint),
    slot('tlsFingerprint'),
    labelled('Client certificate (PEM)', pem('clientCertificate')),
    slot('clientCertificate'),
    labelled('Client key (PEM)', pem('clientKey')),
    slot('clientKey'),
    labelled('Remove the client certificate', clearClientCertificate, 'clear-client-certificate'),
    labelled('SASL', mechanism),
    slot('sasl'),
    ...plainOnly,
    ...plainPassword,
    labelled('Fail when SASL fails', saslRequired),
    slot('saslRequired'),
  );
  // the account and password matter to PLAIN only
  const showPlain = () => {
    for (const label of fieldset.querySelectorAll('.sasl-plain')) label.hidden = mechanism.value !== 'PLAIN';
  };
  mechanism.addEventListener('change', showPlain);
  fieldset.showPlain = showPlain;
  return fieldset;
}

/** Fills the TLS and SASL part of `form` from a server's view; the write-only boxes start empty. */
function fillSecurityFields(form, server) {
  const { elements } = form;
  elements.tlsVerify.checked = server.tlsVerify;
  elements.tlsFingerprint.value = server.tlsFingerprint ?? '';
  elements.clientCertificate.value = '';
  elements.clientCertificate.placeholder = server.hasClientCertificate ? 'set (unchanged)' : 'none';
  elements.clientKey.value = '';
  elements.clientKey.placeholder = server.hasClientKey ? 'set (unchanged)' : 'none';
  elements.clearClientCertificate.checked = false;
  form.querySelector('.clear-client-certificate').hidden = !server.hasClientCertificate;
  elements.saslMechanism.value = server.sasl?.mechanism ?? '';
  elements.saslAccount.value = server.sasl?.mechanism === 'PLAIN' ? server.sasl.account : '';
  elements.saslPassword.value = '';
  elements.saslPassword.placeholder = server.hasSaslPassword ? 'set (unchanged)' : 'none';
  elements.saslRequired.checked = server.saslRequired;
  form.querySelector('fieldset.security').showPlain();
}

/**
 * The TLS and SASL fields of `form` that differ from `server` (a view, or SECURITY_DEFAULTS for a new one), as
 * the API takes them. The SASL password is never shown, so changing PLAIN's account needs it typed again.
 */
function securityChanges(form, server) {
  const { elements } = form;
  const changes = {};
  if (elements.tlsVerify.checked !== server.tlsVerify) changes.tlsVerify = elements.tlsVerify.checked;
  const fingerprint = elements.tlsFingerprint.value.trim();
  const pinned = fingerprint === '' ? null : fingerprint.replaceAll(':', '').toLowerCase();
  // sent as typed: the API names the field when it is no fingerprint
  if (pinned !== server.tlsFingerprint) changes.tlsFingerprint = fingerprint === '' ? null : fingerprint;
  if (elements.clearClientCertificate.checked) {
    changes.clientCertificate = null;
    changes.clientKey = null;
  } else {
    if (elements.clientCertificate.value.trim() !== '') changes.clientCertificate = elements.clientCertificate.value;
    if (elements.clientKey.value.trim() !== '') changes.clientKey = elements.clientKey.value;
  }
  const mechanism = elements.saslMechanism.value;
  const account = elements.saslAccount.value.trim();
  const password = elements.saslPassword.value;
  if (mechanism === '' && server.sasl) changes.sasl = null;
  if (mechanism === 'EXTERNAL' && server.sasl?.mechanism !== 'EXTERNAL') changes.sasl = { mechanism };
  if (
    mechanism === 'PLAIN' &&
    (server.sasl?.mechanism !== 'PLAIN' || account !== server.sasl.account || password !== '')
  ) {
    if (password === '') {
      throw new ApiError(
        'sasl.password: type the SASL password (it is never shown, so a change needs it)',
        'sasl.password',
      );
    }
    changes.sasl = { mechanism, account, password };
  }
  if (elements.saslRequired.checked !== server.saslRequired) changes.saslRequired = elements.saslRequired.checked;
  return changes;
}

/**
 * The TLS and SASL settings in a few words, for the card (never a secret: only whether one is set); empty for a
 * plain connection without SASL, which the address line already says.
 */
function securityText(server) {
  if (!server.tls && !server.sasl) return '';
  const parts = [
    !server.tls
      ? 'no TLS'
      : server.tlsFingerprint
        ? `TLS pinned to ${server.tlsFingerprint.slice(0, 16)}…`
        : server.tlsVerify
          ? 'TLS verified'
          : 'TLS not verified',
  ];
  if (server.hasClientCertificate) parts.push('client certificate set');
  if (server.sasl?.mechanism === 'PLAIN') {
    parts.push(`SASL PLAIN as ${server.sasl.account}${server.hasSaslPassword ? ' (password set)' : ''}`);
  } else if (server.sasl?.mechanism === 'EXTERNAL') parts.push('SASL EXTERNAL');
  if (server.sasl) parts.push(server.saslRequired ? 'required' : 'optional');
  return parts.join(' · ');
}

function actionButton(label, testid, onclick, title = '') {
  return element('button', { type: 'button', title, dataset: { testid, action: testid }, onclick }, label);
}

function createCard(server) {
  const id = server.id;
  const card = { id, channels: new Map() };
  const current = () => state.servers.get(id);
  card.name = element('span', { className: 'server-name', dataset: { testid: 'server-name' } });
  card.address = element('span', { className: 'muted', dataset: { testid: 'server-address' } });
  card.node = element('span', { className: 'node-tag muted', dataset: { testid: 'server-node' }, hidden: true });
  card.security = element('p', { className: 'muted security-summary', dataset: { testid: 'security' } });
  card.badge = element('span', { dataset: { testid: 'server-state' } });
  card.connection = element('p', { className: 'connection', dataset: { testid: 'connection-state' } });
  card.wantedObserved = element('p', { className: 'muted', dataset: { testid: 'wanted-observed' } });
  card.pending = element('p', { className: 'pending', dataset: { testid: 'pending' }, hidden: true });
  card.failure = element('p', { className: 'failure', dataset: { testid: 'failure' }, hidden: true });
  card.error = element('p', { className: 'field-error', dataset: { testid: 'card-error' } });
  card.connect = actionButton('Connect', 'connect', () =>
    act(() => api('POST', `/api/servers/${id}/connect`), { where: card.error }),
  );
  card.disconnect = actionButton('Disconnect', 'disconnect', () =>
    act(() => api('POST', `/api/servers/${id}/disconnect`), { where: card.error }),
  );
  card.editButton = actionButton('Edit', 'edit', () => toggleEdit(card));
  card.editButton.dataset.action = '';
  card.machineButton = actionButton('Machine', 'machine', () => toggleMachine(card), "The connection's state machine");
  card.machineButton.dataset.action = '';
  const remove = actionButton('Delete', 'delete', () => {
    if (confirm(`Delete ${current().name}?`)) act(() => api('DELETE', `/api/servers/${id}`), { where: card.error });
  });

  card.channelList = element('ul', { className: 'channels', dataset: { testid: 'channels' } });
  card.joinInput = element('input', { name: 'channel', placeholder: '#channel', required: true, maxLength: 50 });
  card.joinForm = element(
    'form',
    {
      className: 'join-form',
      noValidate: true,
      dataset: { testid: 'join-form' },
      onsubmit: async (event) => {
        event.preventDefault();
        const joined = await act(
          () => api('POST', `/api/servers/${id}/channels`, { name: card.joinInput.value.trim() }),
          { form: card.joinForm },
        );
        if (joined) card.joinInput.value = '';
      },
    },
    card.joinInput,
    element('button', { type: 'submit', dataset: { action: 'join' } }, 'Join'),
    element('span', { className: 'field-error', dataset: { fieldError: 'name', testid: 'join-error' } }),
  );

  card.editForm = createEditForm(card);
  card.diagram = element('div', { className: 'diagram', dataset: { testid: 'machine-diagram' }, hidden: true });

  card.root = element(
    'li',
    { className: 'server', dataset: { testid: 'server', serverId: String(id) } },
    element(
      'div',
      { className: 'server-head' },
      card.name,
      card.address,
      card.node,
      card.badge,
      element(
        'span',
        { className: 'server-actions' },
        card.connect,
        card.disconnect,
        card.editButton,
        card.machineButton,
        remove,
      ),
    ),
    card.security,
    card.connection,
    card.wantedObserved,
    card.failure,
    card.pending,
    card.error,
    card.editForm,
    card.diagram,
    card.channelList,
    card.joinForm,
  );
  return card;
}

function createEditForm(card) {
  const form = element('form', {
    className: 'server-form edit-form',
    noValidate: true,
    hidden: true,
    dataset: { testid: 'edit-form' },
  });
  for (const field of EDIT_FIELDS) {
    const input = element('input', { name: field.name, type: field.type });
    if (field.name === 'password') input.autocomplete = 'new-password';
    const label = element(
      'label',
      { className: field.type === 'checkbox' ? 'inline' : '' },
      field.type === 'checkbox' ? input : `${field.label} `,
      field.type === 'checkbox' ? ` ${field.label}` : input,
    );
    form.append(label, element('span', { className: 'field-error', dataset: { fieldError: field.name } }));
  }
  const clearPassword = element('input', { name: 'clearPassword', type: 'checkbox' });
  form.append(
    element('label', { className: 'inline clear-password' }, clearPassword, ' Remove the password'),
    createSecurityFields(),
    element('span', { className: 'field-error', dataset: { fieldError: 'body' } }),
    element(
      'span',
      { className: 'form-actions' },
      element('button', { type: 'submit', dataset: { action: 'save', testid: 'save' } }, 'Save'),
      element('button', { type: 'button', onclick: () => toggleEdit(card, false) }, 'Cancel'),
    ),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const server = state.servers.get(card.id);
    const changes = {};
    for (const field of EDIT_FIELDS) {
      const input = form.elements[field.name];
      if (field.type === 'checkbox') {
        if (input.checked !== server[field.name]) changes[field.name] = input.checked;
      } else if (field.name === 'password') {
        if (input.value !== '') changes.password = input.value;
      } else if (field.type === 'number') {
        // sent as typed: the API names the field when it is no port
        const port = input.value.trim() === '' ? input.value : Number(input.value);
        if (port !== server.port) changes.port = port;
      } else {
        const value = field.optional && input.value.trim() === '' ? null : input.value;
        if (value !== server[field.name]) changes[field.name] = value;
      }
    }
    if (form.elements.clearPassword.checked) changes.password = null;
    const saved = await act(
      async () => {
        Object.assign(changes, securityChanges(form, server));
        if (Object.keys(changes).length > 0) await api('PATCH', `/api/servers/${card.id}`, changes);
      },
      { form },
    );
    if (saved) toggleEdit(card, false);
  });
  return form;
}

/** Opens the edit form filled with the server's settings (only then: never while the operator types). */
function toggleEdit(card, open = card.editForm.hidden) {
  const form = card.editForm;
  if (open) {
    const server = state.servers.get(card.id);
    for (const field of EDIT_FIELDS) {
      const input = form.elements[field.name];
      if (field.type === 'checkbox') input.checked = Boolean(server[field.name]);
      else if (field.name === 'password') {
        input.value = '';
        input.placeholder = server.hasPassword ? 'unchanged' : 'none';
      } else input.value = server[field.name] ?? '';
    }
    form.elements.clearPassword.checked = false;
    form.querySelector('.clear-password').hidden = !server.hasPassword;
    fillSecurityFields(form, server);
    for (const slot of form.querySelectorAll('[data-field-error]')) setText(slot, '');
  }
  form.hidden = !open;
  card.editButton.setAttribute('aria-expanded', String(open));
  refreshActions();
}

async function toggleMachine(card) {
  const open = card.diagram.hidden;
  card.diagram.hidden = !open;
  card.machineButton.setAttribute('aria-expanded', String(open));
  if (open && !card.diagram.firstChild) {
    try {
      drawMachine(card.diagram, await machine('irc-connection'));
    } catch (error) {
      setText(card.diagram, `Could not load the diagram: ${error.message}`);
    }
  }
  updateMachineHighlight(card);
}

const machines = new Map();
function machine(name) {
  if (!machines.has(name)) {
    const loading = api('GET', `/api/machines/${name}`);
    loading.catch(() => machines.delete(name));
    machines.set(name, loading);
  }
  return machines.get(name);
}

function updateMachineHighlight(card) {
  if (card.diagram.hidden || !card.diagram.firstChild) return;
  const server = state.servers.get(card.id);
  highlightMachine(card.diagram, server?.connection?.state ?? null);
}

function createChannelRow(card, channel) {
  const row = { name: channel.name };
  row.label = element('span', { className: 'channel-name' }, channel.name);
  row.status = element('span', { className: 'muted', dataset: { testid: 'channel-status' } });
  row.users = element('span', { className: 'muted', dataset: { testid: 'user-count' } });
  // never disabled because the IRC service is down: the part is kept and passed on when it is back
  row.part = actionButton(
    'Part',
    'part',
    () =>
      act(() => api('DELETE', `/api/servers/${card.id}/channels/${encodeURIComponent(row.name)}`), {
        where: card.error,
      }),
    'Part, and stay out',
  );
  row.root = element(
    'li',
    { className: 'channel', dataset: { testid: 'channel', channel: channel.name } },
    row.label,
    row.status,
    row.users,
    row.part,
  );
  return row;
}

function updateChannelRow(row, channel) {
  const wanted = channel.wanted !== false;
  setClass(row.root, `channel${channel.joined ? ' joined' : ''}${wanted ? '' : ' parting'}`);
  setData(row.root, 'joined', String(channel.joined));
  setData(row.root, 'wanted', String(wanted));
  // wanted (the operator's wish) vs observed (what the IRC service reported)
  setText(
    row.status,
    !wanted
      ? channel.joined
        ? 'parting (still joined)'
        : 'parting'
      : channel.joined
        ? 'wanted, joined'
        : 'wanted, not joined yet',
  );
  setText(row.users, `${channel.userCount} ${channel.userCount === 1 ? 'user' : 'users'}`);
  setData(row.part, 'blocked', String(!wanted));
}

function updateCard(card, server) {
  setData(card.root, 'name', server.name);
  setText(card.name, server.name);
  setText(card.address, `${server.host}:${server.port}${server.tls ? ' (TLS)' : ''} as ${server.nickname}`);
  updateNodeTag(card, server);
  setText(card.security, securityText(server));
  setHidden(card.security, card.security.textContent === '');
  setText(card.badge, server.connected ? 'connected' : 'disconnected');
  setClass(card.badge, `badge ${server.connected ? 'connected' : 'disconnected'}`);
  setData(card.root, 'connectionState', server.connection?.state ?? '');
  setText(card.connection, describeConnection(server));
  setClass(card.connection, `connection${server.connection?.lastError ? ' has-error' : ''}`);
  // autoconnect is what the operator wants; connected is what the IRC service reports
  const wanted = server.autoconnect ? 'connected' : 'disconnected';
  const observed = server.connected ? 'connected' : 'disconnected';
  setText(
    card.wantedObserved,
    `wanted: ${wanted} · observed: ${observed}${wanted === observed ? '' : ' (converging)'}`,
  );
  // a failed connection (banned, password refused, no acceptable nickname) waits for the operator's Connect
  setHidden(card.failure, !server.failure);
  if (server.failure) {
    setText(card.failure, `failed ${formatTime(server.failure.at)}: ${server.failure.message} (Connect tries again)`);
  }
  // a wish the IRC service could not be told yet: it is kept, and passed on when the IRC service is back
  setHidden(card.pending, !server.pending);
  if (server.pending) {
    setText(card.pending, pendingText(server));
    card.pending.title = `pending since ${new Date(server.pending.since).toLocaleString()}`;
  }
  // only when there is nothing to do; never because the IRC service is down (the wish is kept)
  setData(card.connect, 'blocked', String(server.connected && server.autoconnect));
  card.connect.title = server.connected && server.autoconnect ? 'Already connected' : 'Connect, and keep it connected';
  setData(card.disconnect, 'blocked', String(!server.connected && !server.autoconnect));
  card.disconnect.title = 'Disconnect, and keep it disconnected';

  const seen = new Set();
  let previous = null;
  for (const channel of server.channels) {
    seen.add(channel.name);
    let row = card.channels.get(channel.name);
    if (!row) {
      row = createChannelRow(card, channel);
      card.channels.set(channel.name, row);
    }
    updateChannelRow(row, channel);
    // keep the order of the server's list, moving a row only when it is out of place
    const expected = previous ? previous.root.nextSibling : card.channelList.firstChild;
    if (expected !== row.root) card.channelList.insertBefore(row.root, expected);
    previous = row;
  }
  for (const [name, row] of card.channels) {
    if (!seen.has(name)) {
      row.root.remove();
      card.channels.delete(name);
    }
  }
  updateMachineHighlight(card);
}

function renderServer(serverId) {
  const server = state.servers.get(serverId);
  const card = cards.get(serverId);
  if (!server) {
    card?.root.remove();
    cards.delete(serverId);
  } else if (card) updateCard(card, server);
  else renderServers();
  refreshActions();
}

function renderServers() {
  const list = $('servers');
  let previous = null;
  for (const server of state.servers.values()) {
    let card = cards.get(server.id);
    if (!card) {
      card = createCard(server);
      cards.set(server.id, card);
    }
    updateCard(card, server);
    const expected = previous ? previous.root.nextSibling : list.firstChild;
    if (expected !== card.root) list.insertBefore(card.root, expected);
    previous = card;
  }
  for (const [id, card] of cards) {
    if (!state.servers.has(id)) {
      card.root.remove();
      cards.delete(id);
    }
  }
  $('no-servers').hidden = state.servers.size > 0;
  refreshActions();
}

/** Actions need the web side: all are off while its stream is lost; each is also off when it has nothing to do. */
function refreshActions() {
  for (const button of document.querySelectorAll('[data-action]:not([data-action=""])')) {
    const disabled = state.streamLost || button.dataset.blocked === 'true';
    if (button.disabled !== disabled) button.disabled = disabled;
  }
}

// The countdown of "next in N s" moves on its own between events: patch only those lines.
setInterval(() => {
  for (const card of cards.values()) {
    const server = state.servers.get(card.id);
    if (server?.connection?.nextAttemptAt) setText(card.connection, describeConnection(server));
  }
}, 1_000);

// ---------------------------------------------------------------------------------------------------
// The IRC service nodes: a row per node, and on each card the node its server is placed on

const nodeRows = new Map();

function nodeNamed(name) {
  for (const node of state.nodes.values()) if (node.name === name) return node;
  return undefined;
}

/** Where a server is placed, in words: its node, the node it is moving to during a drain, and that node's trouble. */
function updateNodeTag(card, server) {
  // a server neither wanted nor connected is placed nowhere (its row's node is cleared once it is let go)
  const node = server.autoconnect || server.connected ? server.node : null;
  setData(card.root, 'node', node ?? '');
  setData(card.root, 'movingTo', server.movingTo ?? '');
  setHidden(card.node, !node);
  if (!node) return;
  const nodeState = nodeNamed(node)?.state;
  const trouble = nodeState === 'unavailable' || nodeState === 'draining' ? ` (${nodeState})` : '';
  const moving = server.movingTo ? `, moving to ${server.movingTo}` : '';
  setText(card.node, `on ${node}${trouble}${moving}`);
  setClass(
    card.node,
    `node-tag muted${server.movingTo ? ' moving' : nodeState === 'unavailable' ? ' unavailable' : ''}`,
  );
}

/** Drain or undrain from the panel; a refusal (404, 409) is shown in the node's row, with its reason. */
function nodeAction(row, action) {
  return act(
    async () => {
      const { node } = await api('POST', `/api/irc-nodes/${encodeURIComponent(row.name)}/${action}`);
      if (node) applyEvent('node-status', node);
    },
    { where: row.error },
  );
}

function createNodeRow(node) {
  const row = { name: node.name };
  row.label = element('span', { className: 'node-name', dataset: { testid: 'node-name' } });
  row.badge = element('span', { dataset: { testid: 'node-state' } });
  row.connections = element('span', { className: 'muted', dataset: { testid: 'node-connections' } });
  row.checked = element('span', { className: 'muted', dataset: { testid: 'node-checked' } });
  row.drain = actionButton(
    'Drain',
    'drain',
    () => nodeAction(row, 'drain'),
    'Move its servers to the other nodes without a disconnect, and place nothing new on it',
  );
  row.undrain = actionButton(
    'Undrain',
    'undrain',
    () => nodeAction(row, 'undrain'),
    'Place servers on it again (the ones moved away stay where they are)',
  );
  row.problem = element('p', { className: 'failure', dataset: { testid: 'drain-problem' }, hidden: true });
  row.error = element('p', { className: 'field-error', dataset: { testid: 'node-error' } });
  row.root = element(
    'li',
    { className: 'node', dataset: { testid: 'node' } },
    element(
      'div',
      { className: 'node-head' },
      row.label,
      row.badge,
      element('span', { className: 'node-actions' }, row.drain, row.undrain),
    ),
    element('p', {}, row.connections, ' · ', row.checked),
    row.problem,
    row.error,
  );
  return row;
}

function updateNodeRow(row, node, single) {
  row.name = node.name;
  setData(row.root, 'node', node.name ?? '');
  setData(row.root, 'state', node.state);
  setText(row.label, node.name ?? node.url);
  row.label.title = node.url;
  setText(row.badge, node.state);
  setClass(row.badge, `badge ${node.state}`);
  setData(row.connections, 'count', node.connections === null ? '' : String(node.connections));
  setText(
    row.connections,
    node.connections === null
      ? 'connections not known yet'
      : `${node.connections} ${node.connections === 1 ? 'connection' : 'connections'}`,
  );
  setText(row.checked, node.lastCheck ? `checked ${formatTime(node.lastCheck)}` : 'not checked yet');
  setHidden(row.problem, !node.drainProblem);
  setText(row.problem, node.drainProblem ? `drain: ${node.drainProblem}` : '');
  // a node without a name cannot be asked for; a lone node has nowhere to send its servers, so no Drain (its
  // Undrain stays, should it have been drained through the API)
  setHidden(row.drain, node.name === null || single || node.state === 'draining');
  setHidden(row.undrain, node.name === null || node.state !== 'draining');
}

const DEGRADED_TEXT = $('banner-degraded').textContent.replace(/\s+/g, ' ').trim();

/** In a cluster, the nodes that are down, by name: the others still hold their servers and take the down ones'. */
function renderDegradedBanner() {
  const down = [...state.nodes.values()].filter((node) => node.state === 'unavailable');
  const some = state.nodes.size > 1 && down.length > 0 && down.length < state.nodes.size;
  const names = down.map((node) => node.name ?? node.url).join(', ');
  setText(
    $('banner-degraded'),
    some
      ? `IRC service ${down.length === 1 ? `node ${names} is` : `nodes ${names} are`} unavailable: ` +
          `${down.length === 1 ? 'its' : 'their'} servers are placed on the other nodes and connected there. ` +
          'Actions still work.'
      : DEGRADED_TEXT,
  );
}

function renderNodes() {
  const single = state.nodes.size === 1;
  const panel = $('nodes');
  setClass(panel, `panel nodes-panel${single ? ' single' : ''}`);
  setText($('nodes-title'), single ? 'IRC service node' : `IRC service nodes (${state.nodes.size})`);
  setHidden($('no-nodes'), state.nodes.size > 0);
  const list = $('node-list');
  let previous = null;
  for (const node of state.nodes.values()) {
    let row = nodeRows.get(node.url);
    if (!row) {
      row = createNodeRow(node);
      nodeRows.set(node.url, row);
    }
    updateNodeRow(row, node, single);
    const expected = previous ? previous.root.nextSibling : list.firstChild;
    if (expected !== row.root) list.insertBefore(row.root, expected);
    previous = row;
  }
  for (const [url, row] of nodeRows) {
    if (!state.nodes.has(url)) {
      row.root.remove();
      nodeRows.delete(url);
    }
  }
  renderDegradedBanner();
  // a card says when its node is down or draining
  for (const card of cards.values()) {
    const server = state.servers.get(card.id);
    if (server) updateNodeTag(card, server);
  }
  refreshActions();
}

// ---------------------------------------------------------------------------------------------------
// The health panel

const checkRows = new Map();

function renderHealth() {
  const badge = $('supervisor-state');
  const current = state.health?.state ?? 'unknown';
  setText(badge, current);
  setClass(badge, `badge ${current}`);
  setText(
    $('supervisor-checked'),
    state.health?.checkedAt ? `last check ${formatTime(state.health.checkedAt)}` : 'no check yet',
  );
  $('banner-degraded').hidden = current !== 'degraded';
  renderDegradedBanner();
  const diagram = $('supervisor-diagram');
  if (!diagram.hidden && diagram.firstChild) highlightMachine(diagram, current === 'idle' ? null : current);

  const body = $('recent-checks').querySelector('tbody');
  const seen = new Set();
  let previous = null;
  for (const check of state.recent) {
    const key = `${check.checkedAt} ${check.outcome}`;
    seen.add(key);
    let row = checkRows.get(key);
    if (!row) {
      row = element(
        'tr',
        { className: `check ${check.outcome}`, dataset: { testid: 'check', outcome: check.outcome } },
        element('td', {}, formatTime(check.checkedAt)),
        element('td', { title: check.error ?? '' }, check.outcome),
        element('td', {}, `${check.durationMs} ms`),
        element('td', {}, String(check.disconnected)),
        element('td', {}, String(check.markedConnected)),
      );
      checkRows.set(key, row);
    }
    const expected = previous ? previous.nextSibling : body.firstChild;
    if (expected !== row) body.insertBefore(row, expected);
    previous = row;
  }
  for (const [key, row] of checkRows) {
    if (!seen.has(key)) {
      row.remove();
      checkRows.delete(key);
    }
  }
  $('recent-checks').hidden = state.recent.length === 0;
  $('no-checks').hidden = state.recent.length > 0;
}

$('supervisor-machine').addEventListener('click', async () => {
  const diagram = $('supervisor-diagram');
  diagram.hidden = !diagram.hidden;
  $('supervisor-machine').setAttribute('aria-expanded', String(!diagram.hidden));
  if (!diagram.hidden && !diagram.firstChild) {
    try {
      drawMachine(diagram, await machine('health-supervisor'));
    } catch (error) {
      setText(diagram, `Could not load the diagram: ${error.message}`);
    }
  }
  renderHealth();
});

// ---------------------------------------------------------------------------------------------------
// Events

// Each handler updates the state from one event and answers what to patch.
const handlers = {
  'server-status'({ serverId, connected, connectedAt, pending, failure, node, movingTo }) {
    const server = state.servers.get(serverId);
    if (!server) return { reload: true }; // a server this page has not seen yet
    Object.assign(server, { connected, connectedAt });
    if (pending !== undefined) server.pending = pending;
    if (failure !== undefined) server.failure = failure;
    // sent while it is placed on one, and when a drain's move starts or ends
    if (node !== undefined) server.node = node;
    if (movingTo !== undefined) server.movingTo = movingTo;
    // the disconnect transition: channels not joined, their users gone
    if (!connected) for (const channel of server.channels) Object.assign(channel, { joined: false, userCount: 0 });
    return { serverId };
  },
  'connection-state'({ serverId, connection }) {
    const server = state.servers.get(serverId);
    if (!server) return { reload: true };
    server.connection = connection;
    return { serverId };
  },
  channel(channel) {
    const server = state.servers.get(channel.serverId);
    if (!server) return { reload: true };
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
    return { serverId: channel.serverId };
  },
  'channel-removed'({ serverId, channelId }) {
    const server = state.servers.get(serverId);
    if (server) server.channels = server.channels.filter((channel) => channel.id !== channelId);
    return { serverId };
  },
  'server-removed'({ serverId }) {
    state.servers.delete(serverId);
    return { serverId };
  },
  health(health) {
    const checked = health.checkedAt !== state.health?.checkedAt;
    state.health = health;
    if (Array.isArray(health.recent)) state.recent = health.recent;
    return { health: true, checked };
  },
  'node-status'(node) {
    state.nodes.set(node.url, node);
    return { nodes: true };
  },
};

function applyEvent(type, payload) {
  const change = handlers[type](payload);
  if (change.reload) void loadServers();
  else if (change.health) {
    renderHealth();
    if (change.checked) refreshNodes();
  } else if (change.nodes) renderNodes();
  else renderServer(change.serverId);
}

function setStreamLost(lost) {
  state.streamLost = lost;
  $('banner-stream').hidden = !lost;
  document.body.dataset.stream = lost ? 'lost' : 'live';
  const indicator = $('stream-state');
  setText(indicator, lost ? 'offline' : 'live');
  setClass(indicator, `stream-state ${lost ? 'lost' : 'live'}`);
  refreshActions();
}

let events;
function follow() {
  events = new EventSource('/events');
  for (const type of Object.keys(handlers)) {
    events.addEventListener(type, (message) => {
      const payload = JSON.parse(message.data);
      recentEvents.push({ id: message.lastEventId, type, payload });
      if (recentEvents.length > RECENT_LIMIT) recentEvents.shift();
      applyEvent(type, payload);
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
  events.addEventListener('error', () => {
    setStreamLost(true);
    // the browser retries a dropped stream by itself, but gives up on an answer that is not a stream
    // (a proxy's error page, a 503 while the web side starts): then this page tries again itself
    if (events.readyState === EventSource.CLOSED) {
      events.close();
      setTimeout(follow, 2_000);
    }
  });
}

$('add-server').querySelector('[data-field-error="body"]').before(createSecurityFields());
fillSecurityFields($('add-server'), SECURITY_DEFAULTS);

$('add-server').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const fields = new FormData(form);
  const port = String(fields.get('port') ?? '').trim();
  const added = await act(
    () =>
      api('POST', '/api/servers', {
        name: fields.get('name'),
        host: fields.get('host'),
        // sent as typed: the API names the field when it is no port
        port: port === '' ? port : Number(port),
        nickname: fields.get('nickname'),
        tls: fields.get('tls') === 'on',
        ...securityChanges(form, SECURITY_DEFAULTS),
      }),
    { form },
  );
  if (added) {
    form.reset();
    fillSecurityFields(form, SECURITY_DEFAULTS);
  }
});

$('check-now').addEventListener('click', () =>
  act(async () => {
    await api('POST', '/api/health-check');
    await loadHealth();
  }),
);

// watch first, then list: events that arrive while the snapshot loads are re-applied on top of it
state.streamLost = false;
follow();
await reloadAll();
