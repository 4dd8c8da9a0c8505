import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { documentedVariables } from '../../src/config.ts';
import { CONFIG_BEGIN, CONFIG_END, renderConfigTable, replaceConfigSection } from '../scripts/config-table.ts';

const readmePath = new URL('../../README.md', import.meta.url);
const srcDir = fileURLToPath(new URL('../../src/', import.meta.url));

/** Every `process.env.NAME` and `config.NAME` the production code mentions. */
function variablesReadBySrc(): Set<string> {
  const names = new Set<string>();
  for (const file of readdirSync(srcDir, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts')) continue;
    const text = readFileSync(`${srcDir}${file}`, 'utf8');
    for (const [, name] of text.matchAll(/\b(?:process\.env|config)\.([A-Z][A-Z0-9_]*)\b/g)) names.add(name!);
  }
  return names;
}

describe('README.md configuration table', () => {
  it('is what `npm run readme:config` generates from the schema in src/config.ts', () => {
    const committed = readFileSync(readmePath, 'utf8');
    const generated = replaceConfigSection(committed, renderConfigTable(documentedVariables()));

    expect(
      committed,
      'The configuration table of README.md is stale: src/config.ts changed since it was generated. Run `npm run readme:config` and commit README.md.',
    ).toBe(generated);
  });

  it('lists every variable the code reads, each with a type, a default and a meaning', () => {
    const documented = documentedVariables();
    const names = documented.map(({ name }) => name);

    expect([...variablesReadBySrc()].filter((name) => !names.includes(name))).toEqual([]);
    for (const row of documented) {
      expect(row.type, row.name).toBeTruthy();
      expect(row.shown, row.name).toBeTruthy();
      expect(row.meaning, row.name).toBeTruthy();
    }
  });

  it('replaces only the part between the markers', () => {
    const readme = `# title\n\nbefore\n${CONFIG_BEGIN}\nold table\n${CONFIG_END}\nafter\n`;

    const rewritten = replaceConfigSection(readme, '| new |');

    expect(rewritten).toBe(`# title\n\nbefore\n${CONFIG_BEGIN}\n| new |\n${CONFIG_END}\nafter\n`);
  });
});
