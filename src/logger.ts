/** The pino logger both processes use, with secrets redacted. */
import { type Logger, pino } from 'pino';

export type { Logger };

/** Paths that may carry secrets; pino replaces them before anything is written. */
const REDACTED_PATHS = [
  'password',
  'token',
  'authorization',
  '*.password',
  '*.token',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
  'config.INTERNAL_API_TOKEN',
  'config.WEB_PASSWORD',
  // a connection's TLS client key and SASL password, at the depths settings and bodies appear
  'clientKey',
  '*.clientKey',
  '*.*.clientKey',
  'sasl.password',
  '*.sasl.password',
  '*.*.sasl.password',
  'saslPassword',
  '*.saslPassword',
];

export function createLogger(name: string, level = 'info'): Logger {
  return pino({ name, level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } });
}
