/** `npm run readme:config`: rewrites the configuration table of README.md from the schema in src/config.ts. */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { documentedVariables } from '../../src/config.ts';
import { renderConfigTable, replaceConfigSection } from './config-table.ts';

const readmePath = fileURLToPath(new URL('../../README.md', import.meta.url));

const variables = documentedVariables();
writeFileSync(readmePath, replaceConfigSection(readFileSync(readmePath, 'utf8'), renderConfigTable(variables)));
console.log(`wrote the configuration table of ${readmePath}: ${variables.length} variables`);
