import { describe, expect, it } from 'vitest';
import { and, fromCallback, fromPromise, not, setup } from 'xstate';
import {
  guardName,
  machineGraph,
  machineToMermaid,
  renderMachinesReadme,
} from '../../src/web/machines/machine-diagram.ts';

const toy = setup({
  actors: { check: fromPromise(async () => 'ok') },
  guards: { isAnswered: () => true },
  delays: { checkInterval: 1_000 },
}).createMachine({
  id: 'toy',
  description: 'A toy supervisor.',
  initial: 'checking',
  on: { STOP: '.stopped' },
  states: {
    checking: {
      invoke: {
        src: 'check',
        id: 'check',
        onDone: [{ target: 'healthy', guard: 'isAnswered' }, { target: 'degraded' }],
        onError: 'degraded',
      },
    },
    healthy: { after: { checkInterval: 'checking' }, on: { CHECK_NOW: 'checking' } },
    degraded: {
      initial: 'waiting',
      states: { waiting: { on: { RETRY: 'retrying' } }, retrying: { always: 'waiting' } },
      after: { checkInterval: 'checking' },
    },
    stopped: { type: 'final' },
  },
});

/** Shaped like the connection machine: a composite state that invokes, is re-entered from inside, and whose children override its events. */
const socketLike = setup({
  actors: { client: fromCallback(() => {}) },
  guards: { quitting: () => true, sameServer: () => false, ready: () => true },
}).createMachine({
  id: 'socketLike',
  initial: 'socket',
  states: {
    socket: {
      invoke: { src: 'client', id: 'client', onError: 'waiting' },
      on: { 'LOST;<now>': 'waiting', CLOSED: 'waiting' },
      initial: 'opening',
      states: {
        opening: {
          on: {
            OPEN: { target: 'open', guard: and(['ready', not('quitting')]) },
            CONFIGURE: [{ guard: 'sameServer' }, { target: '#socketLike.socket', reenter: true }],
          },
        },
        open: { on: { QUIT: 'closing' } },
        closing: {
          on: { CLOSED: [{ guard: 'quitting', target: '#socketLike.done' }, { target: '#socketLike.socket' }] },
        },
      },
    },
    waiting: { on: { RETRY: 'socket' } },
    done: { type: 'final' },
  },
});

/** Mermaid lines that draw a transition (not `[*]` markers). */
const edges = (diagram: string) =>
  diagram
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => / --> /.test(line) && !line.includes('[*]'));

describe('machineToMermaid', () => {
  const diagram = machineToMermaid(toy);

  it('draws the initial state, nested states and final states', () => {
    expect(diagram.split('\n')[0]).toBe('stateDiagram-v2');
    expect(diagram).toContain('[*] --> checking');
    expect(diagram).toContain('state "degraded" as degraded {');
    expect(diagram).toContain('[*] --> degraded__waiting');
    expect(diagram).toContain('stopped --> [*]');
  });

  it('labels events, named delays, guards, invoked actors and eventless transitions', () => {
    expect(diagram).toContain('healthy --> checking: after(checkInterval), CHECK_NOW');
    expect(diagram).toContain('checking --> healthy: done(check) [isAnswered]');
    expect(diagram).toContain('checking --> degraded__waiting: done(check) [else], error(check)');
    expect(diagram).toContain('degraded__retrying --> degraded__waiting: always');
    expect(diagram).toContain('note right of checking: invokes check');
  });

  it('draws a transition of the whole machine from every state it can leave', () => {
    for (const state of ['checking', 'healthy', 'degraded__waiting', 'degraded__retrying']) {
      expect(diagram).toContain(`${state} --> stopped: STOP`);
    }
    expect(diagram).not.toContain('stopped --> stopped');
  });

  it('draws every transition between leaf states, after the declarations, as Mermaid needs', () => {
    for (const machine of [toy, socketLike]) {
      const text = machineToMermaid(machine);
      const composites = [...text.matchAll(/as (\w+) \{/g)].map((match) => match[1]);
      const lines = text.split('\n');
      const declarations = lines.map((line) => /^\s*(state |note |\}|\[\*\]|\w+ --> \[\*\])/.test(line));
      const lastDeclaration = declarations.lastIndexOf(true);
      for (const line of edges(text)) {
        const [source, target] = (line.split(':')[0] ?? '').split(' --> ');
        expect(composites, line).not.toContain(source);
        expect(composites, line).not.toContain(target);
        expect(lines.indexOf(`  ${line}`), line).toBeGreaterThan(lastDeclaration);
      }
    }
  });

  it('draws a composite state that is left and entered again as a move to its initial state, and says so', () => {
    const text = machineToMermaid(socketLike);
    expect(text).toContain('socket__opening --> socket__opening: CONFIGURE [else] (re-enters socket)');
    expect(text).toContain('socket__closing --> socket__opening: CLOSED [else] (re-enters socket)');
    expect(text).toContain('waiting --> socket__opening: RETRY');
    expect(text).toContain('note right of socket: invokes client');
  });

  it("leaves out a composite state's transition where a child always handles the event itself", () => {
    const text = machineToMermaid(socketLike);
    expect(text).toContain('socket__opening --> waiting: LOST,‹now›, CLOSED, error(client)');
    expect(text).toContain('socket__open --> waiting: LOST,‹now›, CLOSED, error(client)');
    expect(text).toContain('socket__closing --> waiting: LOST,‹now›, error(client)');
  });

  it('names guard combinators with the guards they combine', () => {
    expect(machineToMermaid(socketLike)).toContain(
      'socket__opening --> socket__open: OPEN [and(ready, not(quitting))]',
    );
    expect(guardName({ type: 'isHealthy', params: {} })).toBe('isHealthy');
    expect(guardName(undefined)).toBeUndefined();
  });

  it('highlights a path: visited states and the one it ended in by class, each taken edge with its steps', () => {
    const text = machineToMermaid(toy, {
      highlight: {
        visited: ['checking', 'healthy', 'checking'],
        current: ['degraded.waiting'],
        transitions: [
          { source: 'checking', target: 'healthy', event: 'done(check)' },
          { source: 'healthy', target: 'checking', event: 'CHECK_NOW' },
          { source: 'checking', target: 'degraded.waiting', event: 'error(check)' },
        ],
      },
    });

    expect(text).toContain('checking --> healthy: done(check) [isAnswered] — taken at step 1');
    expect(text).toContain('healthy --> checking: after(checkInterval), CHECK_NOW — taken at step 2');
    expect(text).toContain('checking --> degraded__waiting: done(check) [else], error(check) — taken at step 3');
    expect(text).toContain('degraded__waiting --> checking: after(checkInterval)\n');
    expect(text).toMatch(/\n {2}classDef visited [^\n]+\n {2}classDef current [^\n]+\n/);
    expect(text.split('\n').slice(-2)).toEqual([
      '  class checking, healthy visited',
      '  class degraded__waiting current',
    ]);
    expect(text).toContain('state "healthy (visited)" as healthy');
    expect(text).toContain('state "waiting (ended here)" as degraded__waiting');
    // the marks aside, it is the plain diagram
    const unmarked = text
      .replace(/ — taken at steps? [\d, ]+/g, '')
      .replace(/\n {2}class(Def)? .*/g, '')
      .replace(/ \((visited|ended here)\)"/g, '"');
    expect(unmarked).toBe(diagram);
  });

  it('marks the edge of a composite state left and entered again as taken, re-entry and all', () => {
    const text = machineToMermaid(socketLike, {
      highlight: {
        visited: ['socket.opening'],
        transitions: [{ source: 'socket.opening', target: 'socket.opening', event: 'CONFIGURE' }],
      },
    });

    expect(text).toContain(
      'socket__opening --> socket__opening: CONFIGURE [else] (re-enters socket) — taken at step 1',
    );
    expect(text).toContain('  class socket__opening visited');
    expect(text).toContain('state "opening (visited)" as socket__opening');
  });

  it('puts each machine in the README with its description', () => {
    const readme = renderMachinesReadme([{ title: 'Toy', file: 'machines/toy.machine.ts', machine: toy }]);
    expect(readme).toContain('## Toy');
    expect(readme).toContain('A toy supervisor.');
    expect(readme).toContain(`\`\`\`mermaid\n${diagram}\n\`\`\``);
  });
});

describe('machineGraph', () => {
  it('lists the states by their dotted path, and the same leaf-to-leaf transitions as the Mermaid diagram', () => {
    const graph = machineGraph(toy);

    expect(graph.states).toContainEqual({
      id: 'degraded.waiting',
      key: 'waiting',
      parent: 'degraded',
      type: 'atomic',
      initial: true,
      invokes: [],
    });
    expect(graph.states).toContainEqual(expect.objectContaining({ id: 'checking', initial: true, invokes: ['check'] }));
    expect(graph.transitions).toContainEqual({
      source: 'healthy',
      target: 'checking',
      label: 'after(checkInterval), CHECK_NOW',
    });
    expect(graph.transitions).toHaveLength(edges(machineToMermaid(toy)).length);
  });
});
