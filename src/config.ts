import { z } from 'zod';
import { StartError } from './process/start-error.ts';

/** Thrown when the environment is unusable; its message is the one line an operator reads. */
export class ConfigError extends StartError {
  override name = 'ConfigError';
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || host.startsWith('127.');
}

const port = z.coerce.number().int().min(1).max(65_535);
const positiveMs = z.coerce.number().int().min(1);
const bool = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');
const nonEmpty = z.string().trim().min(1);

const environmentSchema = z.object({
  NODE_ENV: z.string().default('development'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
    .optional(),
  DATA_DIR: nonEmpty.default('.data'),
  HOST: nonEmpty.default('127.0.0.1'),
  PORT: port.default(3000),
  IRC_SERVICE_HOST: nonEmpty.default('127.0.0.1'),
  IRC_SERVICE_PORT: port.default(3001),
  IRC_SERVICE_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:3001'),
  INTERNAL_API_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  HEALTH_CHECK_INTERVAL_MS: positiveMs.default(30_000),
  HEALTH_CHECK_ENABLED: bool.optional(),
  IRC_STATUS_TIMEOUT_MS: positiveMs.default(5_000),
  HEALTH_CHECK_FAILURE_THRESHOLD: z.coerce.number().int().min(1).default(3),
  WEB_PASSWORD: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DEBUG_MACHINES: bool.default(false),
  IRC_CONNECTS_PER_HOST: z.coerce.number().int().min(1).default(8),
  RECONNECT_STAGGER_MS: z.coerce.number().int().min(0).default(100),
  IRC_PING_INTERVAL_MS: positiveMs.default(30_000),
  IRC_PING_TIMEOUT_MS: positiveMs.default(60_000),
  IRC_RECONNECT_MAX_MS: positiveMs.default(60_000),
});

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
