/**
 * End-to-end tests need real programs (ngircd, InspIRCd, Chromium, Prometheus and its promtool, openssl). On a
 * developer's machine without them those tests skip; CI sets IRC_SUPERVISOR_REQUIRE_E2E=1, which turns a missing
 * program into a failure. InspIRCd is not installed but unpacked into the project's `.programs/` by
 * test/support/unpack-inspircd.sh (Debian's IRC servers conflict as packages: installing it would remove ngircd).
 */
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

/** Where test/support/unpack-inspircd.sh unpacks programs that are not installed (gitignored). */
export const PROGRAMS_DIR = fileURLToPath(new URL('../../.programs', import.meta.url));

export const NGIRCD = findProgram('ngircd', ['/usr/sbin/ngircd', '/usr/bin/ngircd']);
export const INSPIRCD = findProgram('inspircd', [
  join(PROGRAMS_DIR, 'inspircd/usr/sbin/inspircd'),
  '/usr/sbin/inspircd',
]);
export const CHROMIUM = findProgram('chromium', ['/usr/bin/chromium', '/usr/bin/chromium-browser']);
export const PROMTOOL = findProgram('promtool', ['/usr/bin/promtool', '/usr/local/bin/promtool']);
export const PROMETHEUS = findProgram('prometheus', ['/usr/bin/prometheus', '/usr/local/bin/prometheus']);
export const OPENSSL = findProgram('openssl', ['/usr/bin/openssl', '/usr/local/bin/openssl']);

/** The programs end-to-end tests may need, with where each was found and how to install it. */
const PROGRAMS = {
  ngircd: { path: NGIRCD, install: 'apt-get install ngircd' },
  inspircd: { path: INSPIRCD, install: 'npm run programs:inspircd' },
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
const announced = new Set<string>();

/**
 * Whether a program this test file needs is missing (`describe.skipIf(lacks('ngircd'))`); if so, says
 * which and how to install it, once per file and set of programs. With IRC_SUPERVISOR_REQUIRE_E2E=1 a missing program has
 * already failed the import above.
 */
export function lacks(...needed: ProgramName[]): boolean {
  const notice = skipNotice(needed);
  if (notice !== undefined && !announced.has(notice)) {
    announced.add(notice);
    console.warn(notice);
  }
  return notice !== undefined;
}
