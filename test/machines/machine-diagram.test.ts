import { describe, expect, it } from 'vitest';
import { fromPromise, setup } from 'xstate';
import { machineToMermaid, renderMachinesReadme } from '../../src/machine-diagram.ts';

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
    expect(diagram).toContain('healthy --> checking: CHECK_NOW');
    expect(diagram).toContain('healthy --> checking: after(checkInterval)');
    expect(diagram).toContain('checking --> healthy: done(check) [isAnswered]');
    expect(diagram).toContain('checking --> degraded: error(check)');
    expect(diagram).toContain('degraded__retrying --> degraded__waiting: always');
    expect(diagram).toContain('note right of checking: invokes check');
  });

  it('draws a transition of the whole machine from every state it can leave', () => {
    for (const state of ['checking', 'healthy', 'degraded']) expect(diagram).toContain(`${state} --> stopped: STOP`);
    expect(diagram).not.toContain('stopped --> stopped');
  });

  it('puts each machine in the README with its description', () => {
    const readme = renderMachinesReadme([{ title: 'Toy', file: 'machines/toy.machine.ts', machine: toy }]);
    expect(readme).toContain('## Toy');
    expect(readme).toContain('A toy supervisor.');
    expect(readme).toContain(`\`\`\`mermaid\n${diagram}\n\`\`\``);
  });
});
