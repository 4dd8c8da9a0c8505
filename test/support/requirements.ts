/**
 * End-to-end tests need real programs (ngircd, Chromium, Prometheus and its promtool, openssl). On a developer's machine without them those
 * tests skip; CI sets IRC_SUPERVISOR_REQUIRE_E2E=1, which turns a missing program into a failure.
 */
import { accessSync, constants } from 'node:fs';

export const E2E_REQUIRED = process.env.IRC_SUPERVISOR_REQUIRE_E2E === '1';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The path of the first executable candidate, or undefined when none exists and E2E is not required. */
export function findProgram(name: string, candidates: string[]): string | undefined {
  const found = candidates.find(executable);
  if (!found && E2E_REQUIRED) {
    throw new Error(`${name} is required (IRC_SUPERVISOR_REQUIRE_E2E=1) but none of ${candidates.join(', ')} exists`);
  }
  return found;
}

export const NGIRCD = findProgram('ngircd', ['/usr/sbin/ngircd', '/usr/bin/ngircd']);
export const CHROMIUM = findProgram('chromium', ['/usr/bin/chromium', '/usr/bin/chromium-browser']);
export const PROMTOOL = findProgram('promtool', ['/usr/bin/promtool', '/usr/local/bin/promtool']);
export const PROMETHEUS = findProgram('prometheus', ['/usr/bin/prometheus', '/usr/local/bin/prometheus']);
export const OPENSSL = findProgram('openssl', ['/usr/bin/openssl', '/usr/local/bin/openssl']);

/** The programs end-to-end tests may need, with where each was found and how to install it. */
const PROGRAMS = {
  ngircd: { path: NGIRCD, install: 'apt-get install ngircd' },
  chromium: { path: CHROMIUM, install: 'apt-get install chromium' },
  promtool: { path: PROMTOOL, install: 'apt-get install prometheus' },
  prometheus: { path: PROMETHEUS, install: 'apt-get install prometheus' },
  openssl: { path: OPENSSL, install: 'apt-get install openssl' },
} as const;

export type ProgramName = keyof typeof PROGRAMS;

/** The one line a skipped test file prints, or undefined when nothing it needs is missing. */
export function skipNotice(
  needed: readonly ProgramName[],
  found: (name: ProgramName) => string | undefined = (name) => PROGRAMS[name].path,
): string | undefined {
  const missing = needed.filter((name) => found(name) === undefined);
  if (missing.length === 0) return undefined;
  return `skipped: ${missing.map((name) => `${name} is not installed (${PROGRAMS[name].install})`).join('; ')}`;
}

// module state is per test file: vitest isolates each file
let announced = false;

/**
 * Whether a program this test file needs is missing (`describe.skipIf(lacks('ngircd'))`); if so, says
 * which and how to install it, once per file. With IRC_SUPERVISOR_REQUIRE_E2E=1 a missing program has
 * already failed the import above.
 */
export function lacks(...needed: ProgramName[]): boolean {
  const notice = skipNotice(needed);
  if (notice !== undefined && !announced) {
    announced = true;
    console.warn(notice);
  }
  return notice !== undefined;
}
