/** The environment both sides read, parsed once at start with one schema that also documents it (README's table). */
import { z } from 'zod';
import { DEFAULT_FLOOD_CONTROL } from './irc-service/send-queue.ts';
import { StartError } from './process/start-error.ts';
import { ircNodeIdSchema } from './shared/irc-service-contract.ts';

/** Thrown when the environment is unusable; its message is the one line an operator reads. */
export class ConfigError extends StartError {
  override name = 'ConfigError';
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || host.startsWith('127.');
}

const port = z.coerce.number().int().min(1).max(65_535);
/** setTimeout's longest delay (about 24.8 days): Node runs a longer one after 1 ms, which would turn a wait into a loop. */
const MAX_TIMER_MS = 2_147_483_647;
const positiveMs = z.coerce.number().int().min(1).max(MAX_TIMER_MS);
const bool = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');
const nonEmpty = z.string().trim().min(1);

/** What the README's configuration table says about one variable (`npm run readme:config` writes it). */
export interface VariableDocumentation {
  /** The kind of value, in an operator's words. */
  type: string;
  /** The default as the table shows it; left out, it is the schema's own default (or "unset"). */
  shown?: string;
  meaning: string;
}

/** Each variable's documentation, kept beside its schema so that the table cannot drift from the parser. */
const documentation = z.registry<VariableDocumentation>();

/** One node of `IRC_SERVICE_URLS`. */
export interface IrcServiceNodeConfig {
  name: string;
  url: string;
}

const nodeUrlSchema = z.url({ protocol: /^https?$/ });

/** `a=http://…,b=http://…`: each entry a node name and its URL; a bad entry is named in the one line at start. */
function parseIrcServiceUrls(text: string, context: z.core.$RefinementCtx<string>): IrcServiceNodeConfig[] {
  const nodes: IrcServiceNodeConfig[] = [];
  const entries = text.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    const separator = entry.indexOf('=');
    const name = separator > 0 ? entry.slice(0, separator).trim() : '';
    const url = separator > 0 ? entry.slice(separator + 1).trim() : '';
    let problem: string | undefined;
    if (!ircNodeIdSchema.safeParse(name).success) problem = 'a node name (letters, digits, . _ -) before "="';
    else if (!nodeUrlSchema.safeParse(url).success) problem = 'an http(s) URL after "="';
    else if (nodes.some((node) => node.name === name)) problem = 'a name used once';
    if (problem) {
      context.addIssue({
        code: 'custom',
        message: `name=url entries; entry ${JSON.stringify(entry)} needs ${problem}`,
      });
      return z.NEVER;
    }
    nodes.push({ name, url });
  }
  return nodes;
}

const environmentSchema = z.object({
  NODE_ENV: z.string().default('development').register(documentation, {
    type: 'string',
    meaning: '`test` turns the supervisor off unless `HEALTH_CHECK_ENABLED` says otherwise',
  }),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
    .optional()
    .register(documentation, {
      type: '`postgres://` URL',
      shown: 'unset: embedded PostgreSQL in `DATA_DIR`',
      meaning: 'the database of the web side',
    }),
  DATA_DIR: nonEmpty.default('.data').register(documentation, { type: 'path', meaning: 'embedded database files' }),
  HOST: nonEmpty.default('127.0.0.1').register(documentation, { type: 'host', meaning: 'where the web side listens' }),
  PORT: port.default(3000).register(documentation, { type: 'port', meaning: 'where the web side listens' }),
  IRC_SERVICE_HOST: nonEmpty
    .default('127.0.0.1')
    .register(documentation, { type: 'host', meaning: 'where the IRC service listens' }),
  IRC_SERVICE_PORT: port
    .default(3001)
    .register(documentation, { type: 'port', meaning: 'where the IRC service listens' }),
  IRC_NODES: z.coerce.number().int().min(1).max(32).default(1).register(documentation, {
    type: 'count',
    meaning:
      '`npm start` only: how many local IRC service nodes to run, on consecutive ports from `IRC_SERVICE_PORT`, each named `node-` + its port',
  }),
  IRC_NODE_ID: ircNodeIdSchema.optional().register(documentation, {
    type: 'name',
    shown: '`node-` + `IRC_SERVICE_PORT`',
    meaning: "this IRC service node's name in a cluster, answered as `node` by `GET /internal/irc/status`",
  }),
  IRC_SERVICE_URLS: z
    .string()
    .transform((text, context) => parseIrcServiceUrls(text, context))
    .optional()
    .register(documentation, {
      type: '`name=url,…`',
      shown: 'unset: one node at `IRC_SERVICE_URL`',
      meaning:
        "the IRC service nodes of a cluster (`a=http://10.0.0.5:3001,b=http://10.0.0.6:3001`); each name must be that node's `IRC_NODE_ID`",
    }),
  IRC_SERVICE_URL: z
    .url({ protocol: /^https?$/ })
    .default('http://127.0.0.1:3001')
    .register(documentation, {
      type: 'URL',
      meaning:
        'where the web side reaches the IRC service when `IRC_SERVICE_URLS` is unset: a one-node cluster whose name is taken from its first status answer',
    }),
  INTERNAL_API_TOKEN: z.string().min(16, 'at least 16 characters').optional().register(documentation, {
    type: 'string, ≥ 16 chars',
    shown: '`npm start` generates one per run',
    meaning: 'bearer token on every `/internal/*` route; required when a side is started alone',
  }),
  HEALTH_CHECK_INTERVAL_MS: positiveMs
    .default(30_000)
    .register(documentation, { type: 'ms', meaning: 'supervisor period' }),
  HEALTH_CHECK_ENABLED: bool.optional().register(documentation, {
    type: '`true`/`false`/`1`/`0`',
    shown: '`true` (`false` when `NODE_ENV=test`)',
    meaning:
      'whether the supervisor runs: `false` leaves every check (and so convergence and drains) to nobody, and `POST /api/health-check` answers `503`',
  }),
  IRC_STATUS_TIMEOUT_MS: positiveMs
    .default(5_000)
    .register(documentation, { type: 'ms', meaning: 'status request timeout' }),
  HEALTH_CHECK_FAILURE_THRESHOLD: z.coerce.number().int().min(1).default(3).register(documentation, {
    type: 'count',
    meaning: 'consecutive "unknown" results before they count as "unavailable"',
  }),
  WEB_PASSWORD: z.string().min(1).optional().register(documentation, {
    type: 'string',
    meaning: 'HTTP basic auth on every web route but `/healthz`; required when `HOST` is not loopback',
  }),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .register(documentation, { type: 'pino level', meaning: 'log verbosity (logs are JSON lines)' }),
  DEBUG_MACHINES: bool
    .default(false)
    .register(documentation, { type: '`true`/`false`/`1`/`0`', meaning: 'log every state machine transition' }),
  IRC_CONNECTS_PER_HOST: z.coerce.number().int().min(1).default(8).register(documentation, {
    type: 'count',
    meaning: 'connects in flight to one IRC host at a time',
  }),
  RECONNECT_STAGGER_MS: z.coerce.number().int().min(0).default(0).register(documentation, {
    type: 'ms',
    meaning:
      'pause between two connects the web asks for to one IRC host (then one at a time); 0: `IRC_CONNECTS_PER_HOST` alone paces them',
  }),
  IRC_PING_INTERVAL_MS: positiveMs
    .default(30_000)
    .register(documentation, { type: 'ms', meaning: 'how often the IRC service pings a registered server' }),
  IRC_PING_TIMEOUT_MS: positiveMs
    .default(60_000)
    .register(documentation, { type: 'ms', meaning: 'silence from a server after which its socket counts as dead' }),
  IRC_RECONNECT_MAX_MS: positiveMs.default(60_000).register(documentation, {
    type: 'ms',
    meaning: 'cap of the delay between two attempts to reconnect to an IRC server',
  }),
  IRC_FAILED_RETRY_MS: positiveMs.optional().register(documentation, {
    type: 'ms',
    shown: 'unset: no automatic retry',
    meaning:
      "wait before a `failed` connection (banned, password refused, no acceptable nickname) tries once more; unset, only an operator's Connect retries it",
  }),
  IRC_SEND_BURST: z.coerce.number().int().min(1).default(DEFAULT_FLOOD_CONTROL.burst).register(documentation, {
    type: 'count',
    meaning: 'flood control: lines a connection may write to its IRC server at once',
  }),
  IRC_SEND_INTERVAL_MS: positiveMs.default(DEFAULT_FLOOD_CONTROL.intervalMs).register(documentation, {
    type: 'ms',
    meaning: 'flood control: after the burst, one line per this many ms per connection',
  }),
});

/** One row of the README's configuration table. */
export interface DocumentedVariable {
  name: string;
  type: string;
  /** As shown: a code span, or prose when the default depends on something else. */
  shown: string;
  meaning: string;
}

/** Every variable the schema parses, in schema order, with its documentation; throws if one has none. */
export function documentedVariables(): DocumentedVariable[] {
  return Object.entries(environmentSchema.shape).map(([name, schema]) => {
    const doc = documentation.get(schema);
    if (!doc) throw new Error(`${name} has no documentation in src/config.ts`);
    const fallback = schema instanceof z.ZodDefault ? `\`${String(schema.def.defaultValue)}\`` : 'unset';
    return { name, type: doc.type, shown: doc.shown ?? fallback, meaning: doc.meaning };
  });
}

export type Config = Omit<z.infer<typeof environmentSchema>, 'HEALTH_CHECK_ENABLED'> & {
  HEALTH_CHECK_ENABLED: boolean;
};

export type Side = 'irc' | 'web' | 'database';

/** Variables that must be set for a side, so that a mistake is caught at start, not at the first request. */
function requireForSide(config: Config, side: Side): void {
  if (side !== 'database' && !config.INTERNAL_API_TOKEN) {
    throw new ConfigError(
      'INTERNAL_API_TOKEN is required (at least 16 characters) when a side is started alone; `npm start` generates one',
    );
  }
  if (side === 'web' && !isLoopbackHost(config.HOST) && !config.WEB_PASSWORD) {
    throw new ConfigError(`WEB_PASSWORD is required when HOST is not a loopback address (HOST=${config.HOST})`);
  }
}

/**
 * Parses the environment once. Empty strings count as unset, so `PORT= npm start` means the default.
 * Throws ConfigError whose message names the first bad variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv, side: 'irc' | 'web'): Config & { INTERNAL_API_TOKEN: string };
export function loadConfig(env: NodeJS.ProcessEnv, side: Side): Config;
export function loadConfig(env: NodeJS.ProcessEnv, side: Side): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'environment');
    const got = present[name];
    const shown = name === 'INTERNAL_API_TOKEN' || name === 'WEB_PASSWORD' ? '(hidden)' : JSON.stringify(got);
    throw new ConfigError(`${name} is invalid: expected ${describeExpectation(issue)}, got ${shown}`);
  }
  const data = parsed.data;
  const config: Config = {
    ...data,
    HEALTH_CHECK_ENABLED: data.HEALTH_CHECK_ENABLED ?? data.NODE_ENV !== 'test',
  };
  requireForSide(config, side);
  return config;
}

function describeExpectation(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'a valid value';
  switch (issue.code) {
    case 'too_small':
      return issue.origin === 'string' ? `at least ${issue.minimum} characters` : `a number >= ${issue.minimum}`;
    case 'too_big':
      return `a number <= ${issue.maximum}`;
    case 'invalid_type':
      return issue.expected === 'number' ? 'a whole number' : `a ${issue.expected}`;
    case 'invalid_value':
      return `one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_format':
      return issue.format === 'regex' ? (issue.message ?? 'a valid value') : `a valid ${issue.format}`;
    default:
      return issue.message;
  }
}
