/** A failing machine test, run for real by vitest in a child process, writes its path diagram and says where. */
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it, onTestFinished } from 'vitest';
import { PATH_DIAGRAMS_DIR } from '../support/machine-trace.ts';
import { PROJECT_ROOT } from '../support/process.ts';

const run = promisify(execFile);

it('a failing machine test leaves its path on the diagram in test-results/machines/ and names the file in its failure', async () => {
  const file = join(PATH_DIAGRAMS_DIR, 'fixture-the-door-ends-open-not-closed-as-this-test-claims.md');
  await rm(file, { force: true });
  onTestFinished(() => rm(file, { force: true }));
  // a vitest of its own: none of this run's worker variables, which would make it a worker of this one
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')));

  const failed = await run(
    process.execPath,
    [
      join(PROJECT_ROOT, 'node_modules/vitest/vitest.mjs'),
      'run',
      '--config',
      'test/fixtures/failing-machine.vitest.config.ts',
    ],
    { cwd: PROJECT_ROOT, env: { ...env, NO_COLOR: '1', FORCE_COLOR: '0' } },
  ).then(
    () => undefined,
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

  expect(failed?.code).toBe(1);
  const output = `${failed?.stdout}${failed?.stderr}`;
  const where =
    'diagram of the path: test-results/machines/fixture-the-door-ends-open-not-closed-as-this-test-claims.md';
  // in the printed trace, and in the failure message itself
  expect(output).toContain(`transitions of door:\n  (start) --> closed\n  closed --OPEN--> open\n  ${where}`);
  expect(output).toMatch(
    new RegExp(`AssertionError: expected 'open' to be 'closed'.*\\n${where.replace(/[.]/g, '\\.')}`),
  );
  const written = await readFile(file, 'utf8');
  expect(written).toContain('1. closed --OPEN--> open');
  expect(written).toContain('  closed --> open: OPEN — taken at step 1\n');
  expect(written).toContain('  class closed visited\n  class open current\n');
}, 60_000);
