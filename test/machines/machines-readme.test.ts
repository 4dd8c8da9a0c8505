import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { documentedMachines } from '../../machines/index.ts';
import { renderMachinesReadme } from '../../src/web/machines/machine-diagram.ts';

const readmePath = new URL('../../machines/README.md', import.meta.url);

describe('machines/README.md', () => {
  it('is what `npm run machines:diagram` generates from the machines as they are', () => {
    const committed = readFileSync(readmePath, 'utf8');
    const generated = renderMachinesReadme(documentedMachines);

    expect(
      committed,
      'machines/README.md is stale: a machine changed since it was generated. Run `npm run machines:diagram` and commit machines/README.md.',
    ).toBe(generated);
  });

  it('shows every documented machine with a description and a diagram', () => {
    const generated = renderMachinesReadme(documentedMachines);
    for (const { title, machine } of documentedMachines) {
      expect(machine.root.description, title).toBeTruthy();
      expect(generated).toContain(`## ${title}`);
    }
    expect(generated.match(/```mermaid\nstateDiagram-v2\n/g)).toHaveLength(documentedMachines.length);
  });
});
