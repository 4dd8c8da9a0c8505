/** `npm run machines:diagram`: writes machines/README.md from the machine definitions. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { documentedMachines } from '../../machines/index.ts';
import { renderMachinesReadme } from '../../src/web/machines/machine-diagram.ts';

const machinesReadmePath = fileURLToPath(new URL('../../machines/README.md', import.meta.url));

const text = renderMachinesReadme(documentedMachines);
writeFileSync(machinesReadmePath, text);
console.log(`wrote ${machinesReadmePath}: ${documentedMachines.map(({ title }) => title).join(', ')}`);
