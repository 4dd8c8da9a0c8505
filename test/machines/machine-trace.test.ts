/** The path diagram a failing machine test leaves in test-results/machines/: recorded, rendered and written. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { createActor, type InspectionEvent, setup } from 'xstate';
import { pathDiagramFileName, pathRecorder, recordTransitions, writePathDiagram } from '../support/machine-trace.ts';
import { PROJECT_ROOT } from '../support/process.ts';
import { makeTempDir } from '../support/temp-dir.ts';

/** A door: a nested state, an eventless move and a named delay, as the real machines have. */
const door = setup({ delays: { autoClose: 1_000 } }).createMachine({
  id: 'door',
  initial: 'closed',
  states: {
    closed: { on: { OPEN: 'open' } },
    open: {
      initial: 'ajar',
      on: { SLAM: 'closed' },
      states: {
        ajar: { on: { PUSH: 'wide' } },
        wide: { always: 'swinging' },
        swinging: { after: { autoClose: '#door.closed' } },
      },
    },
    locked: {},
  },
});

/** The door opened, pushed wide (it swings on by itself), closed by its delay, then opened again. */
function walkTheDoor(inspect: (event: InspectionEvent) => void) {
  const actor = createActor(door, { inspect });
  actor.start();
  actor.send({ type: 'OPEN' });
  actor.send({ type: 'PUSH' });
  vi.advanceTimersByTime(1_000);
  actor.send({ type: 'OPEN' });
  return actor;
}

const EXPECTED = `# door > walks through the door

The path machine \`door\` took before the test failed, drawn on its diagram (generated from
the machine definition): the states it visited are marked \`(visited)\` and styled by the class \`visited\`,
the one it ended in \`(ended here)\` and \`current\`, and each transition it took says at which steps.

Started in \`closed\`.

1. closed --OPEN--> open.ajar
2. open.ajar --PUSH--> open.wide
3. open.wide --always--> open.swinging
4. open.swinging --after(autoClose)--> closed
5. closed --OPEN--> open.ajar

\`\`\`mermaid
stateDiagram-v2
  [*] --> closed
  state "closed (visited)" as closed
  state "open" as open {
    [*] --> open__ajar
    state "ajar (ended here)" as open__ajar
    state "wide (visited)" as open__wide
    state "swinging (visited)" as open__swinging
  }
  state "locked" as locked
  closed --> open__ajar: OPEN — taken at steps 1, 5
  open__ajar --> closed: SLAM
  open__wide --> closed: SLAM
  open__swinging --> closed: SLAM, after(autoClose) — taken at step 4
  open__ajar --> open__wide: PUSH — taken at step 2
  open__wide --> open__swinging: always — taken at step 3
  classDef visited fill:#fef3c7,stroke:#b45309,stroke-width:2px
  classDef current fill:#fde68a,stroke:#b91c1c,stroke-width:3px,font-weight:bold
  class closed, open__wide, open__swinging visited
  class open__ajar current
\`\`\`
`;

describe('the path diagram of a failing machine test', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes the recorded path, highlighted on the diagram from the machine definition, to a file named after the test', async () => {
    const dir = await makeTempDir('machine-trace');
    onTestFinished(dir.remove);
    const recorder = pathRecorder();
    walkTheDoor(recorder.inspect);

    const written = writePathDiagram('door > walks through the door', recorder.path, dir.path);

    const file = join(dir.path, 'door-walks-through-the-door.md');
    expect(join(PROJECT_ROOT, written)).toBe(file);
    expect(await readFile(file, 'utf8')).toBe(EXPECTED);
  });

  it('keeps the trace lines the tests assert on', () => {
    const trace = recordTransitions('door');
    walkTheDoor(trace.inspect);

    expect(trace.lines).toEqual([
      '(start) --> closed',
      'closed --OPEN--> open.ajar',
      'open.ajar --PUSH--> open.swinging',
      'open.swinging --after(autoClose)--> closed',
      'closed --OPEN--> open.ajar',
    ]);
  });

  it('names the file after the test, safely', () => {
    expect(pathDiagramFileName('ircConnection machine > backs off / up to the cap: 8 s')).toBe(
      'ircConnection-machine-backs-off-up-to-the-cap-8-s.md',
    );
    expect(pathDiagramFileName('../../etc/passwd')).toBe('etc-passwd.md');
    expect(pathDiagramFileName('x'.repeat(400))).toHaveLength(153);
  });
});
