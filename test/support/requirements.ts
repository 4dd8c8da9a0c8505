import { accessSync, constants } from 'node:fs';

/**
 * End-to-end tests need real programs (ngircd, Chromium). On a developer's machine without them those
 * tests skip; CI sets IRC_SUPERVISOR_REQUIRE_E2E=1, which turns a missing program into a failure.
 */
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
