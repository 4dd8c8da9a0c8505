/** Formats benchmark figures as the Markdown table printed and written to test/bench/results/. */
import type { BenchFigure } from './bench-types.ts';

function formatNumber(value: number): string {
  if (value >= 1000) return Math.round(value).toLocaleString('en-US');
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** A Markdown table: figure, project, floor, ratio, goal, verdict, note. */
export function formatTable(figures: BenchFigure[]): string {
  const rows = figures.map((figure) => [
    figure.id,
    figure.figure,
    `${formatNumber(figure.project)} ${figure.unit}`,
    `${formatNumber(figure.floor)} ${figure.unit}`,
    `${figure.ratio.toFixed(2)}×`,
    figure.goal,
    figure.ok ? 'ok' : 'MISSED',
    figure.note ?? '',
  ]);
  const header = ['id', 'figure', 'project', 'floor', 'ratio', 'goal', 'verdict', 'note'];
  return [header, header.map(() => '---'), ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n');
}
