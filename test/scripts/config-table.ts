/** Renders the README's configuration table from the documented schema in src/config.ts. */
import type { DocumentedVariable } from '../../src/config.ts';

export const CONFIG_BEGIN = '<!-- config:begin -->';
export const CONFIG_END = '<!-- config:end -->';

/** A Markdown table, columns padded so that the source reads as a table too. */
export function renderConfigTable(variables: readonly DocumentedVariable[]): string {
  const header = ['variable', 'type', 'default', 'meaning'];
  const rows = variables.map(({ name, type, shown, meaning }) => [`\`${name}\``, type, shown, meaning]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  const rule = `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** The README with only the part between the config markers replaced; throws if the markers are missing. */
export function replaceConfigSection(readme: string, table: string): string {
  const begin = readme.indexOf(CONFIG_BEGIN);
  const end = readme.indexOf(CONFIG_END);
  if (begin === -1 || end < begin) throw new Error(`README.md needs ${CONFIG_BEGIN} … ${CONFIG_END} around the table`);
  return `${readme.slice(0, begin + CONFIG_BEGIN.length)}\n${table}\n${readme.slice(end)}`;
}
