import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

const TOKEN = 'a-token-of-at-least-16-chars';

function refusal(env: NodeJS.ProcessEnv, side: 'irc' | 'web' | 'database' = 'web'): string {
  try {
    loadConfig(env, side);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('loadConfig', () => {
  it('gives the contract defaults', () => {
    const config = loadConfig({ INTERNAL_API_TOKEN: TOKEN }, 'web');
    expect(config).toMatchObject({
      DATA_DIR: '.data',
      HOST: '127.0.0.1',
      PORT: 3000,
      IRC_SERVICE_HOST: '127.0.0.1',
      IRC_SERVICE_PORT: 3001,
      IRC_SERVICE_URL: 'http://127.0.0.1:3001',
      HEALTH_CHECK_INTERVAL_MS: 30_000,
      HEALTH_CHECK_ENABLED: true,
      IRC_STATUS_TIMEOUT_MS: 5_000,
      HEALTH_CHECK_FAILURE_THRESHOLD: 3,
      IRC_SEND_BURST: 5,
      IRC_SEND_INTERVAL_MS: 2_000,
    });
    expect(config.DATABASE_URL).toBeUndefined();
    // a failed connection (a ban) is not retried unless asked
    expect(config.IRC_FAILED_RETRY_MS).toBeUndefined();
  });

  it('disables the health check by default under NODE_ENV=test, and lets it be forced on', () => {
    expect(loadConfig({ INTERNAL_API_TOKEN: TOKEN, NODE_ENV: 'test' }, 'web').HEALTH_CHECK_ENABLED).toBe(false);
    expect(
      loadConfig({ INTERNAL_API_TOKEN: TOKEN, NODE_ENV: 'test', HEALTH_CHECK_ENABLED: 'true' }, 'web')
        .HEALTH_CHECK_ENABLED,
    ).toBe(true);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ INTERNAL_API_TOKEN: TOKEN, PORT: '' }, 'web').PORT).toBe(3000);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT is invalid: expected a whole number, got "abc"'],
    [{ PORT: '70000' }, 'PORT is invalid: expected a number <= 65535, got "70000"'],
    [{ IRC_SERVICE_PORT: '0' }, 'IRC_SERVICE_PORT is invalid: expected a number >= 1, got "0"'],
    [{ IRC_SERVICE_URL: 'not a url' }, 'IRC_SERVICE_URL is invalid'],
    [{ DATABASE_URL: 'mysql://db/x' }, 'DATABASE_URL is invalid: expected a postgres:// URL'],
    [{ HEALTH_CHECK_ENABLED: 'maybe' }, 'HEALTH_CHECK_ENABLED is invalid: expected one of'],
    [{ HEALTH_CHECK_INTERVAL_MS: '-5' }, 'HEALTH_CHECK_INTERVAL_MS is invalid'],
    [{ HEALTH_CHECK_FAILURE_THRESHOLD: '0' }, 'HEALTH_CHECK_FAILURE_THRESHOLD is invalid'],
    [{ IRC_SEND_BURST: '0' }, 'IRC_SEND_BURST is invalid: expected a number >= 1, got "0"'],
    [{ IRC_SEND_INTERVAL_MS: 'fast' }, 'IRC_SEND_INTERVAL_MS is invalid'],
    // longer than a Node timer can wait: it would fire after 1 ms, a retry loop after a ban
    [{ IRC_FAILED_RETRY_MS: '2592000000' }, 'IRC_FAILED_RETRY_MS is invalid: expected a number <= 2147483647'],
    [{ IRC_FAILED_RETRY_MS: '-1' }, 'IRC_FAILED_RETRY_MS is invalid'],
  ])('refuses %o with one line naming the variable', (env, expected) => {
    const message = refusal({ INTERNAL_API_TOKEN: TOKEN, ...env });
    expect(message).toContain(expected);
    expect(message).not.toContain('\n');
  });

  it('reads a cluster of IRC service nodes from IRC_SERVICE_URLS, and leaves it unset for a one-node cluster', () => {
    const config = loadConfig(
      { INTERNAL_API_TOKEN: TOKEN, IRC_SERVICE_URLS: 'a=http://10.0.0.5:3001, b=http://10.0.0.6:3001' },
      'web',
    );
    expect(config.IRC_SERVICE_URLS).toEqual([
      { name: 'a', url: 'http://10.0.0.5:3001' },
      { name: 'b', url: 'http://10.0.0.6:3001' },
    ]);
    expect(loadConfig({ INTERNAL_API_TOKEN: TOKEN }, 'web').IRC_SERVICE_URLS).toBeUndefined();
  });

  it.each([
    ['a=http://10.0.0.5:3001,http://10.0.0.6:3001', '"http://10.0.0.6:3001" needs a node name'],
    ['a=http://10.0.0.5:3001,b=ftp://x', '"b=ftp://x" needs an http(s) URL'],
    ['a=http://10.0.0.5:3001,a=http://10.0.0.6:3001', '"a=http://10.0.0.6:3001" needs a name used once'],
    ['a b=http://x:1', '"a b=http://x:1" needs a node name'],
  ])('refuses IRC_SERVICE_URLS=%s with one line naming the entry', (value, expected) => {
    const message = refusal({ INTERNAL_API_TOKEN: TOKEN, IRC_SERVICE_URLS: value });
    expect(message).toMatch(/^IRC_SERVICE_URLS is invalid/);
    expect(message).toContain(expected);
    expect(message).not.toContain('\n');
  });

  it('takes IRC_NODE_ID as a node name and refuses one that is not', () => {
    expect(loadConfig({ INTERNAL_API_TOKEN: TOKEN, IRC_NODE_ID: 'node-a' }, 'irc').IRC_NODE_ID).toBe('node-a');
    expect(refusal({ INTERNAL_API_TOKEN: TOKEN, IRC_NODE_ID: 'a/b' }, 'irc')).toMatch(/^IRC_NODE_ID is invalid/);
  });

  it('requires the internal token for a side started alone, but not for migrations', () => {
    expect(refusal({}, 'irc')).toMatch(/^INTERNAL_API_TOKEN is required/);
    expect(refusal({}, 'web')).toMatch(/^INTERNAL_API_TOKEN is required/);
    expect(loadConfig({}, 'database').INTERNAL_API_TOKEN).toBeUndefined();
  });

  it('never echoes a secret in its message', () => {
    const message = refusal({ INTERNAL_API_TOKEN: 'short-secret' });
    expect(message).toContain('INTERNAL_API_TOKEN');
    expect(message).not.toContain('short-secret');
  });

  it('requires WEB_PASSWORD when the web side binds beyond loopback', () => {
    expect(refusal({ INTERNAL_API_TOKEN: TOKEN, HOST: '0.0.0.0' })).toMatch(/^WEB_PASSWORD is required/);
    expect(loadConfig({ INTERNAL_API_TOKEN: TOKEN, HOST: '0.0.0.0', WEB_PASSWORD: 'pw' }, 'web').HOST).toBe('0.0.0.0');
    expect(loadConfig({ INTERNAL_API_TOKEN: TOKEN, HOST: 'localhost' }, 'web').HOST).toBe('localhost');
  });
});
